// Typed proxies for SyncManager's types. Every method is a request to the server and returns a
// Promise; the names follow SPEC (Python's, camelCased, with JS's get/set for item access).
import { ErrorCodes, TimeoutError } from "../errors.js";
import { checkOptions, checkTimeout } from "../validate.js";
import { BaseProxy, registerProxyType } from "./proxy.js";

/**
 * Dict keys are compared by value on the server, so they are primitives.
 *
 * @example
 * ```ts
 * import { Manager, type DictKey } from "multiproc";
 * await using manager = await Manager();
 * const key: DictKey = 0.25;
 * const d = await manager.dict<DictKey, unknown>();
 * await d.set(key, null);
 * ```
 */
export type DictKey = string | number | bigint | boolean | null | undefined;

/**
 * Options of the proxies' blocking calls (queue put and get, lock acquire): `block` and a `timeout` in ms.
 *
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const q = await manager.Queue<number>();
 * await q.get({ block: true, timeout: 100 }).catch((err) => console.log(err.code)); // "ERR_QUEUE_EMPTY"
 * ```
 */
export interface BlockOptions {
  /** Wait when the operation cannot proceed now (default true). */
  block?: boolean;
  /** At most this many milliseconds. */
  timeout?: number;
}

function checked<T extends object | undefined>(options: T): T {
  if (options !== undefined) checkTimeout(checkOptions(options).timeout);
  return options;
}

/**
 * A proxy of a manager's dict: `await d.set(k, v)`, `await d.get(k)`, has, delete, keys, values, entries, update, pop, ...
 *
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const d = await manager.dict<string, number>();
 * await d.set("a", 1);
 * console.log(await d.get("a"), await d.has("b"), await d.size()); // 1 false 1
 * ```
 */
export class DictProxy<K extends DictKey = DictKey, V = unknown> extends BaseProxy {
  /** The value of `key`, or `fallback` (undefined by default) when it is absent (`d.get(k, default)`). */
  get(key: K): Promise<V | undefined>;
  get<D>(key: K, fallback: D): Promise<V | D>;
  get(key: K, ...fallback: unknown[]): Promise<unknown> {
    return this._callMethod("get", [key, ...fallback]);
  }
  /** Sets `key` to `value` (`d[k] = v`). */
  set(key: K, value: V): Promise<void> {
    return this._callMethod("set", [key, value]) as Promise<void>;
  }
  /** Removes `key`; resolves whether it was there. */
  delete(key: K): Promise<boolean> {
    return this._callMethod("delete", [key]) as Promise<boolean>;
  }
  /** Whether `key` is present (`k in d`). */
  has(key: K): Promise<boolean> {
    return this._callMethod("has", [key]) as Promise<boolean>;
  }
  /** How many items (`len(d)`). */
  size(): Promise<number> {
    return this._callMethod("size") as Promise<number>;
  }
  /** Every key. */
  keys(): Promise<K[]> {
    return this._callMethod("keys") as Promise<K[]>;
  }
  /** Every value. */
  values(): Promise<V[]> {
    return this._callMethod("values") as Promise<V[]>;
  }
  /** Every `[key, value]` pair (Python's `d.items()`). */
  entries(): Promise<[K, V][]> {
    return this._callMethod("entries") as Promise<[K, V][]>;
  }
  /** The value of `key`, set to `fallback` first when absent. */
  setdefault(key: K, fallback: V): Promise<V> {
    return this._callMethod("setdefault", [key, fallback]) as Promise<V>;
  }
  /** Removes and returns the value; without a fallback a missing key rejects (KeyError). */
  pop(key: K): Promise<V>;
  pop<D>(key: K, fallback: D): Promise<V | D>;
  pop(key: K, ...fallback: unknown[]): Promise<unknown> {
    return this._callMethod("pop", [key, ...fallback]);
  }
  /** Removes and returns the last `[key, value]` inserted. */
  popitem(): Promise<[K, V]> {
    return this._callMethod("popitem") as Promise<[K, V]>;
  }
  /** Sets every pair of `other` (an object, a Map or pairs). */
  update(other: Map<K, V> | Record<string, V> | [K, V][]): Promise<void> {
    return this._callMethod("update", [other]) as Promise<void>;
  }
  /** Removes every item. */
  clear(): Promise<void> {
    return this._callMethod("clear") as Promise<void>;
  }
  /** A copy of the whole dict (Python's dict(d)). */
  copy(): Promise<Map<K, V>> {
    return this._callMethod("copy") as Promise<Map<K, V>>;
  }
}

/**
 * A proxy of a manager's list: `await l.append(x)`, get, set, extend, insert, pop, remove, index, count, sort, toArray, ...
 *
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const l = await manager.list([3, 1, 2]);
 * await l.append(0);
 * await l.sort();
 * console.log(await l.toArray(), await l.length()); // [ 0, 1, 2, 3 ] 4
 * ```
 */
export class ListProxy<T = unknown> extends BaseProxy {
  /** Item `i`; negative indices count from the end, as in Python. */
  get(i: number): Promise<T> {
    return this._callMethod("get", [i]) as Promise<T>;
  }
  /** Sets item `i` (`l[i] = v`). */
  set(i: number, value: T): Promise<void> {
    return this._callMethod("set", [i, value]) as Promise<void>;
  }
  /** Adds `item` at the end. */
  append(value: T): Promise<void> {
    return this._callMethod("append", [value]) as Promise<void>;
  }
  /** Adds every item of `items` at the end. */
  extend(values: T[]): Promise<void> {
    return this._callMethod("extend", [values]) as Promise<void>;
  }
  /** Inserts `item` before position `i`. */
  insert(i: number, value: T): Promise<void> {
    return this._callMethod("insert", [i, value]) as Promise<void>;
  }
  /** Removes and returns item `i` (the last by default). */
  pop(i?: number): Promise<T> {
    return this._callMethod("pop", i === undefined ? [] : [i]) as Promise<T>;
  }
  /** Removes the first item equal to `value`; rejects with ERR_VALUE_NOT_FOUND when there is none. */
  remove(value: T): Promise<void> {
    return this._callMethod("remove", [value]) as Promise<void>;
  }
  /** The position of the first item equal to `value`; rejects with ERR_VALUE_NOT_FOUND when there is none. */
  index(value: T, start?: number, stop?: number): Promise<number> {
    return this._callMethod("index", [value, start ?? 0, stop]) as Promise<number>;
  }
  /** How many items equal `value`. */
  count(value: T): Promise<number> {
    return this._callMethod("count", [value]) as Promise<number>;
  }
  /** Reverses the list in place. */
  reverse(): Promise<void> {
    return this._callMethod("reverse") as Promise<void>;
  }
  /** Sorts the list in place on the server. */
  sort(options?: { reverse?: boolean }): Promise<void> {
    return this._callMethod("sort", [options ?? {}]) as Promise<void>;
  }
  /** Items `start` to `end` as a plain array (`l[start:end]`). */
  slice(start?: number, end?: number): Promise<T[]> {
    return this._callMethod("slice", [start, end]) as Promise<T[]>;
  }
  /** The list's length (`len(l)`). */
  length(): Promise<number> {
    return this._callMethod("length") as Promise<number>;
  }
  /** A copy of the whole list (Python's list(l)). */
  toArray(): Promise<T[]> {
    return this._callMethod("toArray") as Promise<T[]>;
  }
}

/**
 * A proxy of a manager's Namespace: attributes through `await ns.set(name, v)` and `await ns.get(name)`.
 *
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const ns = await manager.Namespace();
 * await ns.set("answer", 42);
 * console.log(await ns.get("answer"), await ns.toObject()); // 42 { answer: 42 }
 * ```
 */
export class NamespaceProxy extends BaseProxy {
  /** The attribute's value; a missing one rejects (AttributeError). */
  get<T = unknown>(name: string): Promise<T> {
    return this._callMethod("get", [name]) as Promise<T>;
  }
  /** Sets attribute `name` (`ns.name = value`). */
  set(name: string, value: unknown): Promise<void> {
    return this._callMethod("set", [name, value]) as Promise<void>;
  }
  /** Removes attribute `name` (`del ns.name`). */
  delete(name: string): Promise<boolean> {
    return this._callMethod("delete", [name]) as Promise<boolean>;
  }
  /** Whether attribute `name` exists. */
  has(name: string): Promise<boolean> {
    return this._callMethod("has", [name]) as Promise<boolean>;
  }
  /** Every attribute, as a plain object. */
  toObject(): Promise<Record<string, unknown>> {
    return this._callMethod("toObject") as Promise<Record<string, unknown>>;
  }
}

/**
 * A proxy of a manager's Value: `await v.get()` and `await v.set(x)`.
 *
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const v = await manager.Value("i", 1);
 * await v.set((await v.get()) + 1);
 * ```
 */
export class ValueProxy<T = unknown> extends BaseProxy {
  /** The value (Python's `v.value`). */
  get(): Promise<T> {
    return this._callMethod("get") as Promise<T>;
  }
  /** Sets the value (`v.value = x`). */
  set(value: T): Promise<void> {
    return this._callMethod("set", [value]) as Promise<void>;
  }
}

/**
 * A proxy of a manager's Array: `await a.get(i)`, `await a.set(i, x)`, length, toArray.
 *
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const a = await manager.Array("i", [1, 2, 3]);
 * await a.set(0, 10);
 * console.log(await a.toArray()); // [ 10, 2, 3 ]
 * ```
 */
export class ArrayProxy<T extends number | bigint = number> extends BaseProxy {
  /** Item `i` (Python's `a[i]`). */
  get(i: number): Promise<T> {
    return this._callMethod("get", [i]) as Promise<T>;
  }
  /** Sets item `i` (`a[i] = v`). */
  set(i: number, value: T): Promise<void> {
    return this._callMethod("set", [i, value]) as Promise<void>;
  }
  /** The array's length (`len(a)`). */
  length(): Promise<number> {
    return this._callMethod("length") as Promise<number>;
  }
  /** Every item, as a plain array (`a[:]`). */
  toArray(): Promise<T[]> {
    return this._callMethod("toArray") as Promise<T[]>;
  }
  /** Items `start` to `end` as a plain array (`a[start:end]`). */
  slice(start?: number, end?: number): Promise<T[]> {
    return this._callMethod("slice", [start, end]) as Promise<T[]>;
  }
}

/**
 * A proxy of a manager's Queue: put, get, qsize, empty, full and their nowait forms, all async.
 *
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const q = await manager.Queue<string>();
 * await q.put("job");
 * console.log(await q.get({ timeout: 1000 })); // job
 * ```
 */
export class QueueProxy<T = unknown> extends BaseProxy {
  /** Puts an item; a full queue waits (or rejects with Full when not blocking or at the timeout). */
  put(item: T, options?: BlockOptions): Promise<void> {
    return this._callMethod("put", [item, checked(options)]) as Promise<void>;
  }
  /** Takes an item; an empty queue waits (or rejects with Empty when not blocking or at the timeout). */
  get(options?: BlockOptions): Promise<T> {
    return this._callMethod("get", [checked(options)]) as Promise<T>;
  }
  /** put() that rejects with Full at once instead of waiting. */
  putNowait(item: T): Promise<void> {
    return this._callMethod("putNowait", [item]) as Promise<void>;
  }
  /** get() that rejects with Empty at once instead of waiting. */
  getNowait(): Promise<T> {
    return this._callMethod("getNowait") as Promise<T>;
  }
  /** How many items are queued. */
  qsize(): Promise<number> {
    return this._callMethod("qsize") as Promise<number>;
  }
  /** Whether the queue is empty now. */
  empty(): Promise<boolean> {
    return this._callMethod("empty") as Promise<boolean>;
  }
  /** Whether the queue is full now. */
  full(): Promise<boolean> {
    return this._callMethod("full") as Promise<boolean>;
  }
}

/**
 * A proxy of a manager's JoinableQueue: a QueueProxy with taskDone() and join().
 *
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const q = await manager.JoinableQueue<number>();
 * await q.put(1);
 * await q.get();
 * await q.taskDone();
 * await q.join();
 * ```
 */
export class JoinableQueueProxy<T = unknown> extends QueueProxy<T> {
  /** Marks one item got from the queue as done (Python's task_done). */
  taskDone(): Promise<void> {
    return this._callMethod("taskDone") as Promise<void>;
  }
  /** Resolves true when every item put was marked done, false at the timeout. */
  join(options?: { timeout?: number }): Promise<boolean> {
    return this._callMethod("join", [checked(options)]) as Promise<boolean>;
  }
}

/** `await using _ = await lock.hold()`: acquire now, release at the end of the scope. */
async function hold(proxy: { acquire(o?: BlockOptions): Promise<boolean>; release(): Promise<void> }, options?: BlockOptions): Promise<AsyncDisposable> {
  if (!(await proxy.acquire(options))) throw new TimeoutError("could not acquire within the timeout", { code: ErrorCodes.TIMEOUT });
  return { [Symbol.asyncDispose]: () => proxy.release() };
}

/**
 * A proxy of a manager's Lock: acquire, release and hold(), all async.
 *
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const lock = await manager.Lock();
 * await using _ = await lock.hold();
 * ```
 */
export class LockProxy extends BaseProxy {
  /** Resolves true once held, false when not blocking or at the timeout. */
  acquire(options?: BlockOptions): Promise<boolean> {
    return this._callMethod("acquire", [checked(options)]) as Promise<boolean>;
  }
  /** Releases the lock. */
  release(): Promise<void> {
    return this._callMethod("release") as Promise<void>;
  }
  /** Whether the lock is held now. */
  locked(): Promise<boolean> {
    return this._callMethod("locked") as Promise<boolean>;
  }
  /** Acquires the lock and returns a guard for `await using` (Python's `with lock:`). */
  hold(options?: BlockOptions): Promise<AsyncDisposable> {
    return hold(this, options);
  }
}

/**
 * A proxy of a manager's RLock.
 *
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const rlock = await manager.RLock();
 * await rlock.acquire();
 * await rlock.release();
 * ```
 */
export class RLockProxy extends BaseProxy {
  /** Acquires the lock (again, if this client holds it). */
  acquire(options?: BlockOptions): Promise<boolean> {
    return this._callMethod("acquire", [checked(options)]) as Promise<boolean>;
  }
  /** Releases one level of the lock. */
  release(): Promise<void> {
    return this._callMethod("release") as Promise<void>;
  }
  /** Acquires the lock and returns a guard for `await using`. */
  hold(options?: BlockOptions): Promise<AsyncDisposable> {
    return hold(this, options);
  }
}

/**
 * A proxy of a manager's Semaphore or BoundedSemaphore.
 *
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const sem = await manager.Semaphore(2);
 * await sem.acquire();
 * await sem.release();
 * ```
 */
export class SemaphoreProxy extends BaseProxy {
  /** Takes one unit, waiting while there is none. */
  acquire(options?: BlockOptions): Promise<boolean> {
    return this._callMethod("acquire", [checked(options)]) as Promise<boolean>;
  }
  /** Gives one unit back. */
  release(n = 1): Promise<void> {
    return this._callMethod("release", [n]) as Promise<void>;
  }
  /** The current value. */
  getValue(): Promise<number> {
    return this._callMethod("getValue") as Promise<number>;
  }
  /** Takes one unit and returns a guard for `await using`. */
  hold(options?: BlockOptions): Promise<AsyncDisposable> {
    return hold(this, options);
  }
}

/**
 * A proxy of a manager's Condition: acquire, release, wait, waitFor, notify, notifyAll.
 *
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const cond = await manager.Condition();
 * await cond.acquire();
 * await cond.notifyAll();
 * await cond.release();
 * ```
 */
export class ConditionProxy extends BaseProxy {
  /** Acquires the condition's lock. */
  acquire(options?: BlockOptions): Promise<boolean> {
    return this._callMethod("acquire", [checked(options)]) as Promise<boolean>;
  }
  /** Releases the condition's lock. */
  release(): Promise<void> {
    return this._callMethod("release") as Promise<void>;
  }
  /** Acquires the lock and returns a guard for `await using`. */
  hold(options?: BlockOptions): Promise<AsyncDisposable> {
    return hold(this, options);
  }
  /** Releases the lock, waits for notify (true) or the timeout (false), and re-acquires. */
  wait(options?: { timeout?: number }): Promise<boolean> {
    return this._callMethod("wait", [checked(options)]) as Promise<boolean>;
  }
  /** Waits until `predicate()` (run here, in the caller) is truthy; resolves its last result. */
  async waitFor<R>(predicate: () => R | Promise<R>, options?: { timeout?: number }): Promise<R> {
    const timeout = checkTimeout(checkOptions(options).timeout);
    const deadline = timeout === undefined ? undefined : Date.now() + timeout;
    let result = await predicate();
    while (!result) {
      const left = deadline === undefined ? undefined : deadline - Date.now();
      if (left !== undefined && left <= 0) break;
      await this.wait(left === undefined ? {} : { timeout: left });
      result = await predicate();
    }
    return result;
  }
  /** Wakes up to `n` waiters (default 1). */
  notify(n = 1): Promise<void> {
    return this._callMethod("notify", [n]) as Promise<void>;
  }
  /** Wakes every waiter. */
  notifyAll(): Promise<void> {
    return this._callMethod("notifyAll") as Promise<void>;
  }
}

/**
 * A proxy of a manager's Event: set, clear, isSet, wait.
 *
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const ev = await manager.Event();
 * await ev.set();
 * console.log(await ev.wait({ timeout: 100 })); // true
 * ```
 */
export class EventProxy extends BaseProxy {
  /** Sets the flag and wakes every waiter. */
  set(): Promise<void> {
    return this._callMethod("set") as Promise<void>;
  }
  /** Resets the flag to false. */
  clear(): Promise<void> {
    return this._callMethod("clear") as Promise<void>;
  }
  /** Whether the flag is true. */
  isSet(): Promise<boolean> {
    return this._callMethod("isSet") as Promise<boolean>;
  }
  /** Resolves true once the flag is set, false after `timeout` ms. */
  wait(options?: { timeout?: number }): Promise<boolean> {
    return this._callMethod("wait", [checked(options)]) as Promise<boolean>;
  }
}

/**
 * A proxy of a manager's Barrier: wait, reset, abort, parties, nWaiting, broken.
 *
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const barrier = await manager.Barrier(1);
 * console.log(await barrier.wait()); // 0
 * ```
 */
export class BarrierProxy extends BaseProxy {
  /** This party's arrival index (0..parties-1); BrokenBarrierError after abort, reset or a timeout. */
  wait(options?: { timeout?: number }): Promise<number> {
    return this._callMethod("wait", [checked(options)]) as Promise<number>;
  }
  /** Back to the initial state; current waiters reject with BrokenBarrierError. */
  reset(): Promise<void> {
    return this._callMethod("reset") as Promise<void>;
  }
  /** Breaks the barrier: current and later waiters reject with BrokenBarrierError. */
  abort(): Promise<void> {
    return this._callMethod("abort") as Promise<void>;
  }
  /** How many parties wait now. */
  nWaiting(): Promise<number> {
    return this._callMethod("nWaiting") as Promise<number>;
  }
  /** Whether the barrier is broken. */
  broken(): Promise<boolean> {
    return this._callMethod("broken") as Promise<boolean>;
  }
  /** How many parties the barrier waits for. */
  parties(): Promise<number> {
    return this._callMethod("getParties") as Promise<number>;
  }
}

registerProxyType("dict", DictProxy);
registerProxyType("list", ListProxy);
registerProxyType("Namespace", NamespaceProxy);
registerProxyType("Value", ValueProxy);
registerProxyType("Array", ArrayProxy);
registerProxyType("Queue", QueueProxy);
registerProxyType("JoinableQueue", JoinableQueueProxy);
registerProxyType("Lock", LockProxy);
registerProxyType("RLock", RLockProxy);
registerProxyType("Semaphore", SemaphoreProxy);
registerProxyType("BoundedSemaphore", SemaphoreProxy);
registerProxyType("Condition", ConditionProxy);
registerProxyType("Event", EventProxy);
registerProxyType("Barrier", BarrierProxy);
