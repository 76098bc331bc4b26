// The robust mutex under Lock, RLock and the queues: a Drepper-style futex mutex whose word holds
// the owner's pid, so that a waiter can tell when the holder died and take the lock over instead
// of hanging forever (CPython's locks hang there).
//
// Word states (Int32):  0 = free;  pid = held by pid, nobody waits;  pid | WAITERS = held, and
// someone may sleep on the word. Acquiring is CAS 0 -> pid; releasing is exchange -> 0 and a wake
// if WAITERS was set ("U. Drepper, Futexes Are Tricky", mutex #3, with the pid in place of 1).
//
// A sleeping waiter wakes every SLICE_MS to check the holder with /proc (a zombie counts as dead:
// its parent may be the very thread blocked here, unable to reap it). If the holder is gone, the
// waiter swaps the dead pid for its own and reports OWNER_DIED: the lock is then held by the
// caller, and the state it protects may be half-updated.
// The "pid" is really the kernel's thread id (gettid): the pid for a process's main thread, its own
// id for a worker thread, and /proc/<tid> answers for both, so a worker thread that ends holding a
// lock (terminate(), a crash) is detected like a dead process. Limits: without the native addon
// the id is the pid, and threads of one process cannot be told apart; a dead holder's id reused by
// a new thread or process delays recovery until that one exits.
import { AbortError } from "../abort.js";
import { native } from "../native/binding.js";
import { waiter } from "../native/wait.js";
import { pidAlive } from "../runtime.js";

export const WAITERS = 1 << 30;
const PID_MASK = WAITERS - 1;
const SLICE_MS = 100;
const SPINS = 64;

export const LockResult = {
  TimedOut: 0,
  Acquired: 1,
  /** Acquired, but the previous holder died while holding it. */
  OwnerDied: 2,
} as const;
export type LockResult = (typeof LockResult)[keyof typeof LockResult];

/** Who this thread is in lock words and owner slots (module state is per thread). */
export const SELF = (native()?.gettid() ?? process.pid) & PID_MASK;
const me = SELF;

/** Takes the lock if it is free. Never blocks. */
export function tryLock(words: Int32Array, index: number): boolean {
  return Atomics.compareExchange(words, index, 0, me) === 0;
}

/** The pid holding the lock, or 0 when it is free. */
export function lockOwner(words: Int32Array, index: number): number {
  return Atomics.load(words, index) & PID_MASK;
}

/** Releases the lock; returns the pid that held it (0 if it was not held). */
export function unlock(words: Int32Array, index: number): number {
  const old = Atomics.exchange(words, index, 0);
  if ((old & WAITERS) !== 0) waiter().wake(words, index, 1);
  return old & PID_MASK;
}

/**
 * One step of the slow path: try to take the lock given the observed word `c`. Returns the result
 * if the lock was taken, otherwise the word value to sleep on (always with WAITERS set).
 */
function step(words: Int32Array, index: number, c: number): { taken: LockResult } | { sleepOn: number } {
  for (;;) {
    if (c === 0) {
      // Take it as contended: we cannot know whether others still sleep on the word.
      c = Atomics.compareExchange(words, index, 0, me | WAITERS);
      if (c === 0) return { taken: LockResult.Acquired };
      continue;
    }
    if ((c & WAITERS) === 0) {
      const old = Atomics.compareExchange(words, index, c, c | WAITERS);
      if (old !== c) {
        c = old;
        continue;
      }
      c |= WAITERS;
    }
    return { sleepOn: c };
  }
}

/** After a slice without change: if the holder in `c` is dead, take the lock over. */
function takeOverIfDead(words: Int32Array, index: number, c: number): boolean {
  const owner = c & PID_MASK;
  if (owner === 0 || owner === me || pidAlive(owner)) return false;
  return Atomics.compareExchange(words, index, c, me | WAITERS) === c;
}

function remaining(deadline: number): number {
  return deadline === Infinity ? SLICE_MS : Math.min(SLICE_MS, Math.max(0, deadline - performance.now()));
}

/** Blocks the calling thread until the lock is taken or `timeout` ms pass. */
export function lockSync(words: Int32Array, index: number, timeout?: number): LockResult {
  let c = Atomics.compareExchange(words, index, 0, me);
  if (c === 0) return LockResult.Acquired;
  if (timeout === 0) return LockResult.TimedOut;
  for (let i = 0; i < SPINS && c !== 0; i++) c = Atomics.load(words, index);
  const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
  for (;;) {
    const s = step(words, index, c);
    if ("taken" in s) return s.taken;
    const slice = remaining(deadline);
    if (slice <= 0) return LockResult.TimedOut;
    const r = waiter().wait(words, index, s.sleepOn, slice);
    if (r === "timed-out" && takeOverIfDead(words, index, s.sleepOn)) return LockResult.OwnerDied;
    c = Atomics.load(words, index);
  }
}

/** Waits without blocking the event loop until the lock is taken, `timeout` ms pass or `signal` aborts. */
export async function lockAsync(
  words: Int32Array,
  index: number,
  options: { timeout?: number | undefined; signal?: AbortSignal | undefined } = {},
): Promise<LockResult> {
  const { timeout, signal } = options;
  if (signal?.aborted) throw new AbortError(signal.reason);
  let c = Atomics.compareExchange(words, index, 0, me);
  if (c === 0) return LockResult.Acquired;
  if (timeout === 0) return LockResult.TimedOut;
  const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
  for (;;) {
    const s = step(words, index, c);
    if ("taken" in s) return s.taken;
    const slice = remaining(deadline);
    if (slice <= 0) return LockResult.TimedOut;
    const r = await waiter().waitAsync(words, index, s.sleepOn, { timeout: slice, signal });
    if (r === "timed-out" && takeOverIfDead(words, index, s.sleepOn)) return LockResult.OwnerDied;
    c = Atomics.load(words, index);
  }
}
