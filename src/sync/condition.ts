// Condition: wait for a change announced by another process or thread, under a shared lock
// (Python's multiprocessing.Condition; the lock is a new RLock unless one is given).
//
// Each waiter takes a slot in a table in shared memory: [state, seq, pid, -]. State 1 = waiting,
// 2 = notified, 0 = free. The table only changes while the condition's lock is held (a waiter
// claims and frees its slot holding it; notify marks slots holding it), so only the state word,
// which a waiter sleeps on after releasing the lock, needs atomics. notify(n) marks the n oldest
// waiters and wakes exactly them: no spurious wake-ups, and notify never waits for the woken
// (CPython's notify does, which a single JS thread could not). A waiter whose process died is
// skipped and its slot reclaimed. Slots hold the kernel's thread id (see mutex.ts), so a terminated
// waiting thread is skipped the same way (without the native addon, only whole processes are).
import { AbortError } from "../abort.js";
import { ArgumentError, ErrorCodes, StateError } from "../errors.js";
import { waiter } from "../native/wait.js";
import { pidAlive } from "../runtime.js";
import { Block, closedError, type BlockHandle } from "../shared/block.js";
import { kReduce, registerHandleType, type Reduced, type Transport } from "../transport/handles.js";
import { checkInteger, checkOptions, checkSignal, checkTimeout, describe } from "../validate.js";
import { isInternalLock, kOwned, kReleaseAll, kRestore, kRestoreSync, type AcquireOptions, type AcquireSyncOptions, type Guard, type HoldOptions } from "./hold.js";
import type { Lock } from "./lock.js";
import { SELF } from "./mutex.js";
import { RLock } from "./rlock.js";

const NEXT_SEQ = 0;
const HIGH = 1; // slots [0, HIGH) may be in use
const WAITING = 2; // slots in use
const HEADER = 4;
const SLOT = 4;
const SLOTS = 1022; // 16 KiB with the header and the arena block's own (shared/arena.ts)
const FREE = 0;
const ASLEEP = 1;
const NOTIFIED = 2;
const me = SELF; // see mutex.ts: the thread id, so dead threads are seen too

/**
 * Options of Condition.wait and waitFor: a timeout (ms) and an AbortSignal.
 *
 * @example
 * ```ts
 * import { Condition } from "multiproc";
 * const cond = new Condition();
 * await cond.acquire();
 * const notified = await cond.wait({ timeout: 100 }); // false: nobody notified
 * cond.release();
 * ```
 */
export interface ConditionWaitOptions {
  /** Milliseconds; without it, wait until notified. */
  timeout?: number;
  /** Stops the wait; the lock is taken back before the promise rejects with AbortError. */
  signal?: AbortSignal;
}

interface ConditionState {
  block: BlockHandle;
  lock: Lock | RLock;
}

let adopting: { block: Block; lock: Lock | RLock } | undefined;

/**
 * A condition variable shared by processes (Python's `multiprocessing.Condition`): wait for a change under a lock, notify the waiters.
 *
 * @example
 * ```ts
 * import { Condition, Value } from "multiproc";
 * const cond = new Condition();
 * const ready = new Value("i", 0);
 * // a consumer:
 * await cond.acquire();
 * try {
 *   await cond.waitFor(() => ready.value === 1, { timeout: 5000 });
 * } finally { cond.release(); }
 * // a producer, elsewhere: await cond.acquire(); ready.value = 1; cond.notifyAll(); cond.release();
 * ```
 */
export class Condition implements Disposable {
  readonly #block: Block;
  readonly #words: Int32Array;
  readonly #lock: Lock | RLock;
  readonly #ownLock: boolean;
  #closed = false;

  constructor(lock?: Lock | RLock) {
    if (adopting !== undefined) {
      ({ block: this.#block, lock: this.#lock } = adopting);
      adopting = undefined;
      this.#ownLock = false;
    } else {
      if (lock !== undefined && lock !== null && !isInternalLock(lock)) {
        throw new ArgumentError(`lock must be a multiproc Lock or RLock, got ${describe(lock)}`, ErrorCodes.INVALID_ARG_TYPE);
      }
      this.#ownLock = lock === undefined || lock === null;
      this.#lock = lock ?? new RLock();
      this.#block = Block.create((HEADER + SLOT * SLOTS) * 4, this);
    }
    this.#words = this.#block.words;
  }

  #check(): void {
    if (this.#closed) throw closedError("Condition");
  }

  #checkOwned(what: string): void {
    this.#check();
    if (!this.#lock[kOwned]()) {
      throw new StateError(`cannot ${what} on an un-acquired lock: acquire the condition's lock first`, { code: ErrorCodes.NOT_HELD });
    }
  }

  /** The lock this condition waits under. */
  get lock(): Lock | RLock {
    return this.#lock;
  }

  /** Acquires the underlying lock. */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  /** acquire() that blocks this thread (for workers allowed to block). */
  acquireSync(options?: AcquireSyncOptions): boolean {
    return this.#lock.acquireSync(options);
  }

  /** Releases the underlying lock. */
  release(): void {
    this.#lock.release();
  }

  /** `await using _ = await cond.hold()`: holds the condition's lock for the scope. */
  hold(options?: HoldOptions): Promise<Guard> {
    return this.#lock.hold(options);
  }

  /** acquireSync() returning a guard for `using`. */
  holdSync(options?: Omit<HoldOptions, "signal">): Guard {
    return this.#lock.holdSync(options);
  }

  // ---- the slot table (every function below runs with the lock held) ----

  #claim(): number {
    const words = this.#words;
    const high = words[HIGH]!;
    for (let i = 0; i < high; i++) {
      if (words[HEADER + SLOT * i] === FREE) return this.#fill(i);
    }
    if (high < SLOTS) {
      words[HIGH] = high + 1;
      return this.#fill(high);
    }
    // Full: reclaim the slots of waiters whose process died, then try once more.
    for (let i = 0; i < high; i++) {
      const at = HEADER + SLOT * i;
      const pid = words[at + 2]!;
      if (words[at] === ASLEEP && pid !== me && !pidAlive(pid)) {
        this.#free(i);
        return this.#fill(i);
      }
    }
    throw new StateError(`more than ${SLOTS} waiters on one Condition`, { code: ErrorCodes.TOO_MANY_WAITERS });
  }

  #fill(i: number): number {
    const words = this.#words;
    const at = HEADER + SLOT * i;
    words[at + 1] = words[NEXT_SEQ]!;
    words[NEXT_SEQ] = (words[NEXT_SEQ]! + 1) | 0;
    words[at + 2] = me;
    words[WAITING] = words[WAITING]! + 1;
    Atomics.store(words, at, ASLEEP);
    return i;
  }

  #free(i: number): void {
    const words = this.#words;
    Atomics.store(words, HEADER + SLOT * i, FREE);
    words[WAITING] = words[WAITING]! - 1;
    let high = words[HIGH]!;
    while (high > 0 && words[HEADER + SLOT * (high - 1)] === FREE) high--;
    words[HIGH] = high;
  }

  /** Marks and wakes up to n of the oldest waiters; returns how many. */
  #notify(n: number): number {
    const words = this.#words;
    let woken = 0;
    while (woken < n && words[WAITING]! > 0) {
      // The oldest waiting slot (sequence numbers compared modulo 2^32).
      let best = -1;
      let bestSeq = 0;
      const high = words[HIGH]!;
      for (let i = 0; i < high; i++) {
        const at = HEADER + SLOT * i;
        if (Atomics.load(words, at) !== ASLEEP) continue;
        const seq = words[at + 1]!;
        if (best < 0 || ((seq - bestSeq) | 0) < 0) {
          best = i;
          bestSeq = seq;
        }
      }
      if (best < 0) break;
      const at = HEADER + SLOT * best;
      const pid = words[at + 2]!;
      if (pid !== me && !pidAlive(pid)) {
        this.#free(best);
        continue;
      }
      Atomics.store(words, at, NOTIFIED);
      waiter().wake(words, at);
      woken++;
    }
    return woken;
  }

  /**
   * Releases the lock, waits until notified (true) or `timeout` ms pass (false), and takes the
   * lock back before returning, whatever happened. Throws ERR_NOT_HELD without the lock.
   */
  async wait(options?: ConditionWaitOptions): Promise<boolean> {
    const opts = checkOptions(options);
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    this.#checkOwned("wait");
    if (signal?.aborted) throw new AbortError(signal.reason);
    const slot = this.#claim();
    const at = HEADER + SLOT * slot;
    const saved = this.#lock[kReleaseAll]();
    let failure: { error: unknown } | undefined;
    try {
      await waiter().waitAsync(this.#words, at, ASLEEP, { timeout, signal });
    } catch (error) {
      failure = { error };
    }
    await this.#lock[kRestore](saved);
    return this.#leave(slot, failure);
  }

  /** The blocking twin of wait(). */
  waitSync(options?: Omit<ConditionWaitOptions, "signal">): boolean {
    const opts = checkOptions(options);
    const timeout = checkTimeout(opts.timeout);
    this.#checkOwned("wait");
    const slot = this.#claim();
    const saved = this.#lock[kReleaseAll]();
    let failure: { error: unknown } | undefined;
    try {
      waiter().wait(this.#words, HEADER + SLOT * slot, ASLEEP, timeout);
    } catch (error) {
      failure = { error };
    }
    this.#lock[kRestoreSync](saved);
    return this.#leave(slot, failure);
  }

  #leave(slot: number, failure: { error: unknown } | undefined): boolean {
    const notified = Atomics.load(this.#words, HEADER + SLOT * slot) === NOTIFIED;
    this.#free(slot);
    if (failure !== undefined) {
      // Aborted: a notification that chose this waiter meanwhile goes to another one.
      if (notified) this.#notify(1);
      throw failure.error;
    }
    return notified;
  }

  /**
   * Waits until `predicate()` is truthy and returns its last value (falsy after a timeout).
   * The predicate runs with the lock held; it may be async.
   */
  async waitFor<T>(predicate: () => T | Promise<T>, options?: ConditionWaitOptions): Promise<T> {
    if (typeof predicate !== "function") {
      throw new ArgumentError(`predicate must be a function, got ${describe(predicate)}`, ErrorCodes.INVALID_ARG_TYPE);
    }
    const opts = checkOptions(options);
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    this.#checkOwned("wait");
    const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
    let result = await predicate();
    while (!result) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      await this.wait({ timeout: deadline === Infinity ? undefined : left, signal });
      result = await predicate();
    }
    return result;
  }

  /** The blocking twin of waitFor(); the predicate must be synchronous. */
  waitForSync<T>(predicate: () => T, options?: Omit<ConditionWaitOptions, "signal">): T {
    if (typeof predicate !== "function") {
      throw new ArgumentError(`predicate must be a function, got ${describe(predicate)}`, ErrorCodes.INVALID_ARG_TYPE);
    }
    const timeout = checkTimeout(checkOptions(options).timeout);
    this.#checkOwned("wait");
    const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
    let result = predicate();
    while (!result) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      this.waitSync({ timeout: deadline === Infinity ? undefined : left });
      result = predicate();
    }
    return result;
  }

  /** Wakes up to `n` waiters (the longest-waiting first). Needs the lock. */
  notify(n = 1): void {
    checkInteger(n, "n", 0);
    this.#checkOwned("notify");
    this.#notify(n);
  }

  /** Wakes every waiter. Needs the lock. */
  notifyAll(): void {
    this.#checkOwned("notify");
    this.#notify(Infinity);
  }

  /** Stops using it here (the last holder in any process frees its memory), and closes a lock it made itself. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#block.release();
    if (this.#ownLock) this.#lock.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [kReduce](transport: Transport): Reduced {
    this.#check();
    return { type: "Condition", state: { block: this.#block.handle(transport), lock: this.#lock } satisfies ConditionState };
  }

  toString(): string {
    return `<Condition(${this.#lock.toString()}, waiting=${this.#words[WAITING]})>`;
  }
}

registerHandleType("Condition", (state) => {
  const s = state as Partial<ConditionState> | null;
  if (s?.block === undefined || !isInternalLock(s.lock)) throw new ArgumentError("malformed Condition handle", ErrorCodes.UNSERIALIZABLE);
  adopting = { block: Block.fromHandle(s.block), lock: s.lock };
  return new Condition();
});
