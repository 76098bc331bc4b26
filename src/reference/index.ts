/**
 * Everything: processes and pools, queues and pipes, locks, shared values and memory, managers, the cluster pool. `import { Pool, Queue, Lock } from "multiproc"`.
 *
 * @module multiproc
 */
// The API reference's view of the package root (typedoc.json's entry). The root itself exports
// lazy stand-ins (lazy-api.ts: each feature loads on first use, issue #15.3), which TypeDoc would
// show as bare variables; this file exports the same names from the real modules, so the
// reference shows the classes. Explicit exports win over `export *`: a name added to lazy-api.ts
// and not here reaches TypeDoc as a stand-in without an @example, and `npm run docs` fails.
// test/docs-reference.test.ts checks that both give the same names. Never imported at run time.
export * from "../index.js";
export { Process, activeChildren } from "../process.js";
export { currentProcess, parentProcess, isMainProcess } from "../runtime.js";
export { fromModule } from "../target.js";
export { Queue } from "../queues/queue.js";
export { SimpleQueue } from "../queues/simple-queue.js";
export { JoinableQueue } from "../queues/joinable-queue.js";
export { LifoQueue } from "../queues/lifo-queue.js";
export { PriorityQueue } from "../queues/priority-queue.js";
export { Pool } from "../pool/pool.js";
export { AsyncResult } from "../pool/results.js";
export { PoolIterator } from "../pool/imap.js";
export { currentTask } from "../pool/current-task.js";
export { Lock } from "../sync/lock.js";
export { RLock } from "../sync/rlock.js";
export { Semaphore, BoundedSemaphore } from "../sync/semaphore.js";
export { Event } from "../sync/event.js";
export { Condition } from "../sync/condition.js";
export { Barrier } from "../sync/barrier.js";
export { Value, RawValue } from "../shared/value.js";
export { SharedArray, RawArray } from "../shared/shared-array.js";
export { SharedMemory } from "../shared/shared-memory.js";
export { ShareableList } from "../shared/shareable-list.js";
export { Listener, Client } from "../connection/listener.js";
export { SocketConnection } from "../connection/socket-connection.js";
export { wait } from "../connection/wait.js";
export { Pipe } from "../connection/pipe.js";
export { Connection } from "../connection/connection.js";
export {
  BaseManager, SyncManager, Manager, SharedMemoryManager, BaseProxy, Server, ArrayProxy, BarrierProxy, ConditionProxy, DictProxy,
  EventProxy, JoinableQueueProxy, ListProxy, LockProxy, NamespaceProxy, QueueProxy, RLockProxy, SemaphoreProxy, ValueProxy,
  PickleProxy,
} from "../managers/index.js";
export { ClusterPool } from "../cluster/cluster-pool.js";
export { WorkerNode } from "../cluster/worker-node.js";
