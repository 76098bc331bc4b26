// SimpleQueue: Python's multiprocessing.SimpleQueue, an unbounded FIFO with only put, get, empty
// and close. Same shared-memory queue as Queue underneath, so it crosses processes the same way.
import { kReduce, type Reduced, type Transport } from "../transport/handles.js";
import { loads, loadsAsync } from "../transport/serialize.js";
import { ErrorCodes, ProcessError } from "../errors.js";
import type { QueueCore } from "./core.js";
import { QueueKind, W } from "./queue-segment.js";
import { adoptedCore, createCore, encode, registerQueueClass, waitSpec } from "./queue.js";

/**
 * Options of `new SimpleQueue({...})`.
 *
 * @example
 * ```ts
 * import { SimpleQueue, type SimpleQueueOptions } from "multiproc";
 * const options: SimpleQueueOptions = {};
 * const q = new SimpleQueue<string>(options);
 * ```
 */
export interface SimpleQueueOptions {
  /** Bytes of shared memory for the items (default 256 KiB); put waits for room beyond it. */
  capacity?: number;
}

/**
 * A queue with only put, get, empty and close (Python's `multiprocessing.SimpleQueue`).
 *
 * @example
 * ```ts
 * import { SimpleQueue } from "multiproc";
 * const q = new SimpleQueue<string>();
 * await q.put("job");
 * console.log(await q.get(), q.empty()); // job true
 * ```
 */
export class SimpleQueue<T = unknown> implements AsyncIterable<T>, Disposable, AsyncDisposable {
  readonly #core: QueueCore;

  constructor(options?: SimpleQueueOptions) {
    this.#core = adoptedCore() ?? createCore({ capacity: options?.capacity }, { kind: QueueKind.Fifo, joinable: false });
  }

  /** Adds `item` at the end. */
  async put(item: T, options?: { signal?: AbortSignal }): Promise<void> {
    const spec = waitSpec(options);
    this.#core.checkOpen();
    const [payload, undo] = encode(item);
    try {
      await this.#core.put(this.#core.item(payload), spec);
    } catch (err) {
      undo();
      throw err;
    }
  }

  /** Removes and returns the oldest item, waiting while there is none. */
  async get(options?: { signal?: AbortSignal }): Promise<T> {
    return (await loadsAsync(await this.#core.take(waitSpec(options)))) as T;
  }

  /** put() that blocks this thread (for workers allowed to block). */
  putSync(item: T): void {
    this.#core.checkOpen();
    const [payload, undo] = encode(item);
    try {
      this.#core.putSync(this.#core.item(payload), { block: true, timeout: undefined });
    } catch (err) {
      undo();
      throw err;
    }
  }

  /** get() that blocks this thread (for workers allowed to block). */
  getSync(): T {
    return loads(this.#core.takeSync({ block: true, timeout: undefined })) as T;
  }

  /** Whether the queue is empty now. */
  empty(): boolean {
    return Atomics.load(this.#core.words, W.COUNT) === 0;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#core.closed;
  }

  /** Closes this process's handle of the queue. */
  close(): void {
    this.#core.close();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      let item: T;
      try {
        item = await this.get();
      } catch (err) {
        if (err instanceof ProcessError && err.code === ErrorCodes.CLOSED) return;
        throw err;
      }
      yield item;
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  [kReduce](transport: Transport): Reduced {
    return { type: "Queue", state: { cls: "SimpleQueue", core: this.#core.reduce(transport) } };
  }

  toString(): string {
    return `<SimpleQueue ${this.#core.seg.segment.name}${this.closed ? " closed" : ""}>`;
  }
}

registerQueueClass("SimpleQueue", () => new SimpleQueue());
