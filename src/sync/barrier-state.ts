// The Barrier's shared words and the algorithm of one wait() over them (barrier.ts has the class,
// its options, the action and passing it to other processes). Kept apart because this is the part
// every process runs on the same memory: the state machine, written once for wait() and waitSync().
//
// Words: [0] a robust mutex, [1] the state, [2] the parties inside wait(), [3] a sequence number
// bumped (then woken) on every state change, [4] sleepers on it, [5] parties, [8..] one pid per
// party inside wait(). The mutex is only ever held for a few synchronous steps, never across an
// await, so even the async path takes it with a (brief) blocking lock; every wait for the state
// to change happens on word 3 with the mutex released.
//
// A party that dies inside wait() is noticed by the others within a slice (100 ms) of sleeping:
// it is removed and the barrier breaks, so nobody waits for it forever (Python's would).
import { BrokenBarrierError } from "../errors.js";
import { waiter } from "../native/wait.js";
import { pidAlive } from "../runtime.js";
import { lockSync, SELF, unlock as unlockMutex } from "./mutex.js";

const MUTEX = 0;
export const STATE = 1;
export const COUNT = 2;
const SEQ = 3;
const SLEEPERS = 4;
export const PARTIES = 5;
export const PIDS = 8;

export const FILLING = 0;
const DRAINING = 1;
export const ACTION = 2; // everyone arrived; the last arrival runs the action
export const RESETTING = -1;
export const BROKEN = -2;

const SLICE_MS = 100;
const me = SELF; // see mutex.ts: the thread id, so dead threads are seen too

// ---- steps run with the mutex held ----

export function lock(words: Int32Array): void {
  lockSync(words, MUTEX);
}

export function unlock(words: Int32Array): void {
  unlockMutex(words, MUTEX);
}

export function setState(words: Int32Array, state: number): void {
  Atomics.store(words, STATE, state);
  Atomics.add(words, SEQ, 1);
  if (Atomics.load(words, SLEEPERS) > 0) waiter().wake(words, SEQ);
}

function enterSlot(words: Int32Array): void {
  const parties = words[PARTIES]!;
  for (let i = 0; i < parties; i++) {
    if (words[PIDS + i] === 0) {
      words[PIDS + i] = me;
      return;
    }
  }
}

/** A party leaves wait(): the last one out of a finished or reset pass reopens the barrier. */
function exit(words: Int32Array): void {
  const parties = words[PARTIES]!;
  for (let i = 0; i < parties; i++) {
    if (words[PIDS + i] === me) {
      words[PIDS + i] = 0;
      break;
    }
  }
  words[COUNT] = words[COUNT]! - 1;
  if (words[COUNT] === 0 && (words[STATE] === DRAINING || words[STATE] === RESETTING)) setState(words, FILLING);
}

/** Removes parties whose process died inside wait(); breaks the barrier if there were any. */
function reapDead(words: Int32Array): void {
  const parties = words[PARTIES]!;
  let dead = 0;
  for (let i = 0; i < parties; i++) {
    const pid = words[PIDS + i]!;
    if (pid !== 0 && pid !== me && !pidAlive(pid)) {
      words[PIDS + i] = 0;
      dead++;
    }
  }
  if (dead === 0) return;
  words[COUNT] = words[COUNT]! - dead;
  const state = words[STATE];
  if (state === FILLING || state === ACTION) setState(words, BROKEN);
  else if (words[COUNT] === 0 && (state === DRAINING || state === RESETTING)) setState(words, FILLING);
}

// ---- the algorithm, written once for both wait() and waitSync() ----

/** What runWait() asks its driver to do: sleep until the state may have changed, or run the action. */
export type WaitRequest = { sleep: [number, number] } | { action: true };

/**
 * Runs wait() as a generator: it yields whenever it has to sleep (with the mutex released)
 * or to run the action, and the sync or async driver in barrier.ts does that.
 */
export function* runWait(words: Int32Array, deadline: number): Generator<WaitRequest, number, unknown> {
  lock(words);
  // Block while the barrier drains or resets (Python's _enter).
  for (;;) {
    const state = words[STATE];
    if (state !== DRAINING && state !== RESETTING && state !== ACTION) break;
    const seq = Atomics.load(words, SEQ);
    unlock(words);
    const slept = (yield { sleep: [seq, deadline] }) as boolean;
    lock(words);
    if (!slept) {
      reapDead(words);
      if (performance.now() >= deadline) {
        unlock(words);
        throw new BrokenBarrierError("timed out waiting for the barrier to finish its previous pass");
      }
    }
  }
  if (words[STATE] === BROKEN) {
    unlock(words);
    throw new BrokenBarrierError();
  }
  const arrival = words[COUNT]!;
  words[COUNT] = arrival + 1;
  enterSlot(words);
  const parties = words[PARTIES]!;
  try {
    if (arrival + 1 === parties) {
      setState(words, ACTION);
      unlock(words);
      try {
        yield { action: true };
      } catch (err) {
        lock(words);
        setState(words, BROKEN);
        throw err;
      }
      lock(words);
      if (words[STATE] !== ACTION) throw new BrokenBarrierError("the barrier was reset or aborted while its action ran");
      setState(words, DRAINING);
      return 0;
    }
    // Wait until released (Python's _wait).
    for (;;) {
      const state = words[STATE];
      if (state !== FILLING && state !== ACTION) break;
      const seq = Atomics.load(words, SEQ);
      unlock(words);
      let slept: boolean;
      try {
        slept = (yield { sleep: [seq, deadline] }) as boolean;
      } catch (err) {
        // Aborted: leaving early breaks the pass for everyone.
        lock(words);
        if (words[STATE] === FILLING || words[STATE] === ACTION) setState(words, BROKEN);
        throw err;
      }
      lock(words);
      if (!slept) {
        reapDead(words);
        if (performance.now() >= deadline && (words[STATE] === FILLING || words[STATE] === ACTION)) {
          setState(words, BROKEN);
          throw new BrokenBarrierError("timed out waiting at the barrier; it is now broken");
        }
      }
    }
    if (words[STATE] !== DRAINING) throw new BrokenBarrierError();
    return parties - 1 - arrival;
  } finally {
    exit(words);
    unlock(words);
  }
}

// ---- sleeping, with the mutex released ----

function sliceUntil(until: number): number {
  return until === Infinity ? SLICE_MS : Math.max(0, Math.min(SLICE_MS, until - performance.now()));
}

/** Sleeps a slice at most (less if `until` is nearer) while the sequence number is `expected`; false if it timed out. */
export async function sleepAsync(words: Int32Array, expected: number, until: number, signal: AbortSignal | undefined): Promise<boolean> {
  Atomics.add(words, SLEEPERS, 1);
  try {
    return (await waiter().waitAsync(words, SEQ, expected, { timeout: sliceUntil(until), signal })) !== "timed-out";
  } finally {
    Atomics.sub(words, SLEEPERS, 1);
  }
}

/** The blocking twin of sleepAsync(). */
export function sleepSync(words: Int32Array, expected: number, until: number): boolean {
  Atomics.add(words, SLEEPERS, 1);
  try {
    return waiter().wait(words, SEQ, expected, sliceUntil(until)) !== "timed-out";
  } finally {
    Atomics.sub(words, SLEEPERS, 1);
  }
}
