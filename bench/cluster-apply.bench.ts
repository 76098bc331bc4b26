// The per-task overhead of a ClusterPool against the local Pool: one `x * 2` apply at a time, its
// round trip through Redis (a BullMQ job added, taken by a worker node, run on the node's local
// pool, its completion read from the queue's event stream) against a local Pool(1)'s.
import { Pool } from "multiproc";
import { clusterPending, withCluster } from "./cluster.js";
import { double } from "./fixtures/double.js";
import { timeOps, type BenchSpec } from "./harness.js";

const BATCH = 50;

interface Applier {
  apply(fn: (x: number) => number, args: [number]): Promise<number>;
}

async function roundTrips(pool: Applier): Promise<number[]> {
  if ((await pool.apply(double, [21])) !== 42) throw new Error("the pool returned a wrong result");
  return timeOps(
    async () => {
      for (let i = 0; i < BATCH; i++) await pool.apply(double, [i]);
    },
    { batch: BATCH, iterations: 10, time: 300 },
  );
}

export default {
  title: "one x * 2 apply at a time: ClusterPool with 1 worker node vs the local Pool(1) (time per round trip)",
  issue: 9,
  metric: { kind: "time" },
  multiproc: clusterPending === undefined ? { "ClusterPool, 1 node": async () => ({ samples: await withCluster(1, roundTrips) }) } : {},
  ...(clusterPending === undefined ? {} : { pending: clusterPending }),
  peers: {
    "Pool(1)": async () => {
      const pool = new Pool(1);
      try {
        return { samples: await roundTrips(pool) };
      } finally {
        await pool.terminate();
      }
    },
  },
  rounds: 2,
} satisfies BenchSpec;
