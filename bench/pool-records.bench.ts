// Pool(2).map over 50,000 records returning records (issue 15), one message per task (chunksize
// 1) and with the default chunking, tasks per second. The records are `{ id, name: "item-<i>",
// score, tags: ["a", "b"] }` and the task returns one of the same shape. piscina and tinypool
// send every task on its own (Promise.all of `run`, 16 in flight per worker for piscina); CPython
// runs Pool(2).map with chunksize=1 and with its default chunks (bench/python/pool-records.py).
import { fileURLToPath } from "node:url";
import { Pool, type StartMethod } from "multiproc";
import { Piscina } from "piscina";
import { Tinypool } from "tinypool";
import { record } from "./fixtures/queues.js";
import { warmPool } from "./fixtures/pool.js";
import { rescore, type Scored } from "./fixtures/records.js";
import { scaled, throughput, timeOps, type BenchSpec, type Measurement } from "./harness.js";

const WORKER = fileURLToPath(new URL("./fixtures/records.js", import.meta.url));
/** Records per map; the one-message-per-task peers get a tenth (their rate is lower). */
const RECORDS = 50_000;

function check(ys: readonly Scored[], n: number): void {
  if (ys.length !== n || ys[n - 1]!.score !== (n - 1) * 0.5 + 1 || ys[n - 1]!.name !== `item-${n - 1}`) throw new Error("the pool returned a wrong result");
}

function poolMap(context: StartMethod, chunksize: number | undefined): Measurement {
  return async () => {
    const pool = new Pool({ processes: 2, context });
    const n = scaled(RECORDS, 1000);
    try {
      await warmPool(pool);
      const xs = Array.from({ length: n }, (_, i) => record(i));
      const samples = await timeOps(
        async () => check(await pool.map(rescore, xs, chunksize === undefined ? {} : { chunksize }), n),
        { batch: n, iterations: 3, time: 0, warmupIterations: 1, warmupTime: 0 },
      );
      return { samples: throughput(samples) };
    } finally {
      await pool.terminate();
    }
  };
}

interface RunPool {
  run(task: Scored): Promise<unknown>;
  destroy(): Promise<unknown>;
}

function runAll(open: () => RunPool): Measurement {
  return async () => {
    const pool = open();
    const n = scaled(RECORDS / 10, 500);
    try {
      const xs = Array.from({ length: n }, (_, i) => record(i));
      const samples = await timeOps(async () => check((await Promise.all(xs.map((x) => pool.run(x)))) as Scored[], n), {
        batch: n,
        iterations: 3,
        time: 0,
        warmupIterations: 1,
      });
      return { samples: throughput(samples) };
    } finally {
      await pool.destroy();
    }
  };
}

const threads = { filename: WORKER, minThreads: 2, maxThreads: 2 };

export default {
  title: "Pool(2).map over 50,000 records returning records (tasks per second)",
  issue: 15,
  metric: { kind: "throughput", unit: "tasks/s" },
  multiproc: {
    "map chunksize 1": poolMap("process", 1),
    "map default chunks": poolMap("process", undefined),
    "map chunksize 6250 (CPython's formula)": poolMap("process", Math.ceil(RECORDS / 8)),
    "map default chunks, thread": poolMap("thread", undefined),
  },
  peers: {
    "piscina, 16 in flight": runAll(() => new Piscina({ ...threads, concurrentTasksPerWorker: 16 })),
    "tinypool child_process": runAll(() => new Tinypool({ ...threads, runtime: "child_process" })),
  },
  python: ["map chunksize=1", "map default chunks"],
  goals: [
    { multiproc: "map chunksize 1", peer: "CPython map chunksize=1", ratio: 5 },
    { multiproc: "map default chunks", peer: "CPython map default chunks", ratio: 2 },
  ],
} satisfies BenchSpec;
