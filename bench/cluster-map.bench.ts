// Tasks per second through a ClusterPool (BullMQ on a local redis-server) and its worker nodes,
// against the local Pool with as many processes: a CPU-bound task (~5 ms of arithmetic) through 1
// and 2 nodes, and the trivial x * 2 one task per job (chunksize 1), where the figure is the
// per-task cost of the cluster's round trip through Redis. Every node runs 1 task at a time, on
// this machine, so 2 nodes are 2 processes as Pool(2) is.
import { Pool } from "multiproc";
import { clusterPending, withCluster } from "./cluster.js";
import { burn } from "./fixtures/cluster-work.js";
import { double } from "./fixtures/double.js";
import { scaled, throughput, timeOps, type BenchSpec, type Measurement } from "./harness.js";

const WORK = 1_000_000;
const CPU_TASKS = scaled(200, 20);
const TINY_TASKS = scaled(2000, 200);

interface Mapper {
  map(fn: (x: number) => number, xs: number[], options: { chunksize: number }): Promise<number[]>;
}

/** Times `map(fn, xs, chunksize 1)` of `n` tasks, per task, as tasks/s. */
async function tasksPerSecond(pool: Mapper, fn: (x: number) => number, arg: (i: number) => number, n: number): Promise<number[]> {
  const xs = Array.from({ length: n }, (_, i) => arg(i));
  const expected = fn(xs[n - 1]!);
  await pool.map(fn, xs.slice(0, 4), { chunksize: 1 });
  const samples = await timeOps(
    async () => {
      const ys = await pool.map(fn, xs, { chunksize: 1 });
      if (ys[n - 1] !== expected) throw new Error("the pool returned a wrong result");
    },
    { batch: n, iterations: 3, time: 0, warmupIterations: 1 },
  );
  return throughput(samples);
}

function cluster(nodes: number, fn: (x: number) => number, arg: (i: number) => number, n: number): Measurement {
  return async () => ({ samples: await withCluster(nodes, (pool) => tasksPerSecond(pool, fn, arg, n)) });
}

function local(processes: number, fn: (x: number) => number, arg: (i: number) => number, n: number): Measurement {
  return async () => {
    const pool = new Pool(processes);
    try {
      return { samples: await tasksPerSecond(pool, fn, arg, n) };
    } finally {
      await pool.terminate();
    }
  };
}

const cpu = () => WORK;
const ints = (i: number) => i;

export default {
  title: "tasks per second through a ClusterPool's worker nodes vs the local Pool (map, chunksize 1)",
  issue: 9,
  metric: { kind: "throughput", unit: "tasks/s" },
  multiproc:
    clusterPending === undefined
      ? {
          "CPU task, 1 node": cluster(1, burn, cpu, CPU_TASKS),
          "CPU task, 2 nodes": cluster(2, burn, cpu, CPU_TASKS),
          "x * 2, 2 nodes": cluster(2, double, ints, TINY_TASKS),
        }
      : {},
  ...(clusterPending === undefined ? {} : { pending: clusterPending }),
  peers: {
    "CPU task, Pool(1)": local(1, burn, cpu, CPU_TASKS),
    "CPU task, Pool(2)": local(2, burn, cpu, CPU_TASKS),
    "x * 2, Pool(2)": local(2, double, ints, TINY_TASKS),
  },
  compare: {
    "CPU task, 1 node": ["CPU task, Pool(1)"],
    "CPU task, 2 nodes": ["CPU task, Pool(2)"],
    "x * 2, 2 nodes": ["x * 2, Pool(2)"],
  },
  rounds: 2,
} satisfies BenchSpec;
