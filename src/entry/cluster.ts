/**
 * ClusterPool and WorkerNode: the Pool API on worker nodes on any hosts, through BullMQ on Redis. Needs `npm install bullmq ioredis`. Also exported by `multiproc`.
 *
 * @module multiproc/cluster
 */
// multiproc/cluster: the Pool API on worker nodes anywhere, through BullMQ on Redis.
export { ClusterPool, type ClusterPoolOptions, type ClusterNode } from "../cluster/cluster-pool.js";
export { WorkerNode, type WorkerNodeOptions } from "../cluster/worker-node.js";
