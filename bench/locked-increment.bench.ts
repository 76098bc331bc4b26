// Two workers each doing `n` times: take the lock, `counter += 1`, release: the contended lock
// across processes (or threads), time per increment of the total. The count is checked to be
// exact. Measured on the robust futex mutex with a plain word until Value lands on main (issue 3:
// `with v.get_lock(): v.value += 1` is the target), against CPython's Value('i') under its lock.
import { getContext, SharedMemory, type StartMethod } from "multiproc";
import { waiter } from "#internal/native/wait.js";
import { timeOps, type BenchSpec, type Measurement } from "./harness.js";
import { COUNTER, DONE, GO, incrementRounds, PEER_TIMEOUT_MS, READY, STOP } from "./fixtures/locked-increment.js";

const WORKERS = 2;
const N = 1_000_000;

async function waitFor(words: Int32Array, index: number, value: number, what: string): Promise<void> {
  for (let v = Atomics.load(words, index); v !== value; v = Atomics.load(words, index)) {
    if ((await waiter().waitAsync(words, index, v, { timeout: PEER_TIMEOUT_MS })) === "timed-out") throw new Error(`timed out waiting for ${what}`);
  }
}

function lockedIncrements(kind: StartMethod): Measurement {
  return async () => {
    const shm = new SharedMemory({ create: true, size: 64 });
    const words = new Int32Array(shm.buffer);
    const ctx = getContext(kind);
    const workers = Array.from({ length: WORKERS }, () => new ctx.Process({ target: incrementRounds, args: [shm, N] }));
    workers.forEach((w) => w.start());
    try {
      await waitFor(words, READY, WORKERS, "the workers to start");
      let round = 0;
      const samples = await timeOps(
        async () => {
          Atomics.store(words, DONE, 0);
          Atomics.store(words, COUNTER, 0);
          Atomics.store(words, GO, ++round);
          waiter().wake(words, GO);
          await waitFor(words, DONE, WORKERS, "the workers to finish a round");
          if (Atomics.load(words, COUNTER) !== WORKERS * N) throw new Error(`lost updates: ${Atomics.load(words, COUNTER)} != ${WORKERS * N}`);
        },
        { batch: WORKERS * N, iterations: 10, time: 300 },
      );
      return { samples, note: "2 workers x lockSync, word += 1, unlock on the robust futex mutex (Value is not on main yet)" };
    } finally {
      Atomics.store(words, GO, STOP);
      waiter().wake(words, GO);
      await Promise.all(workers.map((w) => w.join({ timeout: PEER_TIMEOUT_MS })));
      for (const w of workers) if (w.exitCode === null) w.kill();
      shm.unlink();
    }
  };
}

export default {
  title: "2 workers x locked counter += 1, the lock contended (time per increment)",
  issue: 3,
  metric: { kind: "time" },
  multiproc: { "mutex + word, process": lockedIncrements("process"), "mutex + word, thread": lockedIncrements("thread") },
  pending: "Value: not on main yet (issue 3)",
  python: ["Value"],
  goals: [{ multiproc: "Value", peer: "CPython Value", ratio: 0.2 }],
} satisfies BenchSpec;
