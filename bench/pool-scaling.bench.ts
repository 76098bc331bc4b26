// CPU-bound scaling of the Pool from 1 to 2 workers: tasks per second of a map (chunksize 1) of a
// fixed amount of arithmetic per task (~5 ms, bench/fixtures/cluster-work.ts), through Pool(2)
// against Pool(1). On a 2-core machine the ceiling is 2x, less whatever else runs meanwhile (the
// parent itself is nearly idle: it only hands out tasks and collects results).
import { Pool, type StartMethod } from "multiproc";
import { burn } from "./fixtures/cluster-work.js";
import { scaled, throughput, timeOps, type BenchSpec, type Measurement } from "./harness.js";

const WORK = 1_000_000;
const TASKS = scaled(200, 20);

function cpuMap(processes: number, context: StartMethod): Measurement {
  return async () => {
    const pool = new Pool({ processes, context });
    try {
      const xs = Array.from({ length: TASKS }, () => WORK);
      const expected = burn(WORK);
      // Warm up: every worker started and the target known to it.
      await pool.map(burn, xs.slice(0, 2 * processes), { chunksize: 1 });
      const samples = await timeOps(
        async () => {
          const ys = await pool.map(burn, xs, { chunksize: 1 });
          if (ys[TASKS - 1] !== expected) throw new Error("the pool returned a wrong result");
        },
        { batch: TASKS, iterations: 3, time: 0, warmupIterations: 1 },
      );
      return { samples: throughput(samples) };
    } finally {
      await pool.terminate();
    }
  };
}

export default {
  title: "CPU-bound scaling: map of ~5 ms tasks through Pool(2) vs Pool(1) (tasks per second)",
  issue: 5,
  metric: { kind: "throughput", unit: "tasks/s" },
  multiproc: { "Pool(2)": cpuMap(2, "process"), "Pool(2), thread": cpuMap(2, "thread") },
  peers: { "Pool(1)": cpuMap(1, "process"), "Pool(1), thread": cpuMap(1, "thread") },
  compare: { "Pool(2)": ["Pool(1)"], "Pool(2), thread": ["Pool(1), thread"] },
  rounds: 2,
} satisfies BenchSpec;
