// SyncManager and Manager(): BaseManager with Python's shared types (dict, list, Namespace, the
// queues, the locks, Value and Array), served by the objects in objects/ through typed proxies.
import type { ServerDict } from "./objects/collections.js";
import { BaseManager, type ManagerOptions } from "./base-manager.js";
import { SYNC_TYPES } from "./builtins.js";
import type {
  ArrayProxy, BarrierProxy, ConditionProxy, DictKey, DictProxy, EventProxy, JoinableQueueProxy, ListProxy, LockProxy,
  NamespaceProxy, QueueProxy, RLockProxy, SemaphoreProxy, ValueProxy,
} from "./proxies.js";

/**
 * The manager that makes shared dict, list, Namespace, Queue, locks, Value and Array objects whose proxies work from any process (Python's `multiprocessing.managers.SyncManager`). `await Manager()` gives a started one.
 *
 * @example
 * ```ts
 * import { SyncManager } from "multiproc/managers";
 * await using manager = new SyncManager();
 * await manager.start();
 * const l = await manager.list([1, 2, 3]);
 * await l.append(4);
 * console.log(await l.toArray()); // [ 1, 2, 3, 4 ]
 * ```
 */
export class SyncManager extends BaseManager {
  protected static override builtinTypeids: ReadonlySet<string> = new Set(Object.keys(SYNC_TYPES));

  /** A shared dict (a Map on the server), optionally filled from `init`. */
  dict<K extends DictKey = DictKey, V = unknown>(init?: Map<K, V> | Record<string, V> | [K, V][]): Promise<DictProxy<K, V>> {
    return this.create<ServerDict>("dict", init) as unknown as Promise<DictProxy<K, V>>;
  }
  /** A shared list, with `items` in it. */
  list<T = unknown>(init?: Iterable<T>): Promise<ListProxy<T>> {
    return this.create("list", init === undefined ? undefined : [...init]) as unknown as Promise<ListProxy<T>>;
  }
  /** A shared Namespace, with `init`'s attributes. */
  Namespace(init?: Record<string, unknown>): Promise<NamespaceProxy> {
    return this.create("Namespace", init) as unknown as Promise<NamespaceProxy>;
  }
  /** A shared Queue of at most `maxsize` items (0: no limit). */
  Queue<T = unknown>(maxsize = 0): Promise<QueueProxy<T>> {
    return this.create("Queue", maxsize) as unknown as Promise<QueueProxy<T>>;
  }
  /** A shared JoinableQueue. */
  JoinableQueue<T = unknown>(maxsize = 0): Promise<JoinableQueueProxy<T>> {
    return this.create("JoinableQueue", maxsize) as unknown as Promise<JoinableQueueProxy<T>>;
  }
  /** A shared Lock. */
  Lock(): Promise<LockProxy> {
    return this.create("Lock") as unknown as Promise<LockProxy>;
  }
  /** A shared RLock. */
  RLock(): Promise<RLockProxy> {
    return this.create("RLock") as unknown as Promise<RLockProxy>;
  }
  /** A shared Semaphore. */
  Semaphore(value = 1): Promise<SemaphoreProxy> {
    return this.create("Semaphore", value) as unknown as Promise<SemaphoreProxy>;
  }
  /** A shared BoundedSemaphore. */
  BoundedSemaphore(value = 1): Promise<SemaphoreProxy> {
    return this.create("BoundedSemaphore", value) as unknown as Promise<SemaphoreProxy>;
  }
  /** A Condition over `lock` (a Lock or RLock proxy of this manager), or a fresh RLock. */
  Condition(lock?: LockProxy | RLockProxy): Promise<ConditionProxy> {
    return this.create("Condition", lock) as unknown as Promise<ConditionProxy>;
  }
  /** A shared Event. */
  Event(): Promise<EventProxy> {
    return this.create("Event") as unknown as Promise<EventProxy>;
  }
  /** A shared Barrier for `parties` parties. */
  Barrier(parties: number, options: { timeout?: number } = {}): Promise<BarrierProxy> {
    return this.create("Barrier", parties, options) as unknown as Promise<BarrierProxy>;
  }
  /** A shared value of any kind (the typecode is informational, as in CPython's managers). */
  Value<T = unknown>(typecode: string, value: T): Promise<ValueProxy<T>> {
    return this.create("Value", typecode, value) as unknown as Promise<ValueProxy<T>>;
  }
  /** A fixed-length array of numbers of one typecode (Python's array.array). */
  Array<T extends number | bigint = number>(typecode: string, sizeOrSequence: number | Iterable<NoInfer<T>>): Promise<ArrayProxy<T>> {
    const init = typeof sizeOrSequence === "number" ? sizeOrSequence : [...sizeOrSequence];
    return this.create("Array", typecode, init) as unknown as Promise<ArrayProxy<T>>;
  }
}

for (const typeid of Object.keys(SYNC_TYPES)) SyncManager.register(typeid, undefined, { createMethod: false });

/**
 * A started SyncManager whose server runs in a child process (Python's multiprocessing.Manager()).
 *
 * @example
 * ```ts
 * import { isMainProcess, Manager, Process, type DictProxy } from "multiproc";
 *
 * export async function fill(d: DictProxy<number, number>, i: number) {
 *   await d.set(i, i * 2);
 * }
 *
 * if (isMainProcess()) {
 *   await using manager = await Manager(); // shut down at the end of the block
 *   const d = await manager.dict<number, number>();
 *   const ps = [0, 1, 2].map((i) => new Process({ target: fill, args: [d, i] }));
 *   ps.forEach((p) => p.start());
 *   for (const p of ps) await p.join();
 *   console.log(await d.entries()); // [ [ 0, 0 ], [ 1, 2 ], [ 2, 4 ] ] in some order
 * }
 * ```
 */
export async function Manager(options: ManagerOptions = {}): Promise<SyncManager> {
  const manager = new SyncManager(options);
  await manager.start();
  return manager;
}
