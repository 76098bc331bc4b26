// Semaphore and BoundedSemaphore shared by processes and threads (Python's multiprocessing ones).
//
// Words: [0] the count, [1] how many waiters may be asleep (so release() only makes a wake-up
// call when someone sleeps), [2] the bound (-1 for an unbounded Semaphore). acquire is a CAS
// count -> count - 1; a waiter that finds 0 announces itself in word 1 and sleeps on word 0
// while it holds 0; release adds 1 and wakes one sleeper. A waiter that gives up (timeout,
// abort) after a release chose it passes the wake-up on, so none is lost.
//
// A count held by a process that dies is not given back: a semaphore has no owner, so the
// holder of "one unit" cannot be told apart from the others (CPython's cannot either). Waiters
// are not stuck forever for all that: every wait takes a timeout and an AbortSignal.
import { throwIfAborted } from "../abort.js";
import { ArgumentError, ErrorCodes, StateError } from "../errors.js";
import { waiter } from "../native/wait.js";
import { Block, closedError, type BlockHandle } from "../shared/block.js";
import { kReduce, registerHandleType, type Reduced, type Transport } from "../transport/handles.js";
import { checkInteger, checkOptions } from "../validate.js";
import { holdTimeout, makeGuard, parseAcquire, type AcquireOptions, type AcquireSyncOptions, type Guard, type HoldOptions } from "./hold.js";

const COUNT = 0;
const SLEEPERS = 1;
const BOUND = 2;
const MAX = 0x7fffffff;

interface SemaphoreState {
  block: BlockHandle;
}

let adopting: Block | undefined;

function tryTake(words: Int32Array): boolean {
  let c = Atomics.load(words, COUNT);
  while (c > 0) {
    const seen = Atomics.compareExchange(words, COUNT, c, c - 1);
    if (seen === c) return true;
    c = seen;
  }
  return false;
}

/** After giving up: if a unit is free and others sleep, the wake-up this waiter took goes on. */
function passOn(words: Int32Array): void {
  if (Atomics.load(words, COUNT) > 0 && Atomics.load(words, SLEEPERS) > 0) waiter().wake(words, COUNT, 1);
}

/**
 * A counting semaphore shared by processes and threads (Python's `multiprocessing.Semaphore`).
 *
 * @example
 * ```ts
 * import { Semaphore } from "multiproc";
 * const slots = new Semaphore(3); // three holders at a time
 * await using _ = await slots.hold();
 * ```
 */
export class Semaphore implements Disposable {
  readonly #block: Block;
  readonly #words: Int32Array;
  #closed = false;

  constructor(value = 1) {
    const received = adopting;
    adopting = undefined;
    if (received !== undefined) {
      this.#block = received;
      this.#words = received.words;
      return;
    }
    checkInteger(value, "value", 0, MAX);
    this.#block = Block.create(12, this);
    this.#words = this.#block.words;
    this.#words[COUNT] = value;
    this.#words[BOUND] = this.bounded ? value : -1;
  }

  /** False for Semaphore, true for BoundedSemaphore. */
  protected get bounded(): boolean {
    return false;
  }

  /** @internal */
  protected get kind(): string {
    return "Semaphore";
  }

  #check(): void {
    if (this.#closed) throw closedError(this.kind);
  }

  /** The current count (Python's get_value()). */
  getValue(): number {
    this.#check();
    return Atomics.load(this.#words, COUNT);
  }

  /** Takes one unit: true, or false after `timeout` ms (or at once with block: false). */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    const { block, timeout, signal } = parseAcquire(options);
    this.#check();
    throwIfAborted(signal);
    const words = this.#words;
    if (tryTake(words)) return true;
    if (!block || timeout === 0) return false;
    const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
    for (;;) {
      Atomics.add(words, SLEEPERS, 1);
      try {
        const left = deadline - performance.now();
        await waiter().waitAsync(words, COUNT, 0, { timeout: deadline === Infinity ? undefined : Math.max(0, left), signal });
      } catch (err) {
        Atomics.sub(words, SLEEPERS, 1);
        passOn(words);
        throw err;
      }
      Atomics.sub(words, SLEEPERS, 1);
      if (tryTake(words)) return true;
      if (performance.now() >= deadline) {
        passOn(words);
        return false;
      }
    }
  }

  /** The blocking twin of acquire(). */
  acquireSync(options?: AcquireSyncOptions): boolean {
    const { block, timeout } = parseAcquire(options);
    this.#check();
    const words = this.#words;
    if (tryTake(words)) return true;
    if (!block || timeout === 0) return false;
    const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
    for (;;) {
      Atomics.add(words, SLEEPERS, 1);
      waiter().wait(words, COUNT, 0, deadline === Infinity ? undefined : Math.max(0, deadline - performance.now()));
      Atomics.sub(words, SLEEPERS, 1);
      if (tryTake(words)) return true;
      if (performance.now() >= deadline) {
        passOn(words);
        return false;
      }
    }
  }

  /**
   * Gives one unit back (any process or thread may). A BoundedSemaphore throws
   * ERR_RELEASED_TOO_MANY instead of going above its start value.
   */
  release(): void {
    this.#check();
    const words = this.#words;
    const bound = Atomics.load(words, BOUND);
    const limit = bound < 0 ? MAX : bound;
    let c = Atomics.load(words, COUNT);
    for (;;) {
      if (c >= limit) {
        throw new StateError(
          bound < 0 ? `a Semaphore cannot count above ${MAX}` : `BoundedSemaphore released too many times (its start value is ${bound})`,
          { code: ErrorCodes.RELEASED_TOO_MANY },
        );
      }
      const seen = Atomics.compareExchange(words, COUNT, c, c + 1);
      if (seen === c) break;
      c = seen;
    }
    if (Atomics.load(words, SLEEPERS) > 0) waiter().wake(words, COUNT, 1);
  }

  /** `await using _ = await sem.hold()`: takes a unit and gives it back at the end of the scope. */
  async hold(options?: HoldOptions): Promise<Guard> {
    const opts = checkOptions(options) as HoldOptions;
    if (!(await this.acquire({ timeout: opts.timeout, signal: opts.signal }))) throw holdTimeout(this.kind, opts.timeout);
    return makeGuard(() => this.release(), false);
  }

  /** `using _ = sem.holdSync()`. */
  holdSync(options?: Omit<HoldOptions, "signal">): Guard {
    const opts = checkOptions(options) as HoldOptions;
    if (!this.acquireSync({ timeout: opts.timeout })) throw holdTimeout(this.kind, opts.timeout);
    return makeGuard(() => this.release(), false);
  }

  /** Stops using it here; the last holder in any process frees its memory (see shared/block.ts). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#block.release();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [kReduce](transport: Transport): Reduced {
    this.#check();
    return { type: this.kind, state: { block: this.#block.handle(transport) } satisfies SemaphoreState };
  }

  toString(): string {
    return `<${this.kind} value=${Atomics.load(this.#words, COUNT)}${this.bounded ? ` maxvalue=${this.#words[BOUND]}` : ""}>`;
  }

  /** @internal */
  static adopt(state: unknown): void {
    const handle = (state as Partial<SemaphoreState> | null)?.block;
    if (handle === undefined) throw new ArgumentError("malformed Semaphore handle", ErrorCodes.UNSERIALIZABLE);
    adopting = Block.fromHandle(handle);
  }
}

/**
 * A Semaphore that refuses to be released above its start value (Python's BoundedSemaphore).
 *
 * @example
 * ```ts
 * import { BoundedSemaphore } from "multiproc";
 * const sem = new BoundedSemaphore(1);
 * await sem.acquire();
 * sem.release();
 * try { sem.release(); } catch (err) { console.log((err as { code: string }).code); } // "ERR_RELEASED_TOO_MANY"
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  protected override get bounded(): boolean {
    return true;
  }

  /** @internal */
  protected override get kind(): string {
    return "BoundedSemaphore";
  }
}

registerHandleType("Semaphore", (state) => {
  Semaphore.adopt(state);
  return new Semaphore();
});
registerHandleType("BoundedSemaphore", (state) => {
  Semaphore.adopt(state);
  return new BoundedSemaphore();
});
