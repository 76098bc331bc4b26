// One task at a time through a 2-worker pool (`x => x * 2`): the latency of a single apply, made
// of the dispatch to a worker and the result's way back. Peers: CPython's Pool.apply, piscina's
// and tinypool's run() on worker threads, and tinypool's child_process runtime (a process pool).
import { fileURLToPath } from "node:url";
import { Pool, type StartMethod } from "multiproc";
import { Piscina } from "piscina";
import { Tinypool } from "tinypool";
import { double } from "./fixtures/double.js";
import { warmPool } from "./fixtures/pool.js";
import { timeOps, type BenchSpec, type Measurement } from "./harness.js";

const WORKER = fileURLToPath(new URL("./fixtures/double.js", import.meta.url));
const BATCH = 200;
const OPTIONS = { iterations: 20, time: 300, batch: BATCH };

/** Times one awaited `run(x)` at a time on a pool made by `open` and torn down by `close`. */
function oneAtATime<P>(open: () => P, run: (pool: P, x: number) => Promise<unknown>, close: (pool: P) => Promise<unknown>): Measurement {
  return async () => {
    const pool = open();
    try {
      if ((await run(pool, 21)) !== 42) throw new Error("the pool returned a wrong result");
      const samples = await timeOps(async () => {
        for (let i = 0; i < BATCH; i++) await run(pool, i);
      }, OPTIONS);
      return { samples };
    } finally {
      await close(pool);
    }
  };
}

/** multiproc's Pool(2) on `context`, warmed up so that both workers are running. */
function pool(context: StartMethod): Measurement {
  return oneAtATime(
    () => {
      const p = new Pool({ processes: 2, context });
      return { p, warm: warmPool(p) };
    },
    async ({ p, warm }, x) => {
      await warm;
      return p.apply(double, [x]);
    },
    ({ p }) => p.terminate(),
  );
}

export default {
  title: "one task at a time through a 2-worker pool, x => x * 2 (time per apply round trip)",
  issue: 5,
  metric: { kind: "time" },
  multiproc: { Pool: pool("process"), "Pool, thread": pool("thread") },
  peers: {
    piscina: oneAtATime(
      () => new Piscina({ filename: WORKER, minThreads: 2, maxThreads: 2 }),
      (pool, x) => pool.run(x) as Promise<unknown>,
      (pool) => pool.destroy(),
    ),
    tinypool: oneAtATime(
      () => new Tinypool({ filename: WORKER, minThreads: 2, maxThreads: 2 }),
      (pool, x) => pool.run(x) as Promise<unknown>,
      (pool) => pool.destroy(),
    ),
    "tinypool child_process": oneAtATime(
      () => new Tinypool({ filename: WORKER, minThreads: 2, maxThreads: 2, runtime: "child_process" }),
      (pool, x) => pool.run(x) as Promise<unknown>,
      (pool) => pool.destroy(),
    ),
  },
  python: ["Pool.apply"],
  goals: [
    { multiproc: "Pool", peer: "CPython Pool.apply", ratio: 0.2 },
    { multiproc: "Pool", peer: "piscina", ratio: 0.5 },
  ],
} satisfies BenchSpec;
