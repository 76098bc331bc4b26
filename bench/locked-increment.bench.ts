// Two workers each doing `n` times: take the lock, `counter += 1`, release: the contended lock
// across processes (or threads), time per increment of the total. The count is checked to be
// exact. The target is the seeds' pattern on a Value (issue 3: `with v.get_lock(): v.value += 1`,
// here `lock.acquireSync(); v.value += 1; lock.release()` on its default RLock), against CPython's
// Value('i') under its lock; the bare robust mutex on a plain word shows the floor under it.
import { getContext, SharedMemory, Value, type StartMethod } from "multiproc";
import { waiter } from "#internal/native/wait.js";
import { timeOps, type BenchSpec, type Measurement } from "./harness.js";
import { COUNTER, DONE, GO, incrementRounds, incrementValueRounds, PEER_TIMEOUT_MS, READY, STOP } from "./fixtures/locked-increment.js";

const WORKERS = 2;
const N = 1_000_000;

async function waitFor(words: Int32Array, index: number, value: number, what: string): Promise<void> {
  for (let v = Atomics.load(words, index); v !== value; v = Atomics.load(words, index)) {
    if ((await waiter().waitAsync(words, index, v, { timeout: PEER_TIMEOUT_MS })) === "timed-out") throw new Error(`timed out waiting for ${what}`);
  }
}

function lockedIncrements(kind: StartMethod, on: "word" | "Value"): Measurement {
  return async () => {
    const shm = new SharedMemory({ create: true, size: 64 });
    const value = new Value("i", 0);
    const words = new Int32Array(shm.buffer);
    const ctx = getContext(kind);
    const workers = Array.from({ length: WORKERS }, () =>
      on === "word"
        ? new ctx.Process({ target: incrementRounds, args: [shm, N] })
        : new ctx.Process({ target: incrementValueRounds, args: [shm, value, N] }),
    );
    workers.forEach((w) => w.start());
    const count = () => (on === "word" ? Atomics.load(words, COUNTER) : value.value);
    try {
      await waitFor(words, READY, WORKERS, "the workers to start");
      let round = 0;
      const samples = await timeOps(
        async () => {
          Atomics.store(words, DONE, 0);
          Atomics.store(words, COUNTER, 0);
          value.value = 0;
          Atomics.store(words, GO, ++round);
          waiter().wake(words, GO);
          await waitFor(words, DONE, WORKERS, "the workers to finish a round");
          if (count() !== WORKERS * N) throw new Error(`lost updates: ${count()} != ${WORKERS * N}`);
        },
        { batch: WORKERS * N, iterations: 10, time: 300 },
      );
      const note =
        on === "word"
          ? "2 workers x lockSync, word += 1, unlock on the bare robust futex mutex (the floor)"
          : "2 workers x getLock().acquireSync(), v.value += 1, release() on Value('i') and its RLock";
      return { samples, note };
    } finally {
      Atomics.store(words, GO, STOP);
      waiter().wake(words, GO);
      await Promise.all(workers.map((w) => w.join({ timeout: PEER_TIMEOUT_MS })));
      for (const w of workers) if (w.exitCode === null) w.kill();
      shm.unlink();
      value.close();
    }
  };
}

export default {
  title: "2 workers x locked counter += 1, the lock contended (time per increment)",
  issue: 3,
  metric: { kind: "time" },
  multiproc: {
    "Value, process": lockedIncrements("process", "Value"),
    "Value, thread": lockedIncrements("thread", "Value"),
    "mutex + word, process": lockedIncrements("process", "word"),
    "mutex + word, thread": lockedIncrements("thread", "word"),
  },
  python: ["Value"],
  goals: [{ multiproc: "Value, process", peer: "CPython Value", ratio: 0.2 }],
} satisfies BenchSpec;
