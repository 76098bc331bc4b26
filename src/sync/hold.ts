// What the lock-like primitives share: their acquire options, the guards behind
// `await using _ = await lock.hold()`, and this thread's record of the locks it holds.
import { TimeoutError } from "../errors.js";
import { checkOptions, checkSignal, checkTimeout, describe } from "../validate.js";
import { ArgumentError, ErrorCodes } from "../errors.js";

/**
 * Options of acquire() on semaphores and conditions: `block: false` answers at once; `timeout` in ms; an AbortSignal.
 *
 * @example
 * ```ts
 * import { Semaphore } from "multiproc";
 * const sem = new Semaphore(2);
 * const got = await sem.acquire({ block: false }); // true: a slot was free
 * ```
 */
export interface AcquireOptions {
  /** Wait for the lock (default true); false only tries once. */
  block?: boolean;
  /** Milliseconds to wait at most; without it, no limit. Not allowed with block: false. */
  timeout?: number;
  /** Stops the wait: the promise rejects with an AbortError. */
  signal?: AbortSignal;
}

/**
 * Options of acquireSync() (AcquireOptions without the signal).
 *
 * @example
 * ```ts
 * import { Semaphore } from "multiproc";
 * const sem = new Semaphore(1);
 * if (sem.acquireSync({ timeout: 100 })) sem.release();
 * ```
 */
export type AcquireSyncOptions = Omit<AcquireOptions, "signal">;

/**
 * Options of hold(): as acquire's; a hold that cannot get the lock rejects (TimeoutError, AbortError) instead of answering false.
 *
 * @example
 * ```ts
 * import { Lock } from "multiproc";
 * const lock = new Lock();
 * await using _ = await lock.hold({ timeout: 1000 });
 * ```
 */
export interface HoldOptions {
  /** Milliseconds to wait at most; then hold() rejects with TimeoutError. */
  timeout?: number;
  signal?: AbortSignal;
}

export interface ParsedAcquire {
  block: boolean;
  timeout: number | undefined;
  signal: AbortSignal | undefined;
}

export function parseAcquire(options: unknown): ParsedAcquire {
  const opts = checkOptions(options);
  const block = opts.block ?? true;
  if (typeof block !== "boolean") {
    throw new ArgumentError(`block must be a boolean, got ${describe(block)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  const timeout = checkTimeout(opts.timeout);
  if (!block && timeout !== undefined) {
    // threading.Lock's rule: a timeout means nothing to a call that does not wait.
    throw new ArgumentError("timeout cannot be given with block: false", ErrorCodes.INVALID_ARG_VALUE);
  }
  return { block, timeout, signal: checkSignal(opts.signal) };
}

/**
 * A held lock (or semaphore count): `release()` once, or let `using` / `await using` do it.
 * `ownerDied` is true when the lock was taken over from a holder that died holding it.
 *
 * @example
 * ```ts
 * import { Lock, type Guard } from "multiproc";
 * const lock = new Lock();
 * const guard: Guard = await lock.hold();
 * try {
 *   // ...
 * } finally {
 *   await guard[Symbol.asyncDispose](); // what `await using` does
 * }
 * ```
 */
export interface Guard extends Disposable, AsyncDisposable {
  /** Releases what the guard holds (what disposing it does); a second call does nothing. */
  release(): void;
  readonly ownerDied: boolean;
}

export function makeGuard(release: () => void, ownerDied: boolean): Guard {
  let held = true;
  const done = () => {
    if (!held) return;
    held = false;
    release();
  };
  return {
    ownerDied,
    release: done,
    [Symbol.dispose]: done,
    [Symbol.asyncDispose]: () => {
      done();
      return Promise.resolve();
    },
  };
}

export function holdTimeout(what: string, timeout: number | undefined): TimeoutError {
  return new TimeoutError(`could not acquire the ${what} within ${timeout} ms`);
}

/**
 * This thread's holds of one lock: RLock's recursion count, and for Lock 1 while this thread
 * holds it. Thread-local on purpose: the owner of an RLock is (process, thread), the process is
 * in the lock word (the robust mutex's pid) and the thread is whoever has a non-zero record here.
 * All copies of one lock in a thread share one record (looked up by the block's key). A lock made
 * here gets a record of its own and enters it in the table only when it is first sent (a copy can
 * only come back after that), so a million locks that never travel cost no table entries.
 */
export interface HoldRecord {
  count: number;
}

const records = new Map<string, WeakRef<HoldRecord>>();
const dropRecord = new FinalizationRegistry<string>((name) => {
  if (records.get(name)?.deref() === undefined) records.delete(name);
});

/** The record of the lock whose block has key `name`, shared by its copies in this thread. */
export function holdRecord(name: string, mine: HoldRecord = { count: 0 }): HoldRecord {
  let record = records.get(name)?.deref();
  if (record === undefined) {
    record = mine;
    records.set(name, new WeakRef(record));
    dropRecord.register(record, name);
  }
  return record;
}

// Internal protocol of Lock and RLock used by Condition and the synchronized values: methods under
// symbols on the lock classes' prototype (one shape for every lock, so hot call sites stay fast).
export const kOwned = Symbol("multiproc.lock.owned");
export const kReleaseAll = Symbol("multiproc.lock.releaseAll");
export const kRestoreSync = Symbol("multiproc.lock.restoreSync");
export const kRestore = Symbol("multiproc.lock.restore");
export const kEnter = Symbol("multiproc.lock.enter");
export const kExit = Symbol("multiproc.lock.exit");

export interface InternalLock {
  /** True when this thread holds the lock. */
  [kOwned](): boolean;
  /** Releases every level this thread holds; returns what restore needs. */
  [kReleaseAll](): number;
  [kRestoreSync](saved: number): void;
  [kRestore](saved: number): Promise<void>;
  /** Fast, option-free acquire and release for the synchronized values. */
  [kEnter](): void;
  [kExit](): void;
}

export function isInternalLock(value: unknown): value is InternalLock {
  return typeof value === "object" && value !== null && kOwned in value;
}
