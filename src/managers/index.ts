// The managers' public surface (re-exported by the package root and multiproc/managers).
export { BaseManager, type Callable, type ManagerOptions, type RegisterOptions, type Registered, type StartOptions } from "./base-manager.js";
export { SyncManager, Manager } from "./sync-manager.js";
export { SharedMemoryManager } from "./shared-memory-manager.js";
export { BaseProxy, type Remote } from "./proxy.js";
export { Server, type Serializer, type ServerType } from "./server.js";
export { PickleProxy } from "./pickle/client.js";
export {
  ArrayProxy, BarrierProxy, ConditionProxy, DictProxy, EventProxy, JoinableQueueProxy, ListProxy, LockProxy, NamespaceProxy,
  QueueProxy, RLockProxy, SemaphoreProxy, ValueProxy, type BlockOptions, type DictKey,
} from "./proxies.js";
