/**
 * Everything: processes and pools, queues and pipes, locks, shared values and memory, managers, the cluster pool. `import { Pool, Queue, Lock } from "multiproc"`.
 *
 * @module multiproc
 */
// multiproc: Python's multiprocessing for Node.js. Everything public is exported from here.
//
// Importing this must stay cheap (issue #15.3: under 30 ms): the classes and functions below come
// from lazy-api.ts, whose stand-ins load each feature's files on first use. Only errors, the
// abort helpers and the contexts' registry load now. Types come from the real modules.
import { availableParallelism } from "node:os";
import { preloadAll, syncLoading } from "./lazy.js";

export * from "./errors.js";
export { AbortError } from "./abort.js";
export type { StartMethod } from "./backends/backend.js";
export { getContext, getAllStartMethods, getStartMethod, setStartMethod, type Context } from "./context.js";
export { Process, activeChildren, currentProcess, parentProcess, isMainProcess, fromModule } from "./lazy-api.js";
export { reduce, revive } from "./transport/class-symbols.js";
export type { ProcessOptions, Target } from "./process.js";
export type { ProcessInfo, ParentInfo } from "./runtime.js";
// The subpath entries' names are these very stand-ins (lazy-api.ts).
export * from "./entry/shared-memory.js";
export * from "./entry/connection.js";
export type { RecvOptions, SendOptions, PollOptions } from "./connection/connection.js";
export * from "./entry/managers.js";
export { Queue, SimpleQueue, JoinableQueue, LifoQueue, PriorityQueue } from "./lazy-api.js";
export type { QueueOptions, PutOptions, GetOptions, SyncPutOptions, SyncGetOptions } from "./queues/queue.js";
export type { SimpleQueueOptions } from "./queues/simple-queue.js";
export type { JoinOptions } from "./queues/joinable-queue.js";
export { Pool, AsyncResult, PoolIterator } from "./lazy-api.js";
export type { PoolOptions, CallOptions, ApplyOptions, MapOptions, MapAsyncOptions } from "./pool/pool.js";
export type { WorkerStats, PoolStats, PoolWorkerStats, TaskFigures, TimeSummary } from "./pool/stats.js";
export { currentTask } from "./lazy-api.js";
export type { TaskContext } from "./pool/current-task.js";
export type { SettledResult } from "./pool/calls.js";
export type { ResourceLimits } from "./pool/scheduler.js";
export type { ProgressOption } from "./pool/progress.js";
// The cluster loads bullmq and ioredis (optional peer dependencies) only when a pool or node starts.
export * from "./entry/cluster.js";
export { Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition, Barrier, Value, RawValue, SharedArray, RawArray } from "./lazy-api.js";
export type { LockAcquireOptions, LockAcquireSyncOptions } from "./sync/mutex-lock.js";
export type { AcquireOptions, AcquireSyncOptions, Guard, HoldOptions } from "./sync/hold.js";
export type { EventWaitOptions } from "./sync/event.js";
export type { ConditionWaitOptions } from "./sync/condition.js";
export type { BarrierAction, BarrierOptions, BarrierWaitOptions } from "./sync/barrier.js";
export type { ValueOptions } from "./shared/value.js";
export type { SizeOrSequence } from "./shared/shared-array.js";
export type { Typecode, ValueType, ViewType, AtomicTypecode } from "./shared/typecodes.js";
export type { SynchronizedOptions } from "./shared/synchronized.js";

// Without require(esm) (Node < 20.19, 22.0-22.11) nothing can load synchronously on first use:
// load everything now, as before.
if (!syncLoading) await preloadAll();

/**
 * How many CPUs this process may use (Python's cpu_count, respecting affinity like os.process_cpu_count).
 *
 * @example
 * ```ts
 * import { cpuCount, Pool } from "multiproc";
 * await using pool = new Pool(cpuCount()); // what new Pool() does by default
 * ```
 */
export function cpuCount(): number {
  return availableParallelism();
}
