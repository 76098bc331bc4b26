/**
 * ClusterPool and WorkerNode: the Pool API on worker nodes on any hosts, through BullMQ on Redis. Needs `npm install bullmq ioredis`. Also exported by `multiproc`.
 *
 * @module multiproc/cluster
 */
// The API reference's view of multiproc/cluster: the real classes (see reference/index.ts).
export * from "../entry/cluster.js";
export { ClusterPool } from "../cluster/cluster-pool.js";
export { WorkerNode } from "../cluster/worker-node.js";
