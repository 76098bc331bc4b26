/**
 * ClusterPool and WorkerNode: the Pool API on worker nodes on any hosts, through BullMQ on Redis. Needs `npm install bullmq ioredis`. Also exported by `multiproc`.
 *
 * @module multiproc/cluster
 */
// multiproc/cluster: the Pool API on worker nodes anywhere, through BullMQ on Redis. The classes
// are the package root's (loaded on first use, lazy-api.ts), so both entries give the same ones.
export { ClusterPool, WorkerNode } from "../lazy-api.js";
export type { ClusterPoolOptions, ClusterNode } from "../cluster/cluster-pool.js";
export type { WorkerNodeOptions } from "../cluster/worker-node.js";
