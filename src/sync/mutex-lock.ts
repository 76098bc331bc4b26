// The machinery Lock and RLock share: a robust futex mutex (sync/mutex.ts) in a block of its own,
// Python's acquire/release rules, guards, and the internal protocol Condition and the synchronized
// values use. Lock and RLock are thin subclasses (lock.ts, rlock.ts).
//
// A holder that dies: the next acquirer takes the lock over and is told through a flag, not an
// exception. `acquire()` resolves true as usual and `lock.ownerDied` (and the guard's
// `ownerDied`) is true until the next acquire through this object; `acquire({ ... })` callers
// that prefer an exception pass `throwIfOwnerDied: true` and get OwnerDiedError with the lock
// held. The flag is the default because an exception would make the common
// `acquire(); try { ... } finally { release() }` pattern skip its release and keep the lock
// held by a live process, which is the hang this feature exists to prevent.
import { ArgumentError, ErrorCodes, OwnerDiedError, StateError } from "../errors.js";
import { pidAlive } from "../runtime.js";
import { Block, closedError, type BlockHandle } from "../shared/block.js";
import { kReduce, type Reduced, type Transport } from "../transport/handles.js";
import { checkOptions, describe } from "../validate.js";
import {
  holdRecord,
  holdTimeout,
  kEnter,
  kExit,
  kOwned,
  kReleaseAll,
  kRestore,
  kRestoreSync,
  makeGuard,
  parseAcquire,
  type AcquireOptions,
  type Guard,
  type HoldOptions,
  type HoldRecord,
  type InternalLock,
} from "./hold.js";
import { lockAsync, lockOwner, LockResult, lockSync, SELF, tryLock, unlock, WAITERS } from "./mutex.js";

const PID_MASK = WAITERS - 1;
const me = SELF;

/** One non-blocking attempt that also takes the lock over from a dead holder. */
function tryOnce(words: Int32Array, at: number): LockResult {
  if (tryLock(words, at)) return LockResult.Acquired;
  const c = Atomics.load(words, at);
  const owner = c & PID_MASK;
  if (owner !== 0 && owner !== me && !pidAlive(owner) && Atomics.compareExchange(words, at, c, me | WAITERS) === c) {
    return LockResult.OwnerDied;
  }
  return tryLock(words, at) ? LockResult.Acquired : LockResult.TimedOut;
}

/**
 * Options of Lock.acquire: `block: false` answers at once; `timeout` in ms; an AbortSignal.
 *
 * @example
 * ```ts
 * import { Lock } from "multiproc";
 * const lock = new Lock();
 * const got = await lock.acquire({ timeout: 100 }); // false when another holder kept it 100 ms
 * ```
 */
export interface LockAcquireOptions extends AcquireOptions {
  /** Reject with OwnerDiedError (the lock then held by the caller) instead of setting `ownerDied`. */
  throwIfOwnerDied?: boolean;
}

/**
 * Options of Lock.acquireSync (LockAcquireOptions without the signal).
 *
 * @example
 * ```ts
 * import { Lock } from "multiproc";
 * const lock = new Lock();
 * if (lock.acquireSync({ timeout: 100 })) lock.release();
 * ```
 */
export type LockAcquireSyncOptions = Omit<LockAcquireOptions, "signal">;

export interface LockState {
  block: BlockHandle;
}

// Set just before `new Lock()` / `new RLock()` by the handle revivers, so a received lock adopts
// the block it was sent with instead of making one.
// `fresh`: a new lock in a block made here (a Value's own RLock), not a received copy.
let adopting: Block | undefined;
let adoptingFresh = false;

export function adopt(block: Block, fresh = false): void {
  adopting = block;
  adoptingFresh = fresh;
}

export abstract class MutexLock implements Disposable, InternalLock {
  readonly #block: Block;
  // The mutex word is #words[#at]: in an arena, the arena's view shared by all its objects.
  readonly #words: Int32Array;
  readonly #at: number;
  readonly #record: HoldRecord;
  readonly #recursive: boolean;
  // Whether #record is in the table of this thread's hold records (see holdRecord).
  #recordShared: boolean;
  #ownerDied = false;
  #closed = false;

  protected constructor(recursive: boolean) {
    this.#recursive = recursive;
    const received = adopting;
    const fresh = adoptingFresh;
    adopting = undefined;
    adoptingFresh = false;
    this.#block = received ?? Block.create(8, this);
    [this.#words, this.#at] = this.#block.wordsAt();
    this.#recordShared = received !== undefined && !fresh;
    this.#record = this.#recordShared ? holdRecord(this.#block.key) : { count: 0 };
  }

  /** The class name used in messages and as the handle type. */
  protected abstract get kind(): "Lock" | "RLock";

  /**
   * True when the last acquire through this object took the lock over from a holder that died
   * while holding it: the state the lock protects may be half-updated.
   */
  get ownerDied(): boolean {
    return this.#ownerDied;
  }

  #check(): void {
    if (this.#closed) throw closedError(this.kind);
  }

  #took(r: LockResult, throwIfOwnerDied: boolean): boolean {
    if (r === LockResult.TimedOut) return false;
    this.#ownerDied = r === LockResult.OwnerDied;
    this.#record.count = 1;
    if (this.#ownerDied && throwIfOwnerDied) {
      throw new OwnerDiedError(0, `the previous holder of this ${this.kind} died while holding it; the lock is now held by the caller`);
    }
    return true;
  }

  #reentered(): boolean {
    if (!this.#recursive || this.#record.count === 0) return false;
    this.#record.count++;
    return true;
  }

  /**
   * Takes the lock; resolves true, or false when `timeout` ms passed (or, with block: false, when
   * the lock was busy). Rejects with AbortError when `signal` aborts.
   */
  async acquire(options?: LockAcquireOptions): Promise<boolean> {
    const { block, timeout, signal } = parseAcquire(options);
    const strict = checkStrict(options);
    this.#check();
    if (this.#reentered()) return true;
    const r = block ? await lockAsync(this.#words, this.#at, { timeout, signal }) : tryOnce(this.#words, this.#at);
    return this.#took(r, strict);
  }

  /** The blocking twin of acquire(), for worker code that may block its thread. */
  acquireSync(options?: LockAcquireSyncOptions): boolean {
    if (options === undefined) {
      // The hot path (Value accesses, tight loops): no option parsing, an inline CAS.
      this.#check();
      const record = this.#record;
      if (this.#recursive && record.count > 0) {
        record.count++;
        return true;
      }
      if (Atomics.compareExchange(this.#words, this.#at, 0, me) === 0) {
        this.#ownerDied = false;
        record.count = 1;
        return true;
      }
      return this.#took(lockSync(this.#words, this.#at), false);
    }
    const { block, timeout } = parseAcquire(options);
    const strict = checkStrict(options);
    this.#check();
    if (this.#reentered()) return true;
    return this.#took(block ? lockSync(this.#words, this.#at, timeout) : tryOnce(this.#words, this.#at), strict);
  }

  /**
   * Releases the lock. A Lock may be released by any process or thread but not when it is free;
   * an RLock only by the thread that holds it, once per acquire. Both throw ERR_NOT_HELD.
   */
  release(): void {
    this.#check();
    const record = this.#record;
    if (this.#recursive) {
      if (record.count === 0) {
        throw new StateError("cannot release an RLock that this thread does not hold", { code: ErrorCodes.NOT_HELD });
      }
      if (--record.count > 0) return;
      unlock(this.#words, this.#at);
      return;
    }
    if (unlock(this.#words, this.#at) === 0) {
      throw new StateError("cannot release a Lock that is not held", { code: ErrorCodes.NOT_HELD });
    }
    record.count = 0;
  }

  /** `await using _ = await lock.hold()`: acquires, and releases at the end of the scope. */
  async hold(options?: HoldOptions): Promise<Guard> {
    const opts = checkOptions(options) as HoldOptions;
    if (!(await this.acquire({ timeout: opts.timeout, signal: opts.signal }))) throw holdTimeout(this.kind, opts.timeout);
    return makeGuard(() => this.release(), this.#ownerDied);
  }

  /** `using _ = lock.holdSync()`: the blocking twin of hold(). */
  holdSync(options?: Omit<HoldOptions, "signal">): Guard {
    const opts = checkOptions(options) as HoldOptions;
    if (!this.acquireSync({ timeout: opts.timeout })) throw holdTimeout(this.kind, opts.timeout);
    return makeGuard(() => this.release(), this.#ownerDied);
  }

  /** Whether this thread holds the lock (Python's private `_is_mine`). */
  isMine(): boolean {
    return this.#record.count > 0 && lockOwner(this.#words, this.#at) === me;
  }

  /**
   * Stops using the lock here; holders elsewhere are unaffected, and the last holder in any
   * process frees its memory (see shared/block.ts).
   */
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
    if (!this.#recordShared) {
      // A copy may come back to this thread from now on: let it find this record.
      holdRecord(this.#block.key, this.#record);
      this.#recordShared = true;
    }
    return { type: this.kind, state: { block: this.#block.handle(transport) } satisfies LockState };
  }

  [kOwned](): boolean {
    return this.#record.count > 0 && lockOwner(this.#words, this.#at) === me;
  }

  [kReleaseAll](): number {
    this.#check();
    const saved = this.#record.count;
    this.#record.count = 0;
    unlock(this.#words, this.#at);
    return saved;
  }

  [kRestoreSync](saved: number): void {
    this.#ownerDied = lockSync(this.#words, this.#at) === LockResult.OwnerDied;
    this.#record.count = saved;
  }

  async [kRestore](saved: number): Promise<void> {
    this.#ownerDied = (await lockAsync(this.#words, this.#at)) === LockResult.OwnerDied;
    this.#record.count = saved;
  }

  [kEnter](): void {
    this.acquireSync();
  }

  [kExit](): void {
    this.release();
  }

  toString(): string {
    const owner = lockOwner(this.#words, this.#at);
    const state = owner === 0 ? "unlocked" : this.isMine() ? `owned by this thread${this.#recursive ? `, count=${this.#record.count}` : ""}` : `held by thread ${owner}`;
    return `<${this.kind} ${state}>`;
  }
}

function checkStrict(options: unknown): boolean {
  const strict = (options as LockAcquireOptions | undefined)?.throwIfOwnerDied ?? false;
  if (typeof strict !== "boolean") {
    throw new ArgumentError(`throwIfOwnerDied must be a boolean, got ${describe(strict)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  return strict;
}
