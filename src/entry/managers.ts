/**
 * Python's `multiprocessing.managers`: Manager, SyncManager, BaseManager, SharedMemoryManager and the proxies. Everything here is also exported by `multiproc`.
 *
 * @module multiproc/managers
 */
// multiproc/managers: Python's multiprocessing.managers for readers coming from Python. The names
// are the package root's (loaded on first use, lazy-api.ts), so both entries give the same.
export {
  BaseManager, SyncManager, Manager, SharedMemoryManager, BaseProxy, Server, ArrayProxy, BarrierProxy, ConditionProxy, DictProxy,
  EventProxy, JoinableQueueProxy, ListProxy, LockProxy, NamespaceProxy, QueueProxy, RLockProxy, SemaphoreProxy, ValueProxy,
  PickleProxy,
} from "../lazy-api.js";
export type { Callable, ManagerOptions, RegisterOptions, Registered, StartOptions } from "../managers/base-manager.js";
export type { Remote } from "../managers/proxy.js";
export type { Serializer, ServerType } from "../managers/server.js";
export type { BlockOptions, DictKey } from "../managers/proxies.js";
