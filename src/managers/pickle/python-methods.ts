// What a CPython client calls on our SyncManager objects, by its Python names: DictProxy's,
// ListProxy's, NamespaceProxy's and ValueProxy's `_exposed_` (CPython Lib/multiprocessing/
// managers.py) and queue.Queue's public methods (what an AutoProxy of it calls). Each entry turns
// Python's (args, kwds) into a call on the server object (objects/*.ts), and raises what Python
// raises (KeyError with the key, IndexError, AttributeError) so the client sees its own exceptions.
// Timeouts come in seconds and go to the objects in milliseconds.
import { ServerDict, ServerList, ServerNamespace } from "../objects/collections.js";
import { ServerValue } from "../objects/value.js";
import { ServerJoinableQueue, ServerQueue } from "../objects/queue.js";
import type { Key } from "../objects/collections.js";
import { PyException, PySlice, PyTuple } from "./values.js";

export type Kwds = Record<string, unknown>;
type PyMethod = (obj: never, args: unknown[], kwds: Kwds) => unknown;

/** A Python exception to raise at the client (`#ERROR`). */
export class PythonRaise extends Error {
  constructor(readonly exception: PyException) {
    super(`${exception.name}: ${exception.message}`);
  }
}

function raise(name: string, ...args: unknown[]): never {
  throw new PythonRaise(new PyException("builtins", name, args));
}

function arg(args: unknown[], kwds: Kwds, i: number, name: string, fallback?: unknown): unknown {
  return i < args.length ? args[i] : name in kwds ? kwds[name] : fallback;
}

/** Python's (block=True, timeout=None) in seconds, as the objects' options in milliseconds. */
function blocking(args: unknown[], kwds: Kwds, first: number): { block: boolean; timeout?: number } {
  const block = arg(args, kwds, first, "block", true);
  const timeout = arg(args, kwds, first + 1, "timeout", null);
  if (typeof timeout === "number") return { block: Boolean(block), timeout: Math.max(0, timeout * 1000) };
  return { block: Boolean(block) };
}

function index(i: unknown, length: number): number {
  if (typeof i !== "number" || !Number.isInteger(i)) raise("TypeError", "list indices must be integers or slices");
  const j = i < 0 ? i + length : i;
  if (j < 0 || j >= length) raise("IndexError", "list index out of range");
  return j;
}

function bound(v: unknown): number | undefined {
  return typeof v === "number" ? v : undefined;
}

function sliceOf(items: unknown[], s: PySlice): unknown[] {
  if (s.step !== null && s.step !== 1) raise("ValueError", "multiproc lists take slices with step 1 only");
  return items.slice(bound(s.start), bound(s.stop));
}

const pairs = (entries: [unknown, unknown][]) => entries.map(([k, v]) => new PyTuple([k, v]));

const DICT: Record<string, PyMethod> = {
  __contains__: (d: ServerDict, [k]) => d.has(k as Key),
  __delitem__: (d: ServerDict, [k]) => {
    if (!d.delete(k as Key)) raise("KeyError", k);
  },
  __getitem__: (d: ServerDict, [k]) => (d.has(k as Key) ? d.get(k as Key) : raise("KeyError", k)),
  __len__: (d: ServerDict) => d.size(),
  __setitem__: (d: ServerDict, [k, v]) => d.set(k as Key, v),
  clear: (d: ServerDict) => d.clear(),
  copy: (d: ServerDict) => d.copy(),
  get: (d: ServerDict, [k, fallback]) => d.get(k as Key, fallback ?? null),
  items: (d: ServerDict) => pairs(d.entries()),
  keys: (d: ServerDict) => d.keys(),
  pop: (d: ServerDict, args) => (d.has(args[0] as Key) || args.length > 1 ? d.pop(args[0] as Key, ...args.slice(1)) : raise("KeyError", args[0])),
  popitem: (d: ServerDict) => (d.size() > 0 ? new PyTuple(d.popitem()) : raise("KeyError", "popitem(): dictionary is empty")),
  setdefault: (d: ServerDict, [k, fallback]) => d.setdefault(k as Key, fallback ?? null),
  update: (d: ServerDict, [other], kwds) => {
    if (other !== undefined) d.update(other);
    d.update(kwds);
  },
  values: (d: ServerDict) => d.values(),
};

const LIST: Record<string, PyMethod> = {
  __add__: (l: ServerList, [other]): unknown[] => (Array.isArray(other) ? l.items.concat(other as unknown[]) : raise("TypeError", "can only concatenate list to list")),
  __contains__: (l: ServerList, [v]) => l.count(v) > 0,
  __delitem__: (l: ServerList, [i]) => {
    l.items.splice(index(i, l.items.length), 1);
  },
  __getitem__: (l: ServerList, [i]) => (i instanceof PySlice ? sliceOf(l.items, i) : l.items[index(i, l.items.length)]),
  __len__: (l: ServerList) => l.length(),
  __mul__: (l: ServerList, [n]) => Array.from({ length: Math.max(0, Number(n)) }, () => l.items).flat(),
  __imul__: (l: ServerList, [n]) => {
    l.items = Array.from({ length: Math.max(0, Number(n)) }, () => l.items).flat();
  },
  __setitem__: (l: ServerList, [i, v]) => {
    l.items[index(i, l.items.length)] = v;
  },
  append: (l: ServerList, [v]) => l.append(v),
  count: (l: ServerList, [v]) => l.count(v),
  extend: (l: ServerList, [vs]) => l.extend(vs),
  index: (l: ServerList, [v, start, stop]) => l.index(v, bound(start) ?? 0, bound(stop)),
  insert: (l: ServerList, [i, v]) => l.insert(i as number, v),
  pop: (l: ServerList, [i]) => (l.items.length === 0 ? raise("IndexError", "pop from empty list") : l.items.splice(index(i ?? -1, l.items.length), 1)[0]),
  remove: (l: ServerList, [v]) => l.remove(v),
  reverse: (l: ServerList) => l.reverse(),
  sort: (l: ServerList, _args, kwds) => l.sort({ reverse: kwds.reverse === true }),
};

function attributeError(name: unknown): never {
  raise("AttributeError", `'Namespace' object has no attribute '${String(name)}'`);
}

const NAMESPACE: Record<string, PyMethod> = {
  __getattribute__: (ns: ServerNamespace, [name]) => (ns.has(name as string) ? ns.get(name as string) : attributeError(name)),
  __setattr__: (ns: ServerNamespace, [name, v]) => ns.set(name as string, v),
  __delattr__: (ns: ServerNamespace, [name]) => {
    if (!ns.delete(name as string)) attributeError(name);
  },
};

const VALUE: Record<string, PyMethod> = {
  get: (v: ServerValue) => v.get(),
  set: (v: ServerValue, [x]) => v.set(x),
};

const QUEUE: Record<string, PyMethod> = {
  empty: (q: ServerQueue) => q.empty(),
  full: (q: ServerQueue) => q.full(),
  get: (q: ServerQueue, args, kwds) => q.get(blocking(args, kwds, 0)),
  get_nowait: (q: ServerQueue) => q.getNowait(),
  put: (q: ServerQueue, args, kwds) => q.put(args[0], blocking(args, kwds, 1)),
  put_nowait: (q: ServerQueue, [item]) => q.putNowait(item),
  qsize: (q: ServerQueue) => q.qsize(),
};

const JOINABLE_QUEUE: Record<string, PyMethod> = {
  ...QUEUE,
  task_done: (q: ServerJoinableQueue) => q.taskDone(),
  join: (q: ServerJoinableQueue) => q.join(),
};

/**
 * The Python names of a builtin object (by its class, so an object a registered callable hands
 * out, `register("get_queue", () => queue)`, is served like one made by `Queue()`), or undefined.
 */
export function pythonMethodsOf(obj: unknown): Readonly<Record<string, PyMethod>> | undefined {
  if (obj instanceof ServerJoinableQueue) return JOINABLE_QUEUE;
  if (obj instanceof ServerQueue) return QUEUE;
  if (obj instanceof ServerDict) return DICT;
  if (obj instanceof ServerList) return LIST;
  if (obj instanceof ServerNamespace) return NAMESPACE;
  if (obj instanceof ServerValue) return VALUE;
  return undefined;
}

/** A CPython client's create arguments for our builtin types (`m.dict(a=1)`, `m.Queue(maxsize=2)`). */
export function builtinCreateArgs(typeid: string, args: unknown[], kwds: Kwds): unknown[] {
  const named = Object.keys(kwds).length > 0;
  switch (typeid) {
    case "dict":
    case "Namespace":
      return [named ? { ...(args[0] instanceof Map ? Object.fromEntries(args[0]) : (args[0])), ...kwds } : args[0]];
    case "Queue":
    case "JoinableQueue":
      return [arg(args, kwds, 0, "maxsize", 0)];
    case "Value":
      return [arg(args, kwds, 0, "typecode"), arg(args, kwds, 1, "value")];
    default:
      return named ? [...args, kwds] : args;
  }
}
