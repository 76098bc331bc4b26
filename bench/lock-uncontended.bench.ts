// An uncontended lock+unlock, the floor under every Lock, queue and locked Value. Measured on the
// futex layer: the robust futex mutex (src/sync/mutex.ts: CAS 0 -> pid to lock, exchange -> 0 to
// unlock, a futex wake only when someone sleeps). Its async twin shows what one awaited promise
// adds, and a minimal Drepper 3-state mutex written here (no owner, no recovery) shows the floor
// of the futex layer: the robust mutex's extra cost is the gap between the two. The Lock and RLock
// classes (issue 3) add their checks and per-thread hold records on top of that mutex.
// CPython: multiprocessing.Lock (a POSIX semaphore) acquire+release.
import { Lock, RLock, SharedMemory } from "multiproc";
import { waiter } from "#internal/native/wait.js";
import { lockAsync, LockResult, lockSync, unlock } from "#internal/sync/mutex.js";
import { timeOps, type BenchSpec, type Measurement } from "./harness.js";

const BATCH = 100_000;
const ASYNC_BATCH = 10_000;

function onWord(measure: (words: Int32Array) => Promise<number[]>, note: string): Measurement {
  return async () => {
    const shm = new SharedMemory({ create: true, size: 64 });
    try {
      return { samples: await measure(new Int32Array(shm.buffer)), note };
    } finally {
      shm.close();
      shm.unlink();
    }
  };
}

const syncMutex = onWord(
  (words) =>
    timeOps(
      () => {
        for (let i = 0; i < BATCH; i++) {
          lockSync(words, 0);
          unlock(words, 0);
        }
      },
      { batch: BATCH, iterations: 20, time: 300 },
    ),
  "lockSync+unlock of the robust futex mutex in src/sync/mutex.ts",
);

// "Futexes Are Tricky" (U. Drepper), mutex #3: 0 free, 1 locked, 2 locked with waiters.
function drepperLock(words: Int32Array, index: number): void {
  let c = Atomics.compareExchange(words, index, 0, 1);
  if (c === 0) return;
  if (c !== 2) c = Atomics.exchange(words, index, 2);
  while (c !== 0) {
    if (waiter().wait(words, index, 2, 10_000) === "timed-out") throw new Error("the reference mutex was never released");
    c = Atomics.exchange(words, index, 2);
  }
}

function drepperUnlock(words: Int32Array, index: number): void {
  if (Atomics.sub(words, index, 1) !== 1) {
    Atomics.store(words, index, 0);
    waiter().wake(words, index, 1);
  }
}

const drepper = onWord(
  (words) =>
    timeOps(
      () => {
        for (let i = 0; i < BATCH; i++) {
          drepperLock(words, 0);
          drepperUnlock(words, 0);
        }
      },
      { batch: BATCH, iterations: 20, time: 300 },
    ),
  "a minimal Drepper 3-state futex mutex written in the bench file: the floor, not the library",
);

const asyncMutex = onWord(
  (words) =>
    timeOps(
      async () => {
        for (let i = 0; i < ASYNC_BATCH; i++) {
          if ((await lockAsync(words, 0)) !== LockResult.Acquired) throw new Error("the lock was not free");
          unlock(words, 0);
        }
      },
      { batch: ASYNC_BATCH, iterations: 20, time: 300 },
    ),
  "await lockAsync + unlock of the same mutex",
);

function onLock(make: () => Lock | RLock, measure: (lock: Lock | RLock) => Promise<number[]>, note: string): Measurement {
  return async () => {
    const lock = make();
    try {
      return { samples: await measure(lock), note };
    } finally {
      lock.close();
    }
  };
}

const lockSyncPairs = (lock: Lock | RLock) =>
  timeOps(
    () => {
      for (let i = 0; i < BATCH; i++) {
        lock.acquireSync();
        lock.release();
      }
    },
    { batch: BATCH, iterations: 20, time: 300 },
  );

const lockClass = onLock(() => new Lock(), lockSyncPairs, "new Lock(): acquireSync() + release()");
const rlockClass = onLock(() => new RLock(), lockSyncPairs, "new RLock(): acquireSync() + release()");
const lockAsyncClass = onLock(
  () => new Lock(),
  (lock) =>
    timeOps(
      async () => {
        for (let i = 0; i < ASYNC_BATCH; i++) {
          await lock.acquire();
          lock.release();
        }
      },
      { batch: ASYNC_BATCH, iterations: 20, time: 300 },
    ),
  "new Lock(): await acquire() + release()",
);

export default {
  title: "uncontended lock+unlock in one process (time per pair)",
  issue: 2,
  metric: { kind: "time" },
  multiproc: {
    "Lock, sync": lockClass,
    "Lock, async": lockAsyncClass,
    "RLock, sync": rlockClass,
    "mutex, sync": syncMutex,
    "mutex, async": asyncMutex,
    "reference Drepper mutex": drepper,
  },
  python: ["mp.Lock"],
  goals: [
    { multiproc: "mutex, sync", peer: "CPython mp.Lock", ratio: 0.5 },
    { multiproc: "Lock, sync", peer: "CPython mp.Lock", ratio: 0.5 },
  ],
  rounds: 5,
} satisfies BenchSpec;
