// The package's classes and functions, each loaded on first use (see lazy.ts): one lazy module per
// feature file, so that using a Lock loads the lock's files and nothing of the pool or managers.
// Each name is both a value (the lazy stand-in, usable with `new`, `instanceof` and `extends`)
// and a type (the real class's instance type), exactly as `export { X } from` gave them.
import { lazyClass, lazyFunction, lazyModule } from "./lazy.js";
import type { DictKey } from "./managers/proxies.js";
import type { Typecode } from "./shared/typecodes.js";

const processM = lazyModule<typeof import("./process.js")>(new URL("./process.js", import.meta.url));
export const Process = lazyClass(processM, "Process");
export type Process<A extends unknown[] = unknown[]> = import("./process.js").Process<A>;
export const activeChildren = lazyFunction(processM, "activeChildren");

const currentTaskM = lazyModule<typeof import("./pool/current-task.js")>(new URL("./pool/current-task.js", import.meta.url));
export const currentTask = lazyFunction(currentTaskM, "currentTask");

const runtimeM = lazyModule<typeof import("./runtime.js")>(new URL("./runtime.js", import.meta.url));
export const currentProcess = lazyFunction(runtimeM, "currentProcess");
export const parentProcess = lazyFunction(runtimeM, "parentProcess");
export const isMainProcess = lazyFunction(runtimeM, "isMainProcess");

const targetM = lazyModule<typeof import("./target.js")>(new URL("./target.js", import.meta.url));
export const fromModule = lazyFunction(targetM, "fromModule");

const sharedMemoryM = lazyModule<typeof import("./shared/shared-memory.js")>(new URL("./shared/shared-memory.js", import.meta.url));
export const SharedMemory = lazyClass(sharedMemoryM, "SharedMemory");
export type SharedMemory = import("./shared/shared-memory.js").SharedMemory;

const shareableListM = lazyModule<typeof import("./shared/shareable-list.js")>(new URL("./shared/shareable-list.js", import.meta.url));
export const ShareableList = lazyClass(shareableListM, "ShareableList");
export type ShareableList = import("./shared/shareable-list.js").ShareableList;

const listenerM = lazyModule<typeof import("./connection/listener.js")>(new URL("./connection/listener.js", import.meta.url));
export const Listener = lazyClass(listenerM, "Listener");
export type Listener = import("./connection/listener.js").Listener;
export const Client = lazyFunction(listenerM, "Client");

const socketConnectionM = lazyModule<typeof import("./connection/socket-connection.js")>(new URL("./connection/socket-connection.js", import.meta.url));
export const SocketConnection = lazyClass(socketConnectionM, "SocketConnection");
export type SocketConnection = import("./connection/socket-connection.js").SocketConnection;

const waitModuleM = lazyModule<typeof import("./connection/wait.js")>(new URL("./connection/wait.js", import.meta.url));
export const wait = lazyFunction(waitModuleM, "wait");

const pipeM = lazyModule<typeof import("./connection/pipe.js")>(new URL("./connection/pipe.js", import.meta.url));
export const Pipe = lazyFunction(pipeM, "Pipe");

const connectionM = lazyModule<typeof import("./connection/connection.js")>(new URL("./connection/connection.js", import.meta.url));
export const Connection = lazyClass(connectionM, "Connection");
export type Connection<T = unknown> = import("./connection/connection.js").Connection<T>;

const managersM = lazyModule<typeof import("./managers/index.js")>(new URL("./managers/index.js", import.meta.url));
export const BaseManager = lazyClass(managersM, "BaseManager");
export type BaseManager = import("./managers/index.js").BaseManager;
export const SyncManager = lazyClass(managersM, "SyncManager");
export type SyncManager = import("./managers/index.js").SyncManager;
export const Manager = lazyFunction(managersM, "Manager");
export const SharedMemoryManager = lazyClass(managersM, "SharedMemoryManager");
export type SharedMemoryManager = import("./managers/index.js").SharedMemoryManager;
export const BaseProxy = lazyClass(managersM, "BaseProxy");
export type BaseProxy = import("./managers/index.js").BaseProxy;
export const Server = lazyClass(managersM, "Server");
export type Server = import("./managers/index.js").Server;
export const ArrayProxy = lazyClass(managersM, "ArrayProxy");
export type ArrayProxy<T extends number | bigint = number> = import("./managers/index.js").ArrayProxy<T>;
export const BarrierProxy = lazyClass(managersM, "BarrierProxy");
export type BarrierProxy = import("./managers/index.js").BarrierProxy;
export const ConditionProxy = lazyClass(managersM, "ConditionProxy");
export type ConditionProxy = import("./managers/index.js").ConditionProxy;
export const DictProxy = lazyClass(managersM, "DictProxy");
export type DictProxy<K extends DictKey = DictKey, V = unknown> = import("./managers/index.js").DictProxy<K, V>;
export const EventProxy = lazyClass(managersM, "EventProxy");
export type EventProxy = import("./managers/index.js").EventProxy;
export const JoinableQueueProxy = lazyClass(managersM, "JoinableQueueProxy");
export type JoinableQueueProxy<T = unknown> = import("./managers/index.js").JoinableQueueProxy<T>;
export const ListProxy = lazyClass(managersM, "ListProxy");
export type ListProxy<T = unknown> = import("./managers/index.js").ListProxy<T>;
export const LockProxy = lazyClass(managersM, "LockProxy");
export type LockProxy = import("./managers/index.js").LockProxy;
export const NamespaceProxy = lazyClass(managersM, "NamespaceProxy");
export type NamespaceProxy = import("./managers/index.js").NamespaceProxy;
export const QueueProxy = lazyClass(managersM, "QueueProxy");
export type QueueProxy<T = unknown> = import("./managers/index.js").QueueProxy<T>;
export const RLockProxy = lazyClass(managersM, "RLockProxy");
export type RLockProxy = import("./managers/index.js").RLockProxy;
export const SemaphoreProxy = lazyClass(managersM, "SemaphoreProxy");
export type SemaphoreProxy = import("./managers/index.js").SemaphoreProxy;
export const ValueProxy = lazyClass(managersM, "ValueProxy");
export type ValueProxy<T = unknown> = import("./managers/index.js").ValueProxy<T>;
export const PickleProxy = lazyClass(managersM, "PickleProxy");
export type PickleProxy = import("./managers/index.js").PickleProxy;

const queueM = lazyModule<typeof import("./queues/queue.js")>(new URL("./queues/queue.js", import.meta.url));
export const Queue = lazyClass(queueM, "Queue");
export type Queue<T = unknown> = import("./queues/queue.js").Queue<T>;

const simpleQueueM = lazyModule<typeof import("./queues/simple-queue.js")>(new URL("./queues/simple-queue.js", import.meta.url));
export const SimpleQueue = lazyClass(simpleQueueM, "SimpleQueue");
export type SimpleQueue<T = unknown> = import("./queues/simple-queue.js").SimpleQueue<T>;

const joinableQueueM = lazyModule<typeof import("./queues/joinable-queue.js")>(new URL("./queues/joinable-queue.js", import.meta.url));
export const JoinableQueue = lazyClass(joinableQueueM, "JoinableQueue");
export type JoinableQueue<T = unknown> = import("./queues/joinable-queue.js").JoinableQueue<T>;

const lifoQueueM = lazyModule<typeof import("./queues/lifo-queue.js")>(new URL("./queues/lifo-queue.js", import.meta.url));
export const LifoQueue = lazyClass(lifoQueueM, "LifoQueue");
export type LifoQueue<T = unknown> = import("./queues/lifo-queue.js").LifoQueue<T>;

const priorityQueueM = lazyModule<typeof import("./queues/priority-queue.js")>(new URL("./queues/priority-queue.js", import.meta.url));
export const PriorityQueue = lazyClass(priorityQueueM, "PriorityQueue");
export type PriorityQueue<T = unknown> = import("./queues/priority-queue.js").PriorityQueue<T>;

const poolM = lazyModule<typeof import("./pool/pool.js")>(new URL("./pool/pool.js", import.meta.url));
export const Pool = lazyClass(poolM, "Pool");
export type Pool = import("./pool/pool.js").Pool;

const resultsM = lazyModule<typeof import("./pool/results.js")>(new URL("./pool/results.js", import.meta.url));
export const AsyncResult = lazyClass(resultsM, "AsyncResult");
export type AsyncResult<T> = import("./pool/results.js").AsyncResult<T>;

const imapM = lazyModule<typeof import("./pool/imap.js")>(new URL("./pool/imap.js", import.meta.url));
export const PoolIterator = lazyClass(imapM, "PoolIterator");
export type PoolIterator<R> = import("./pool/imap.js").PoolIterator<R>;

const clusterPoolM = lazyModule<typeof import("./cluster/cluster-pool.js")>(new URL("./cluster/cluster-pool.js", import.meta.url));
export const ClusterPool = lazyClass(clusterPoolM, "ClusterPool");
export type ClusterPool = import("./cluster/cluster-pool.js").ClusterPool;

const workerNodeM = lazyModule<typeof import("./cluster/worker-node.js")>(new URL("./cluster/worker-node.js", import.meta.url));
export const WorkerNode = lazyClass(workerNodeM, "WorkerNode");
export type WorkerNode = import("./cluster/worker-node.js").WorkerNode;

const lockM = lazyModule<typeof import("./sync/lock.js")>(new URL("./sync/lock.js", import.meta.url));
export const Lock = lazyClass(lockM, "Lock");
export type Lock = import("./sync/lock.js").Lock;

const rlockM = lazyModule<typeof import("./sync/rlock.js")>(new URL("./sync/rlock.js", import.meta.url));
export const RLock = lazyClass(rlockM, "RLock");
export type RLock = import("./sync/rlock.js").RLock;

const semaphoreM = lazyModule<typeof import("./sync/semaphore.js")>(new URL("./sync/semaphore.js", import.meta.url));
export const Semaphore = lazyClass(semaphoreM, "Semaphore");
export type Semaphore = import("./sync/semaphore.js").Semaphore;
export const BoundedSemaphore = lazyClass(semaphoreM, "BoundedSemaphore");
export type BoundedSemaphore = import("./sync/semaphore.js").BoundedSemaphore;

const eventM = lazyModule<typeof import("./sync/event.js")>(new URL("./sync/event.js", import.meta.url));
export const Event = lazyClass(eventM, "Event");
export type Event = import("./sync/event.js").Event;

const conditionM = lazyModule<typeof import("./sync/condition.js")>(new URL("./sync/condition.js", import.meta.url));
export const Condition = lazyClass(conditionM, "Condition");
export type Condition = import("./sync/condition.js").Condition;

const barrierM = lazyModule<typeof import("./sync/barrier.js")>(new URL("./sync/barrier.js", import.meta.url));
export const Barrier = lazyClass(barrierM, "Barrier");
export type Barrier = import("./sync/barrier.js").Barrier;

const valueM = lazyModule<typeof import("./shared/value.js")>(new URL("./shared/value.js", import.meta.url));
export const Value = lazyClass(valueM, "Value");
export type Value<T extends Typecode = Typecode> = import("./shared/value.js").Value<T>;
export const RawValue = lazyClass(valueM, "RawValue");
export type RawValue<T extends Typecode = Typecode> = import("./shared/value.js").RawValue<T>;

const sharedArrayM = lazyModule<typeof import("./shared/shared-array.js")>(new URL("./shared/shared-array.js", import.meta.url));
export const SharedArray = lazyClass(sharedArrayM, "SharedArray");
export type SharedArray<T extends Typecode = Typecode> = import("./shared/shared-array.js").SharedArray<T>;
export const RawArray = lazyClass(sharedArrayM, "RawArray");
export type RawArray<T extends Typecode = Typecode> = import("./shared/shared-array.js").RawArray<T>;
