// x => x * 2 over many ints through a 2-worker pool (tasks per second). Issue 5 measures two
// regimes: one message per task (CPython's map with chunksize=1; piscina and tinypool, which send
// every task on its own, as they come and with several tasks in flight per worker), and CPython's
// default chunking. multiproc's Pool sends each task as its own unit of work with chunksize 1
// (batched on the wire, several in flight per worker), and chunks of ceil(n / 8) by default.
import { fileURLToPath } from "node:url";
import { Pool, type StartMethod } from "multiproc";
import { Piscina } from "piscina";
import { Tinypool } from "tinypool";
import { double } from "./fixtures/double.js";
import { warmPool } from "./fixtures/pool.js";
import { throughput, timeOps, type BenchSpec, type Measurement } from "./harness.js";

const WORKER = fileURLToPath(new URL("./fixtures/double.js", import.meta.url));
/** Tasks per sample for one-message-per-task pools: ~0.1-0.3 s at the peers' rates here. */
const TASKS = 5_000;

interface RunPool {
  run(task: number): Promise<unknown>;
  destroy(): Promise<unknown>;
}

/** Submits all `TASKS` at once (Promise.all, like a map) and checks the results. */
function mapAll(open: () => RunPool): Measurement {
  return async () => {
    const pool = open();
    try {
      const xs = Array.from({ length: TASKS }, (_, i) => i);
      const samples = await timeOps(
        async () => {
          const ys = await Promise.all(xs.map((x) => pool.run(x)));
          if (ys[TASKS - 1] !== 2 * (TASKS - 1)) throw new Error("the pool returned a wrong result");
        },
        { batch: TASKS, iterations: 3, time: 0, warmupIterations: 1 },
      );
      return { samples: throughput(samples) };
    } finally {
      await pool.destroy();
    }
  };
}

/** CPython's default-chunking case maps this many ints (a call of ~20-100 ms there). */
const CHUNKED_TASKS = 200_000;

/** multiproc's Pool(2).map of `n` ints, with `chunksize` (undefined: the default). */
function poolMap(context: StartMethod, n: number, chunksize: number | undefined): Measurement {
  return async () => {
    const pool = new Pool({ processes: 2, context });
    try {
      await warmPool(pool);
      const xs = Array.from({ length: n }, (_, i) => i);
      const samples = await timeOps(
        async () => {
          const ys = await pool.map(double, xs, chunksize === undefined ? {} : { chunksize });
          if (ys[n - 1] !== 2 * (n - 1)) throw new Error("the pool returned a wrong result");
        },
        { batch: n, iterations: chunksize === undefined ? 10 : 3, time: 0, warmupIterations: 1 },
      );
      return { samples: throughput(samples) };
    } finally {
      await pool.terminate();
    }
  };
}

const threads = { filename: WORKER, minThreads: 2, maxThreads: 2 };

export default {
  title: `x => x * 2 over ints through a 2-worker pool (tasks per second)`,
  issue: 5,
  metric: { kind: "throughput", unit: "tasks/s" },
  multiproc: {
    "map chunksize 1": poolMap("process", TASKS, 1),
    "map chunksize 1, thread": poolMap("thread", TASKS, 1),
    "map default chunks": poolMap("process", CHUNKED_TASKS, undefined),
    "map default chunks, thread": poolMap("thread", CHUNKED_TASKS, undefined),
  },
  peers: {
    piscina: mapAll(() => new Piscina(threads)),
    "piscina, 16 in flight": mapAll(() => new Piscina({ ...threads, concurrentTasksPerWorker: 16 })),
    tinypool: mapAll(() => new Tinypool(threads)),
    "tinypool child_process": mapAll(() => new Tinypool({ ...threads, runtime: "child_process" })),
  },
  python: ["map chunksize=1", "map default chunks"],
  goals: [
    { multiproc: "map chunksize 1", peer: "CPython map chunksize=1", ratio: 4 },
    { multiproc: "map chunksize 1", peer: "piscina, 16 in flight", ratio: 3 },
    { multiproc: "map default chunks", peer: "CPython map default chunks", ratio: 1.5 },
  ],
} satisfies BenchSpec;
