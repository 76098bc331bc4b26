// Passing live objects: any multiproc object (segment, queue, lock, pipe end, proxy, ...) found in
// a message, at any depth, is reduced to a small handle on the way out and rebuilt on the way in.
// This is the one mechanism for Process args, queue items, pipe messages and pool tasks.
//
// A class takes part by implementing [kReduce] and registering a reviver under the same type name
// (registerHandleType). Containers are copied only when something inside them was reduced, so
// plain data costs one walk and no allocation.
import { ArgumentError, ErrorCodes } from "../errors.js";
import { isBinary, reduceBinary, reviveBinary } from "./binary.js";
import { asyncOnly, foreignModules, handleModules } from "./handle-modules.js";
import { instanceState, loadClassModules, reviveInstance, type InstanceState } from "./classes.js";

export const kReduce = Symbol.for("multiproc.reduce");
const TAG = "__multiproc_handle__";

/**
 * How the message travels: "bytes" (another process on this machine), "thread" (postMessage: SABs
 * are shared) or "socket" (multiproc/connection and managers, maybe another machine: binaries inline).
 */
export type Transport = "bytes" | "thread" | "socket";

export interface Reduced {
  type: string;
  state: unknown;
}

export interface Reducible {
  [kReduce](transport: Transport): Reduced;
}

type Reviver = (state: unknown) => unknown;
const revivers = new Map<string, Reviver>();
// Types whose module is not loaded yet (handle-modules.ts, and any registered here): loaded on
// arrival, so that a process never pays for a feature it does not receive.
const lazy = new Map<string, () => Promise<unknown>>();
for (const [type, mod] of handleModules) lazy.set(type, () => mod.load());

/** The reviver of `type`, loading its module synchronously if it can. */
function reviverOf(type: string): Reviver | undefined {
  const revive = revivers.get(type);
  if (revive !== undefined || asyncOnly.has(type)) return revive;
  const mod = handleModules.get(type);
  if (mod?.ready() === true) mod();
  return revivers.get(type);
}

// Transfers: reducing an object may reserve something for its receiver (a holder slot of a Pipe
// end or a Queue, see shared/holders.ts) that the receiver claims when it revives the object. When
// the sender learns that a message will never be read (a child that died before reading its args),
// it gives those reservations up: onAbandon() registers how, collectAbandons() gathers them.
let abandons: (() => void)[] | undefined;

/** Called from [kReduce]: how to undo this reduction's reservation if the message is lost. */
export function onAbandon(undo: () => void): void {
  abandons?.push(undo);
}

/**
 * Runs `fn` (which reduces a message) and returns its result and a function that undoes its
 * reservations. If `fn` throws (an unsendable value further on), they are undone at once.
 */
export function collectAbandons<T>(fn: () => T): [T, () => void] {
  const outer = abandons;
  const mine: (() => void)[] = [];
  const undo = () => mine.splice(0).forEach((u) => u());
  abandons = mine;
  try {
    return [fn(), undo];
  } catch (err) {
    undo();
    throw err;
  } finally {
    abandons = outer;
  }
}

export function registerHandleType(type: string, revive: Reviver): void {
  revivers.set(type, revive);
}

/** Declares a handle type whose module (which calls registerHandleType) is imported on demand. */
export function registerLazyHandleType(type: string, load: () => Promise<unknown>): void {
  if (!revivers.has(type)) lazy.set(type, load);
}

/** Imports the modules of any lazy types among `types` that are not loaded yet. */
export async function loadHandleTypes(types: Iterable<string>): Promise<void> {
  const pending: Promise<unknown>[] = [];
  const modules: string[] = [];
  for (const type of types) {
    if (type.startsWith(CLASS_MODULE)) modules.push(type.slice(CLASS_MODULE.length));
    const load = lazy.get(type);
    if (load !== undefined && !revivers.has(type)) pending.push(load());
  }
  if (modules.length > 0) pending.push(loadClassModules(modules));
  await Promise.all(pending);
}

/** A message's types list names each module of a class instance inside as CLASS_MODULE + its URL. */
const CLASS_MODULE = "class:";

// Foreign types: instances of classes multiproc does not own (an apache-arrow Table) that a module
// of ours knows how to reduce. `test` recognises them without importing their library; the
// reducer is set when that module loads. Until then a sync dumps() says which module to import,
// and dumpsAsync() imports it and tries again.
interface Foreign {
  type: string;
  test: (value: object) => boolean;
  load: () => Promise<unknown>;
  reduce?: (value: object, transport: Transport) => Reduced;
}
const foreign: Foreign[] = foreignModules.map((f) => ({ ...f }));

/** Declares a foreign type: `test` spots it, `load` imports the module that calls setForeignReducer. */
export function registerForeignType(type: string, test: (value: object) => boolean, load: () => Promise<unknown>): void {
  if (!foreign.some((f) => f.type === type)) foreign.push({ type, test, load });
}

export function setForeignReducer(type: string, test: (value: object) => boolean, reduce: (value: object, transport: Transport) => Reduced): void {
  const entry = foreign.find((f) => f.type === type);
  if (entry === undefined) foreign.push({ type, test, load: () => Promise.resolve(), reduce });
  else entry.reduce = reduce;
}

/** Thrown by reduce() when a foreign type's module is not loaded yet (dumpsAsync loads it). */
export class ModuleNeeded extends ArgumentError {
  constructor(
    readonly type: string,
    readonly load: () => Promise<unknown>,
  ) {
    super(`a ${type} can be sent once multiproc's module for it is loaded: import "multiproc/arrow" in this process first (manager proxies load it by themselves)`, ErrorCodes.UNSERIALIZABLE);
  }
}

function reduceForeign(value: object, walk: Walk): unknown {
  for (const f of foreign) {
    if (!f.test(value)) continue;
    if (f.reduce === undefined) throw new ModuleNeeded(f.type, f.load);
    walk.found = true;
    const reduced = f.reduce(value, walk.transport);
    walk.types.add(reduced.type);
    const marker = { [TAG]: reduced.type, state: reduceValue(reduced.state, walk) };
    walk.seen.set(value, marker);
    return marker;
  }
  return value;
}

/** An instance of a user's class (transport/classes.ts): its class's module and export, and its fields. */
function reduceInstance(value: object, walk: Walk): unknown {
  walk.found = true;
  const state = instanceState(value);
  walk.types.add("class");
  walk.types.add(CLASS_MODULE + state.cls.url);
  const marker = { [TAG]: "class", state: null as unknown };
  walk.seen.set(value, marker);
  marker.state = reduceValue(state, walk);
  return marker;
}

/** new Number(1) and its kin: V8's format carries them. */
function isBoxedPrimitive(value: object): boolean {
  return value instanceof Number || value instanceof String || value instanceof Boolean || value instanceof BigInt;
}

function isReducible(value: object): value is Reducible {
  return typeof (value as Partial<Reducible>)[kReduce] === "function";
}

function isPlainContainer(value: object): boolean {
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null || value instanceof Map || value instanceof Set;
}

interface Walk {
  transport: Transport;
  seen: Map<object, unknown>;
  found: boolean;
  types: Set<string>;
}

function reduceValue(value: unknown, walk: Walk): unknown {
  if (typeof value !== "object" || value === null) return value;
  const known = walk.seen.get(value);
  if (known !== undefined) return known;
  if (isBinary(value)) {
    const reduced = walk.transport === "bytes" ? reduceBinary(value) : undefined;
    if (reduced === undefined) return value;
    const out = "copy" in reduced ? reduced.copy : { [TAG]: "binary", state: reduced.state };
    walk.found ||= !("copy" in reduced);
    walk.seen.set(value, out);
    return out;
  }
  if (value instanceof Date || value instanceof RegExp) return value;
  if (isReducible(value)) {
    walk.found = true;
    const reduced = value[kReduce](walk.transport);
    walk.types.add(reduced.type);
    const marker = { [TAG]: reduced.type, state: reduceValue(reduced.state, walk) };
    walk.seen.set(value, marker);
    return marker;
  }
  if (value instanceof Error) {
    walk.found = true;
    const marker = { [TAG]: "error", state: reduceValue(errorState(value), walk) };
    walk.seen.set(value, marker);
    return marker;
  }
  if (!isPlainContainer(value)) {
    const out = foreign.length === 0 ? value : reduceForeign(value, walk);
    if (out !== value || isBoxedPrimitive(value)) return out;
    return reduceInstance(value, walk);
  }
  // Mark before descending so cycles end; a container is replaced only if a child changed.
  walk.seen.set(value, value);
  let out: unknown = value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const r = reduceValue(item, walk);
      if (r !== item) {
        if (out === value) out = value.slice();
        (out as unknown[])[i] = r;
      }
    }
  } else if (value instanceof Map) {
    let changed = false;
    const entries: [unknown, unknown][] = [];
    for (const [k, v] of value) {
      const rk = reduceValue(k, walk);
      const rv = reduceValue(v, walk);
      changed ||= rk !== k || rv !== v;
      entries.push([rk, rv]);
    }
    if (changed) out = new Map(entries);
  } else if (value instanceof Set) {
    let changed = false;
    const items: unknown[] = [];
    for (const v of value) {
      const r = reduceValue(v, walk);
      changed ||= r !== v;
      items.push(r);
    }
    if (changed) out = new Set(items);
  } else {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const item = record[key];
      const r = reduceValue(item, walk);
      if (r !== item) {
        if (out === value) out = { ...record };
        (out as Record<string, unknown>)[key] = r;
      }
    }
  }
  walk.seen.set(value, out);
  return out;
}

/**
 * Replaces multiproc objects and Errors by handles. `found` says whether anything was replaced;
 * `types` lists the handle types of multiproc objects inside (for loadHandleTypes on arrival).
 */
export function reduce(value: unknown, transport: Transport): { value: unknown; found: boolean; types: string[] } {
  const walk: Walk = { transport, seen: new Map(), found: false, types: new Set() };
  const out = reduceValue(value, walk);
  return { value: out, found: walk.found, types: [...walk.types] };
}

// `seen` maps each visited object to what it became: the deserialiser keeps shared references
// shared, so a handle met twice (a ShareableList and its .shm in one message) is revived once and
// both places get the same rebuilt object.
function reviveValue(value: unknown, seen: Map<object, unknown>): unknown {
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value)) return value;
  if (seen.has(value)) return seen.get(value);
  seen.set(value, value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = reviveValue(value[i], seen);
    return value;
  }
  if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => [reviveValue(k, seen), reviveValue(v, seen)] as const);
    value.clear();
    for (const [k, v] of entries) value.set(k, v);
    return value;
  }
  if (value instanceof Set) {
    const items = [...value].map((v) => reviveValue(v, seen));
    value.clear();
    for (const v of items) value.add(v);
    return value;
  }
  const record = value as Record<string, unknown>;
  const type = record[TAG];
  if (typeof type === "string") {
    const revive = reviverOf(type);
    if (revive === undefined) {
      const hint = lazy.has(type) ? " (its module loads on demand: receive it with an async call, not a *Sync one, or import it first)" : "";
      throw new ArgumentError(`received a multiproc object of type '${type}' that this process cannot rebuild${hint}`, ErrorCodes.UNSERIALIZABLE);
    }
    const revived = revive(reviveValue(record.state, seen));
    seen.set(value, revived);
    return revived;
  }
  for (const key of Object.keys(record)) record[key] = reviveValue(record[key], seen);
  return value;
}

/** Rebuilds the objects `reduce` replaced; works in place on freshly deserialised data. */
export function revive(value: unknown): unknown {
  return reviveValue(value, new Map());
}

// Errors keep their class name, message, stack, code and own fields (V8's clone keeps only some).
interface ErrorState {
  name: string;
  message: string;
  stack: string | undefined;
  cause?: unknown;
  props: Record<string, unknown>;
}

function errorState(err: Error): ErrorState {
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(err)) {
    const v = (err as unknown as Record<string, unknown>)[key];
    if (typeof v !== "function" && typeof v !== "symbol") props[key] = v;
  }
  const state: ErrorState = { name: err.name, message: err.message, stack: err.stack, props };
  if ("cause" in err) state.cause = err.cause;
  return state;
}

registerHandleType("binary", reviveBinary);
registerHandleType("class", (state) => reviveInstance(state as InstanceState));

const errorClasses: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

registerHandleType("error", (raw) => {
  const state = raw as ErrorState;
  const Ctor = errorClasses[state.name] ?? Error;
  const err = new Ctor(state.message, "cause" in state ? { cause: state.cause } : undefined);
  if (err.name !== state.name) Object.defineProperty(err, "name", { value: state.name, configurable: true, writable: true });
  Object.assign(err, state.props);
  if (state.stack !== undefined) Object.defineProperty(err, "stack", { value: state.stack, configurable: true, writable: true });
  return err;
});
