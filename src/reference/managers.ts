/**
 * Python's `multiprocessing.managers`: Manager, SyncManager, BaseManager, SharedMemoryManager and the proxies. Everything here is also exported by `multiproc`.
 *
 * @module multiproc/managers
 */
// The API reference's view of multiproc/managers: the real classes (see reference/index.ts).
export * from "../entry/managers.js";
export {
  BaseManager, SyncManager, Manager, SharedMemoryManager, BaseProxy, Server, ArrayProxy, BarrierProxy, ConditionProxy, DictProxy,
  EventProxy, JoinableQueueProxy, ListProxy, LockProxy, NamespaceProxy, QueueProxy, RLockProxy, SemaphoreProxy, ValueProxy,
  PickleProxy,
} from "../managers/index.js";
