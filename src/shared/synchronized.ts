// The lock option of Value and SharedArray (Python's `lock=True | False | lock`), and running a
// read or write under that lock. As in Python, the default lock is a new RLock, and every access
// through `.value`, get() or set() takes it, so a read never sees a half-written float64 and
// never runs in the middle of a section that holds the lock elsewhere. A thread that already
// holds the lock (even a plain Lock) accesses directly instead of deadlocking on itself.
import { ArgumentError, ErrorCodes, StateError } from "../errors.js";
import { adopt } from "../sync/mutex-lock.js";
import type { Block } from "./block.js";
import { isInternalLock, kEnter, kExit, kOwned } from "../sync/hold.js";
import type { Lock } from "../sync/lock.js";
import { RLock } from "../sync/rlock.js";
import { checkOptions, describe } from "../validate.js";

/**
 * The `lock` option of Value and SharedArray: `true` (a new RLock, the default), `false`, or a lock to share.
 *
 * @example
 * ```ts
 * import { RLock, SharedArray } from "multiproc";
 * const arr = new SharedArray("i", 8, { lock: new RLock() });
 * await using _ = await arr.getLock().hold();
 * ```
 */
export interface SynchronizedOptions {
  /** true (default): a new RLock; false: no lock; or a Lock / RLock to share with others. */
  lock?: boolean | Lock | RLock;
}

/**
 * Bytes reserved at the start of a value's block for its own default RLock, so the lock word and
 * the data share a cache line: a contended `v.value += 1` then moves one line between cores, not
 * two. The lock adopts the value's block (one block, freed once).
 */
export const LOCK_SLOT = 8;

/** Checks the lock option: true (a new RLock in the value's block), false, or a given lock. */
export function checkLockOption(options: unknown): boolean | Lock | RLock {
  const opts = checkOptions(options) as SynchronizedOptions;
  const lock = opts.lock ?? true;
  if (lock === true || lock === false) return lock;
  if (!isInternalLock(lock)) {
    throw new ArgumentError(`lock must be true, false, or a multiproc Lock or RLock, got ${describe(lock)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  return lock;
}

/** The lock a value uses for its option: for `true`, a new RLock in the first LOCK_SLOT bytes of `block`. */
export function makeLock(option: boolean | Lock | RLock, block: Block): Lock | RLock | null {
  if (option === false) return null;
  if (option !== true) return option;
  adopt(block.share(), true); // one block, two users here: freed once both are closed
  return new RLock();
}

export function noLock(what: string): StateError {
  return new StateError(`this ${what} was made with { lock: false } and has no lock`, { code: ErrorCodes.NO_LOCK });
}

/** Runs `fn` holding `lock` (unless this thread holds it already). */
export function locked<R>(lock: Lock | RLock | null, fn: () => R): R {
  if (lock === null || lock[kOwned]()) return fn();
  lock[kEnter]();
  try {
    return fn();
  } finally {
    lock[kExit]();
  }
}
