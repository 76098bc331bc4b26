// multiproc: Python's multiprocessing for Node.js. Everything public is exported from here.
import { availableParallelism } from "node:os";
import { registerForeignType, registerLazyHandleType } from "./transport/handles.js";
import { isArrowTableLike } from "./arrow/table-policy.js";

export * from "./errors.js";
export { AbortError } from "./abort.js";
export type { StartMethod } from "./backends/backend.js";
export { getContext, getAllStartMethods, getStartMethod, setStartMethod, type Context } from "./context.js";
export { Process, activeChildren, type ProcessOptions, type Target } from "./process.js";
export { currentProcess, parentProcess, isMainProcess, type ProcessInfo, type ParentInfo } from "./runtime.js";
export { fromModule } from "./target.js";
export { reduce, revive } from "./transport/classes.js";
export { SharedMemory, type SharedMemoryOptions } from "./shared/shared-memory.js";
export { ShareableList, type ShareableItem, type ShareableListOptions } from "./shared/shareable-list.js";

// SharedTable (multiproc/arrow) needs apache-arrow, which is slow to load: its module is imported
// only when a SharedTable arrives in a process that has not loaded it yet.
registerLazyHandleType("SharedTable", () => import("./arrow/shared-table.js"));
// apache-arrow Tables themselves travel too (as IPC bytes over sockets, through shared memory on
// this machine); the same module reduces them once loaded.
registerLazyHandleType("ArrowTable", () => import("./arrow/shared-table.js"));
registerForeignType("ArrowTable", isArrowTableLike, () => import("./arrow/shared-table.js"));
export { Listener, Client, type Address, type AuthKey, type ConnectionOptions, type ListenerOptions } from "./connection/listener.js";
export { SocketConnection } from "./connection/socket-connection.js";
export { wait, type Pollable } from "./connection/wait.js";
export { Pipe, type PipeOptions } from "./connection/pipe.js";
export { Connection, type RecvOptions, type SendOptions, type PollOptions } from "./connection/connection.js";
export * from "./managers/index.js";
export { Queue, type QueueOptions, type PutOptions, type GetOptions, type SyncPutOptions, type SyncGetOptions } from "./queues/queue.js";
export { SimpleQueue, type SimpleQueueOptions } from "./queues/simple-queue.js";
export { JoinableQueue, type JoinOptions } from "./queues/joinable-queue.js";
export { LifoQueue } from "./queues/lifo-queue.js";
export { PriorityQueue } from "./queues/priority-queue.js";
export { Pool, type PoolOptions, type CallOptions, type ApplyOptions, type MapOptions, type MapAsyncOptions } from "./pool/pool.js";
export { AsyncResult } from "./pool/results.js";
export { PoolIterator } from "./pool/imap.js";
export type { WorkerStats } from "./pool/stats.js";
export type { ProgressOption } from "./pool/progress.js";
// The cluster loads bullmq and ioredis (optional peer dependencies) only when a pool or node starts.
export { ClusterPool, type ClusterPoolOptions, type ClusterNode } from "./cluster/cluster-pool.js";
export { WorkerNode, type WorkerNodeOptions } from "./cluster/worker-node.js";
export { Lock } from "./sync/lock.js";
export { RLock } from "./sync/rlock.js";
export type { LockAcquireOptions, LockAcquireSyncOptions } from "./sync/mutex-lock.js";
export type { AcquireOptions, AcquireSyncOptions, Guard, HoldOptions } from "./sync/hold.js";
export { Semaphore, BoundedSemaphore } from "./sync/semaphore.js";
export { Event, type EventWaitOptions } from "./sync/event.js";
export { Condition, type ConditionWaitOptions } from "./sync/condition.js";
export { Barrier, type BarrierAction, type BarrierOptions, type BarrierWaitOptions } from "./sync/barrier.js";
export { Value, RawValue, type ValueOptions } from "./shared/value.js";
export { SharedArray, RawArray, type SizeOrSequence } from "./shared/shared-array.js";
export type { Typecode, ValueType, ViewType, AtomicTypecode } from "./shared/typecodes.js";
export type { SynchronizedOptions } from "./shared/synchronized.js";

/** How many CPUs this process may use (Python's cpu_count, respecting affinity like os.process_cpu_count). */
export function cpuCount(): number {
  return availableParallelism();
}
