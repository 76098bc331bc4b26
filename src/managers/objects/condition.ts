// The server side of SyncManager.Condition, over a server Lock or RLock (a fresh RLock by default).
import { ErrorCodes, StateError } from "../../errors.js";
import { caller } from "../call-context.js";
import { deadlineOf } from "./changed.js";
import { ServerRLock, type ConditionLock } from "./lock.js";

export class ServerCondition {
  readonly #lock: ConditionLock;
  #waiters: (() => void)[] = [];

  constructor(lock?: ConditionLock) {
    this.#lock = lock ?? new ServerRLock();
  }

  acquire(options?: { block?: boolean; timeout?: number }): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  release(): void {
    this.#lock.release();
  }

  #checkOwned(conn: number, what: string): void {
    if (!this.#lock.isOwnedBy(conn)) throw new StateError(`cannot ${what} on an un-acquired lock`, { code: ErrorCodes.NOT_HELD });
  }

  /** Releases the lock, waits for a notify (true) or the timeout (false), then takes the lock back. */
  async wait(options?: { timeout?: number }): Promise<boolean> {
    const { conn, signal } = caller();
    const deadline = deadlineOf(options);
    this.#checkOwned(conn, "wait");
    const saved = this.#lock.releaseAll(conn);
    const notified = await new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (value: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        resolve(value);
      };
      const wake = () => finish(true);
      const onAbort = () => finish(false);
      this.#waiters.push(wake);
      signal.addEventListener("abort", onAbort, { once: true });
      if (deadline !== undefined) timer = setTimeout(() => finish(false), deadline - Date.now());
    });
    await this.#lock.restore(conn, saved, signal);
    return notified;
  }

  notify(n = 1): void {
    this.#checkOwned(caller().conn, "notify");
    for (const wake of this.#waiters.slice(0, n)) wake();
  }

  notifyAll(): void {
    this.notify(this.#waiters.length);
  }
}
