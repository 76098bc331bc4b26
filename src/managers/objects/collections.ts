// The server side of dict, list and Namespace: plain JS containers living in the manager process
// (CPython's managers serve a real dict and list the same way). Values arrive and leave as copies;
// proxies stored inside stay live references (see object-registry.ts, StoredRef).
import { isDeepStrictEqual } from "node:util";
import { ArgumentError, ErrorCodes, ProcessError } from "../../errors.js";
import { dropTable } from "../../arrow/table-policy.js";
import { describe } from "../../validate.js";
import { kFreed, type FreeAware } from "../call-context.js";

/** Python's KeyError / ValueError / IndexError, with codes. */
export function keyError(key: unknown): ProcessError {
  const err = new ProcessError(`key not found: ${String(key)}`, { code: ErrorCodes.KEY_NOT_FOUND });
  err.name = "KeyError";
  return err;
}

function valueError(what: string): ProcessError {
  const err = new ProcessError(what, { code: ErrorCodes.VALUE_NOT_FOUND });
  err.name = "ValueError";
  return err;
}

function indexError(index: unknown, length: number): ArgumentError {
  const err = new ArgumentError(`list index ${String(index)} out of range (length ${length})`, ErrorCodes.OUT_OF_RANGE);
  err.name = "IndexError";
  return err;
}

/** Dict keys are compared by value, so they must be primitives (Python: hashable). */
export type Key = string | number | bigint | boolean | null | undefined;

function checkKey(key: unknown): Key {
  if (key === null || (typeof key !== "object" && typeof key !== "function" && typeof key !== "symbol")) return key as Key;
  throw new ArgumentError(
    `dict keys must be strings, numbers, bigints, booleans, null or undefined (compared by value), got ${describe(key)}`,
    ErrorCodes.INVALID_ARG_TYPE,
  );
}

function entriesOf(init: unknown, name: string): [unknown, unknown][] {
  if (init === undefined || init === null) return [];
  if (init instanceof Map) return [...(init as Map<unknown, unknown>)];
  if (Array.isArray(init)) {
    return init.map((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new ArgumentError(`${name}[${i}] must be a [key, value] pair, got ${describe(pair)}`, ErrorCodes.INVALID_ARG_TYPE);
      }
      return [pair[0], pair[1]] as [unknown, unknown];
    });
  }
  if (typeof init === "object") return Object.entries(init);
  throw new ArgumentError(`${name} must be a Map, an object or [key, value] pairs, got ${describe(init)}`, ErrorCodes.INVALID_ARG_TYPE);
}

export class ServerDict {
  readonly map = new Map<Key, unknown>();

  constructor(init?: unknown) {
    this.update(init);
  }

  get(key: Key, fallback?: unknown): unknown {
    return this.map.has(key) ? this.map.get(key) : fallback;
  }

  set(key: Key, value: unknown): void {
    this.map.set(checkKey(key), value);
  }

  delete(key: Key): boolean {
    return this.map.delete(key);
  }

  has(key: Key): boolean {
    return this.map.has(key);
  }

  size(): number {
    return this.map.size;
  }

  keys(): Key[] {
    return [...this.map.keys()];
  }

  values(): unknown[] {
    return [...this.map.values()];
  }

  entries(): [Key, unknown][] {
    return [...this.map.entries()];
  }

  setdefault(key: Key, fallback: unknown = null): unknown {
    if (!this.map.has(key)) this.set(key, fallback);
    return this.map.get(key);
  }

  pop(key: Key, ...fallback: unknown[]): unknown {
    if (this.map.has(key)) {
      const value = this.map.get(key);
      this.map.delete(key);
      return value;
    }
    if (fallback.length > 0) return fallback[0];
    throw keyError(key);
  }

  popitem(): [Key, unknown] {
    let last: [Key, unknown] | undefined;
    for (const entry of this.map) last = entry;
    if (last === undefined) throw keyError("popitem(): dictionary is empty");
    this.map.delete(last[0]);
    return last;
  }

  update(other?: unknown): void {
    for (const [k, v] of entriesOf(other, "update(other)")) this.set(k as Key, v);
  }

  clear(): void {
    this.map.clear();
  }

  copy(): Map<Key, unknown> {
    return new Map(this.map);
  }
}

function compare(a: unknown, b: unknown): number {
  const numeric = (x: unknown) => typeof x === "number" || typeof x === "bigint" || typeof x === "boolean";
  if (numeric(a) && numeric(b)) return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  throw new ArgumentError(`cannot order ${describe(a)} and ${describe(b)}`, ErrorCodes.INVALID_ARG_TYPE);
}

export class ServerList {
  items: unknown[];

  constructor(init?: unknown) {
    if (init === undefined || init === null) this.items = [];
    else if (Array.isArray(init)) this.items = init;
    else if (typeof init === "object" && Symbol.iterator in init) this.items = [...(init as Iterable<unknown>)];
    else throw new ArgumentError(`a list starts from an array or an iterable, got ${describe(init)}`, ErrorCodes.INVALID_ARG_TYPE);
  }

  #index(i: unknown, forInsert = false): number {
    if (typeof i !== "number" || !Number.isInteger(i)) {
      throw new ArgumentError(`list indices must be integers, got ${describe(i)}`, ErrorCodes.INVALID_ARG_TYPE);
    }
    const n = this.items.length;
    const j = i < 0 ? i + n : i;
    if (forInsert) return Math.min(Math.max(j, 0), n);
    if (j < 0 || j >= n) throw indexError(i, n);
    return j;
  }

  get(i: number): unknown {
    return this.items[this.#index(i)];
  }

  set(i: number, value: unknown): void {
    this.items[this.#index(i)] = value;
  }

  append(value: unknown): void {
    this.items.push(value);
  }

  extend(values: unknown): void {
    if (!Array.isArray(values)) throw new ArgumentError(`extend takes an array, got ${describe(values)}`, ErrorCodes.INVALID_ARG_TYPE);
    for (const v of values) this.items.push(v);
  }

  insert(i: number, value: unknown): void {
    this.items.splice(this.#index(i, true), 0, value);
  }

  pop(i = -1): unknown {
    if (this.items.length === 0) throw indexError("pop from empty list", 0);
    return this.items.splice(this.#index(i), 1)[0];
  }

  remove(value: unknown): void {
    const at = this.items.findIndex((x) => isDeepStrictEqual(x, value));
    if (at < 0) throw valueError("list.remove(x): x not in list");
    this.items.splice(at, 1);
  }

  index(value: unknown, start = 0, stop?: number): number {
    const from = this.#index(start, true);
    const to = stop === undefined ? this.items.length : this.#index(stop, true);
    for (let i = from; i < to; i++) if (isDeepStrictEqual(this.items[i], value)) return i;
    throw valueError(`${String(value)} is not in list`);
  }

  count(value: unknown): number {
    return this.items.reduce<number>((n, x) => (isDeepStrictEqual(x, value) ? n + 1 : n), 0);
  }

  reverse(): void {
    this.items.reverse();
  }

  /** Sorts numbers numerically and strings by code unit, like Python; `{ reverse }` as Python's. */
  sort(options: { reverse?: boolean } = {}): void {
    this.items.sort(compare);
    if (options?.reverse === true) this.items.reverse();
  }

  slice(start?: number, end?: number): unknown[] {
    return this.items.slice(start, end);
  }

  length(): number {
    return this.items.length;
  }

  toArray(): unknown[] {
    return this.items.slice();
  }
}

/**
 * Python's Namespace: named attributes. An apache-arrow Table stored here is handed to local
 * clients from one shared segment, kept until the attribute changes or the Namespace is freed.
 */
export class ServerNamespace implements FreeAware {
  readonly #values = new Map<string, unknown>();

  constructor(init?: unknown) {
    for (const [k, v] of entriesOf(init, "Namespace(init)")) this.set(k as string, v);
  }

  get(name: string): unknown {
    if (!this.#values.has(name)) {
      const err = new ProcessError(`'Namespace' object has no attribute '${name}'`, { code: ErrorCodes.KEY_NOT_FOUND });
      err.name = "AttributeError";
      throw err;
    }
    return this.#values.get(name);
  }

  set(name: string, value: unknown): void {
    if (typeof name !== "string") throw new ArgumentError(`attribute names are strings, got ${describe(name)}`, ErrorCodes.INVALID_ARG_TYPE);
    const old = this.#values.get(name);
    this.#values.set(name, value);
    if (old !== value) dropTable(old);
  }

  delete(name: string): boolean {
    dropTable(this.#values.get(name));
    return this.#values.delete(name);
  }

  [kFreed](): void {
    for (const value of this.#values.values()) dropTable(value);
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  toObject(): Record<string, unknown> {
    return Object.fromEntries(this.#values);
  }
}
