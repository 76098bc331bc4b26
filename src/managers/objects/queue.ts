// The server side of SyncManager.Queue and JoinableQueue (CPython serves queue.Queue). Blocking
// puts and gets wait here, in the server, without holding up other calls; a waiter whose
// connection closes leaves the queue untouched (it never takes an item it cannot deliver).
import { Empty, ErrorCodes, Full, StateError } from "../../errors.js";
import { checkInteger } from "../../validate.js";
import { caller } from "../call-context.js";
import { blockOptions, Changed, deadlineOf } from "./changed.js";

export class ServerQueue {
  readonly maxsize: number;
  #items: unknown[] = [];
  #head = 0;
  protected readonly changed = new Changed();

  constructor(maxsize = 0) {
    this.maxsize = checkInteger(maxsize, "maxsize");
  }

  qsize(): number {
    return this.#items.length - this.#head;
  }

  empty(): boolean {
    return this.qsize() === 0;
  }

  full(): boolean {
    return this.maxsize > 0 && this.qsize() >= this.maxsize;
  }

  protected onPut(): void {}

  async put(item: unknown, options?: { block?: boolean; timeout?: number }): Promise<void> {
    const { signal } = caller();
    const { block, deadline } = blockOptions(options);
    while (this.full()) {
      if (!block) throw new Full();
      if (!(await this.changed.wait(deadline, signal)) && this.full()) throw new Full();
    }
    this.#items.push(item);
    this.onPut();
    this.changed.notifyAll();
  }

  putNowait(item: unknown): Promise<void> {
    return this.put(item, { block: false });
  }

  async get(options?: { block?: boolean; timeout?: number }): Promise<unknown> {
    const { signal } = caller();
    const { block, deadline } = blockOptions(options);
    while (this.empty()) {
      if (!block) throw new Empty();
      if (!(await this.changed.wait(deadline, signal)) && this.empty()) throw new Empty();
    }
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.changed.notifyAll();
    return item;
  }

  getNowait(): Promise<unknown> {
    return this.get({ block: false });
  }
}

export class ServerJoinableQueue extends ServerQueue {
  #unfinished = 0;

  protected override onPut(): void {
    this.#unfinished++;
  }

  taskDone(): void {
    if (this.#unfinished <= 0) {
      throw new StateError("taskDone() called more times than there were items", { code: ErrorCodes.NOT_HELD });
    }
    this.#unfinished--;
    if (this.#unfinished === 0) this.changed.notifyAll();
  }

  /** Resolves when every item put has been marked done (true), or false at the timeout. */
  async join(options?: { timeout?: number }): Promise<boolean> {
    const { signal } = caller();
    const deadline = deadlineOf(options);
    while (this.#unfinished > 0) {
      if (!(await this.changed.wait(deadline, signal)) && this.#unfinished > 0) return false;
    }
    return true;
  }
}
