// The lock option of Value and SharedArray (Python's `lock=True | False | lock`), and running a
// read or write under that lock. As in Python, the default lock is a new RLock, and every access
// through `.value`, get() or set() takes it, so a read never sees a half-written float64 and
// never runs in the middle of a section that holds the lock elsewhere. A thread that already
// holds the lock (even a plain Lock) accesses directly instead of deadlocking on itself.
import { ArgumentError, ErrorCodes, StateError } from "../errors.js";
import { isInternalLock, kEnter, kExit, kOwned } from "../sync/hold.js";
import type { Lock } from "../sync/lock.js";
import { RLock } from "../sync/rlock.js";
import { checkOptions, describe } from "../validate.js";

export interface SynchronizedOptions {
  /** true (default): a new RLock; false: no lock; or a Lock / RLock to share with others. */
  lock?: boolean | Lock | RLock;
}

/** The lock to use (null for none) and whether it was made here (and so is closed with us). */
export function resolveLock(options: unknown): { lock: Lock | RLock | null; own: boolean } {
  const opts = checkOptions(options) as SynchronizedOptions;
  const lock = opts.lock ?? true;
  if (lock === true) return { lock: new RLock(), own: true };
  if (lock === false) return { lock: null, own: false };
  if (!isInternalLock(lock)) {
    throw new ArgumentError(`lock must be true, false, or a multiproc Lock or RLock, got ${describe(lock)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  return { lock, own: false };
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
