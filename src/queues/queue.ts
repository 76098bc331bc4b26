// Queue: Python's multiprocessing.Queue over shared memory (core.ts). Any number of producers and
// consumers in any processes and threads; pass the queue in Process args, queue items or pipe
// messages. Items travel with dumps/loads; one larger than a quarter of the data area (or 1 MiB
// and more) travels through a segment of its own.
//
// Where Python and this differ (docs/design.md): items live in shared memory, not in a feeder
// thread's buffer, so a put returns once the item is in the queue and a producer that dies
// afterwards loses nothing; the flip side is that an unbounded queue holds at most `capacity`
// bytes (default 256 KiB) and put waits for room beyond that. close() is local to this object, as
// in Python, and also stops this object's pending waits.
import { ArgumentError, ErrorCodes, ProcessError } from "../errors.js";
import { collectAbandons, kReduce, registerHandleType, type Reduced, type Transport } from "../transport/handles.js";
import { dumps, loads, loadsAsync } from "../transport/serialize.js";
import { checkInteger, checkOptions, checkSignal, checkTimeout, describe } from "../validate.js";
import { QueueCore, type CoreState } from "./core.js";
import type { WaitSpec } from "./doorbells.js";
import { checkCapacity, QueueKind, W } from "./queue-segment.js";

/**
 * Options of `new Queue({...})`: `maxsize` (0, the default, means no limit).
 *
 * @example
 * ```ts
 * import { Queue } from "multiproc";
 * const q = new Queue<string>({ maxsize: 100 }); // put() waits while 100 items are queued
 * ```
 */
export interface QueueOptions {
  /** The most items the queue holds at once; 0 (the default) means no limit but `capacity`. */
  maxsize?: number;
  /** Bytes of shared memory for the items (default 256 KiB). Larger items travel out of line. */
  capacity?: number;
}

/**
 * Options of Queue.put: `block: false` throws Full at once instead of waiting; `timeout` in ms; an AbortSignal.
 *
 * @example
 * ```ts
 * import { Queue } from "multiproc";
 * const q = new Queue<number>({ maxsize: 1 });
 * await q.put(1);
 * await q.put(2, { timeout: 100 }).catch((err) => console.log(err.code)); // "ERR_QUEUE_FULL"
 * ```
 */
export interface PutOptions {
  /** false: never wait (Full at once if there is no room). Default true. */
  block?: boolean;
  /** Milliseconds to wait for room; Full after. Default: no limit. */
  timeout?: number;
  signal?: AbortSignal;
}

/**
 * Options of Queue.get: `block: false` throws Empty at once instead of waiting; `timeout` in ms; an AbortSignal.
 *
 * @example
 * ```ts
 * import { Queue } from "multiproc";
 * const q = new Queue<number>();
 * await q.get({ timeout: 100 }).catch((err) => console.log(err.code)); // "ERR_QUEUE_EMPTY"
 * ```
 */
export interface GetOptions {
  /** false: never wait (Empty at once if there is no item). Default true. */
  block?: boolean;
  /** Milliseconds to wait for an item; Empty after. Default: no limit. */
  timeout?: number;
  signal?: AbortSignal;
}

/**
 * Options of Queue.putSync (PutOptions without the signal: a blocking call cannot be aborted).
 *
 * @example
 * ```ts
 * import { Queue } from "multiproc";
 * const q = new Queue<number>({ maxsize: 1 });
 * q.putSync(1, { timeout: 100 });
 * ```
 */
export type SyncPutOptions = Omit<PutOptions, "signal">;
/**
 * Options of Queue.getSync (GetOptions without the signal: a blocking call cannot be aborted).
 *
 * @example
 * ```ts
 * import { Queue } from "multiproc";
 * const q = new Queue<number>();
 * q.putSync(1);
 * console.log(q.getSync({ timeout: 100 })); // 1
 * ```
 */
export type SyncGetOptions = Omit<GetOptions, "signal">;

const DEFAULT_SPEC: WaitSpec = Object.freeze({ block: true, timeout: undefined, signal: undefined });

export function waitSpec(options: unknown): WaitSpec {
  if (options === undefined) return DEFAULT_SPEC;
  const opts = checkOptions(options);
  const block = opts.block ?? true;
  if (typeof block !== "boolean") throw new ArgumentError(`block must be a boolean, got ${describe(block)}`, ErrorCodes.INVALID_ARG_TYPE);
  return { block, timeout: checkTimeout(opts.timeout), signal: checkSignal(opts.signal) };
}

/** What a queue class needs to know about the queue it creates. */
export interface QueueClassSpec {
  kind: QueueKind;
  joinable: boolean;
}

interface QueueState {
  cls: string;
  core: CoreState;
}

// Revival: a received queue is rebuilt as the class it was sent as, around the received core.
const classes = new Map<string, (core: QueueCore) => object>();
let adopting: QueueCore | undefined;

/** Makes a queue class revivable under `name`; `make` constructs it (adopt() hands it the core). */
export function registerQueueClass(name: string, make: () => object): void {
  classes.set(name, (core) => {
    adopting = core;
    try {
      return make();
    } finally {
      adopting = undefined;
    }
  });
}

registerHandleType("Queue", (raw) => {
  const s = raw as QueueState;
  const make = classes.get(s.cls);
  if (make === undefined) throw new ArgumentError(`received a queue of unknown class '${s.cls}'`, ErrorCodes.UNSERIALIZABLE);
  return make(QueueCore.revive(s.core));
});

/** The core a constructor should adopt instead of creating one (set while reviving). */
export function adoptedCore(): QueueCore | undefined {
  const core = adopting;
  adopting = undefined;
  return core;
}

/** Creates the core of a new queue from a constructor's options (a number is maxsize). */
export function createCore(options: unknown, spec: QueueClassSpec): QueueCore {
  const opts = typeof options === "number" ? { maxsize: options } : checkOptions(options);
  const maxsize = checkInteger(opts.maxsize ?? 0, "maxsize", 0, 2 ** 31 - 1);
  const capacity = checkCapacity(opts.capacity);
  return QueueCore.create({ kind: spec.kind, joinable: spec.joinable, maxsize, capacity });
}

/** Serialises an item; `undo` gives up what live objects inside reserved, should the put fail. */
export function encode(item: unknown): [Uint8Array, () => void] {
  if (typeof item !== "object" || item === null) return [dumps(item), nothing]; // no live object inside
  return collectAbandons(() => dumps(item));
}

const nothing = (): void => undefined;

/**
 * A FIFO queue shared by any number of producers and consumers in any processes and threads (Python's `multiprocessing.Queue`). Blocking calls return Promises; `putSync`/`getSync` block, for workers.
 *
 * @example
 * ```ts
 * import { isMainProcess, Process, Queue } from "multiproc";
 *
 * export async function producer(q: Queue<number[]>) {
 *   await q.put([1, 2, 3]);
 * }
 *
 * if (isMainProcess()) {
 *   const q = new Queue<number[]>({ maxsize: 10 });
 *   new Process({ target: producer, args: [q] }).start();
 *   console.log(await q.get({ timeout: 5000 })); // [ 1, 2, 3 ]
 *   for await (const item of q) break; // queues are async iterables too
 * }
 * ```
 */
export class Queue<T = unknown> implements AsyncIterable<T>, Disposable, AsyncDisposable {
  /** @internal */
  protected readonly core: QueueCore;

  constructor(options?: QueueOptions | number) {
    this.core = adoptedCore() ?? createCore(options, this.classSpec());
  }

  /** @internal The kind of queue this class makes. */
  protected classSpec(): QueueClassSpec {
    return { kind: QueueKind.Fifo, joinable: false };
  }

  /** @internal The name this class is revived under. */
  protected className(): string {
    return "Queue";
  }

  /** @internal The priority of an item (PriorityQueue). */
  protected priorityOf(_item: T): number {
    return 0;
  }

  /** The most items the queue holds at once (0: no limit but its capacity in bytes). */
  get maxsize(): number {
    return this.core.seg.maxsize;
  }

  /** Puts an item, waiting for room if the queue is full (Full after `timeout` ms, or at once with `block: false`). */
  async put(item: T, options?: PutOptions): Promise<void> {
    const spec = waitSpec(options);
    this.core.checkOpen();
    const priority = this.priorityOf(item);
    const [payload, undo] = encode(item);
    const queued = this.core.item(payload, priority);
    try {
      // Fast path: room now and the lock free, nothing to wait for.
      if (spec.signal?.aborted === true || !this.core.tryPut(queued)) await this.core.put(queued, spec);
    } catch (err) {
      this.core.drop(queued);
      undo();
      throw err;
    }
  }

  /** Takes the next item, waiting if the queue is empty (Empty after `timeout` ms, or at once with `block: false`). */
  async get(options?: GetOptions): Promise<T> {
    const spec = waitSpec(options);
    // Fast path: an item now and the lock free, nothing to wait for.
    const bytes = (spec.signal?.aborted === true ? undefined : this.core.tryTake()) ?? (await this.core.take(spec));
    return (bytes[0] === 1 ? await loadsAsync(bytes) : loads(bytes)) as T;
  }

  /** put() for code that may block its thread (worker code). */
  putSync(item: T, options?: SyncPutOptions): void {
    const spec = waitSpec(options);
    this.core.checkOpen();
    const priority = this.priorityOf(item);
    const [payload, undo] = encode(item);
    try {
      this.core.putSync(this.core.item(payload, priority), spec);
    } catch (err) {
      undo();
      throw err;
    }
  }

  /** get() for code that may block its thread (worker code). */
  getSync(options?: SyncGetOptions): T {
    return loads(this.core.takeSync(waitSpec(options))) as T;
  }

  /** Puts without waiting; throws Full if there is no room. */
  putNowait(item: T): void {
    this.putSync(item, { block: false });
  }

  /** Takes without waiting; throws Empty if there is no item. */
  getNowait(): T {
    return this.getSync({ block: false });
  }

  /** How many items are in the queue now (other processes may change it at any moment). */
  qsize(): number {
    return Atomics.load(this.core.words, W.COUNT);
  }

  /** Whether the queue is empty now (another process may change that at once). */
  empty(): boolean {
    return this.qsize() === 0;
  }

  /** Whether the queue holds `maxsize` items now. */
  full(): boolean {
    return this.maxsize > 0 && this.qsize() >= this.maxsize;
  }

  /** Whether close() was called on this object. */
  get closed(): boolean {
    return this.core.closed;
  }

  /**
   * Stops using the queue in this process (other processes are not affected): later calls throw
   * ERR_CLOSED and pending waits of this object reject with it. Items already put stay in the queue.
   */
  close(): void {
    this.core.close();
  }

  /** Python compatibility: there is no feeder thread, every put has finished when it resolves. */
  async joinThread(): Promise<void> {
    return Promise.resolve();
  }

  /** Python compatibility: nothing to cancel (no feeder thread). */
  cancelJoinThread(): void {}

  /** Yields items as they come, until this object is closed. */
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
    const state: QueueState = { cls: this.className(), core: this.core.reduce(transport) };
    return { type: "Queue", state };
  }

  toString(): string {
    const size = this.core.closed ? "closed" : `size=${this.qsize()}`;
    return `<${this.className()} ${this.core.seg.segment.name} maxsize=${this.maxsize} ${size}>`;
  }
}

registerQueueClass("Queue", () => new Queue());
