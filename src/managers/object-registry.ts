// The manager server's objects and their reference counts. Apart from server.ts because it is the
// one piece that knows nothing of connections or messages: who holds a reference is a count map
// per holder (a connection's), and an object is freed (kFreed) when its last holder lets go.
import { kReduce, type Reduced } from "../transport/handles.js";
import { kCallerGone, kFreed, kServerStopped, type CallerAware, type FreeAware, type ServerStopAware } from "./call-context.js";
import type { Token } from "./messages.js";
import type { ProxyState } from "./proxy.js";
import type { ServerType } from "./server.js";

/** One object served: what it is and who may call what on it. */
export interface Entry {
  obj: unknown;
  typeid: string;
  exposed: ReadonlySet<string> | null;
  exposedList: string[];
  methodToTypeid: Readonly<Record<string, string>> | undefined;
  refs: number;
}

/**
 * The references the client being replied to holds, set while its reply is serialised
 * (server-connections.ts), so references inside the reply are counted for it.
 */
export const replying: { refs: Map<number, number> | undefined } = { refs: undefined };

/**
 * A reference held by the server itself: a proxy that came back to its own server inside a value
 * (a Queue proxy stored in a dict proxy). It keeps the object alive while it exists, and goes back
 * out as a live proxy.
 */
export class StoredRef {
  readonly #registry: ObjectRegistry;
  readonly token: Token;
  readonly exposed: string[];

  constructor(registry: ObjectRegistry, token: Token, exposed: string[]) {
    this.#registry = registry;
    this.token = token;
    this.exposed = exposed;
  }

  /** The object itself (undefined once freed). */
  get target(): unknown {
    return this.#registry.objectOf(this.token.oid);
  }

  [kReduce](): Reduced {
    return { type: "manager-proxy", state: this.#registry.reduceRef(this.token, this.exposed) };
  }
}

const publicMethodsCache = new WeakMap<object, string[]>();

/** Python's public_methods(): callable attributes not starting with "_" (own and inherited). */
export function publicMethods(obj: unknown): string[] {
  if (typeof obj !== "object" || obj === null) return [];
  const proto = Object.getPrototypeOf(obj) as object | null;
  let names = proto === null ? undefined : publicMethodsCache.get(proto);
  if (names === undefined) {
    const found = new Set<string>();
    for (let p = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
      for (const name of Object.getOwnPropertyNames(p)) {
        if (name === "constructor" || name.startsWith("_")) continue;
        const d = Object.getOwnPropertyDescriptor(p, name);
        if (d !== undefined && typeof d.value === "function") found.add(name);
      }
    }
    names = [...found];
    if (proto !== null) publicMethodsCache.set(proto, names);
  }
  const own = Object.keys(obj).filter((k) => !k.startsWith("_") && typeof (obj as Record<string, unknown>)[k] === "function");
  return own.length === 0 ? names : [...new Set([...names, ...own])];
}

export class ObjectRegistry {
  readonly #types: ReadonlyMap<string, ServerType>;
  readonly #objects = new Map<number, Entry>();
  #nextOid = 1;
  readonly #finalizer = new FinalizationRegistry<number>((oid) => this.decref(oid, 1));

  constructor(types: ReadonlyMap<string, ServerType>) {
    this.#types = types;
  }

  /** How many objects are alive. */
  get size(): number {
    return this.#objects.size;
  }

  get(oid: number): Entry | undefined {
    return this.#objects.get(oid);
  }

  objectOf(oid: number): unknown {
    return this.#objects.get(oid)?.obj;
  }

  storedRef(token: Token, exposed: string[]): StoredRef {
    const ref = new StoredRef(this, token, exposed);
    const entry = this.#objects.get(token.oid);
    if (entry !== undefined) {
      entry.refs++;
      this.#finalizer.register(ref, token.oid);
    }
    return ref;
  }

  /** A stored reference leaving in a reply: its receiver gets a reference of its own. */
  reduceRef(token: Token, exposed: string[]): ProxyState {
    const refs = replying.refs;
    if (refs === undefined || !this.incref(token.oid, refs)) return { token, exposed };
    return { token, exposed, owned: true };
  }

  /** Registers a new object with its first reference held by `holder`; returns its oid. */
  register(obj: unknown, typeid: string, holder: Map<number, number>): { oid: number; exposed: string[] } {
    const type = this.#types.get(typeid);
    const exposedList = type?.exposed !== undefined ? [...type.exposed] : publicMethods(obj);
    const oid = this.#nextOid++;
    this.#objects.set(oid, {
      obj,
      typeid,
      exposed: type?.exposed !== undefined ? new Set(type.exposed) : null,
      exposedList,
      methodToTypeid: type?.methodToTypeid,
      refs: 1,
    });
    holder.set(oid, 1);
    return { oid, exposed: exposedList };
  }

  /** One more reference, held by `holder`; false if the object is gone. */
  incref(oid: number, holder: Map<number, number>): boolean {
    const entry = this.#objects.get(oid);
    if (entry === undefined) return false;
    entry.refs++;
    holder.set(oid, (holder.get(oid) ?? 0) + 1);
    return true;
  }

  decref(oid: number, count: number): void {
    const entry = this.#objects.get(oid);
    if (entry === undefined) return;
    entry.refs -= count;
    if (entry.refs > 0) return;
    this.#objects.delete(oid);
    const obj = entry.obj as Partial<FreeAware> | null;
    if (typeof obj === "object" && obj !== null && typeof obj[kFreed] === "function") obj[kFreed]();
  }

  /** Connection `conn` is gone: its references are given back, and the objects told (kCallerGone). */
  releaseHolder(conn: number, holder: Map<number, number>): void {
    for (const [oid, count] of holder) this.decref(oid, count);
    holder.clear();
    for (const entry of this.#objects.values()) {
      const obj = entry.obj as Partial<CallerAware> | null;
      if (typeof obj === "object" && obj !== null && typeof obj[kCallerGone] === "function") obj[kCallerGone](conn);
    }
  }

  /** The server stopped: every object is told (kServerStopped) and dropped. */
  clear(): void {
    for (const entry of this.#objects.values()) {
      const obj = entry.obj as Partial<ServerStopAware> | null;
      if (typeof obj === "object" && obj !== null && typeof obj[kServerStopped] === "function") obj[kServerStopped]();
    }
    this.#objects.clear();
  }
}
