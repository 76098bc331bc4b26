// What the cluster benchmarks share: a private redis-server and worker nodes (the test suite's
// helpers, test/cluster-helpers.ts), started for one measurement and torn down after it.
import { ClusterPool } from "multiproc";
import { hasRedisServer, NodeProcess, RedisServer } from "../test/cluster-helpers.js";

/** Why the cluster sides cannot run here, if they cannot. */
export const clusterPending: string | undefined = hasRedisServer ? undefined : "redis-server is not installed (apt-get install redis-server): the ClusterPool sides are skipped";

/** Runs `body` with a ClusterPool served by `nodes` worker nodes of concurrency 1 on a fresh redis-server. */
export async function withCluster<T>(nodes: number, body: (pool: ClusterPool) => Promise<T>): Promise<T> {
  const redis = await RedisServer.start();
  const started: NodeProcess[] = [];
  try {
    for (let i = 0; i < nodes; i++) started.push(await NodeProcess.start(redis.url, { concurrency: 1 }));
    const pool = new ClusterPool({ connection: redis.url, processes: nodes });
    try {
      return await body(pool);
    } finally {
      await pool.terminate();
    }
  } finally {
    await Promise.all(started.map((n) => n.stop()));
    await redis.stop();
  }
}
