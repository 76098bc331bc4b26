// The manager server: ordinary JS objects in one process, served to authenticated clients over a
// Listener (multiproc/connection). Nothing a client sends is deserialised before the handshake
// has succeeded; after it, frames are bounded (maxMessageSize) and every request is checked for
// shape. A method that throws, or a request for an unknown type, object or method, is answered
// with an error (a RemoteError at the caller); the server goes on serving everyone.
// This file is the server's life (listen, stop) and what each request means; the connections
// (frames, hello, replies) are in server-connections.ts, the objects and their reference counts
// in object-registry.ts.
import { randomBytes } from "node:crypto";
import { kOnConnection, Listener, notListening, type Address } from "../connection/listener.js";
import { ErrorCodes, ProcessError, StateError } from "../errors.js";
import { unpinAllTables } from "../arrow/table-policy.js";
import { runAs } from "./call-context.js";
import { localServers, type LocalServer } from "./local-servers.js";
import type { Request, Token } from "./messages.js";
import { ObjectRegistry, publicMethods, type StoredRef } from "./object-registry.js";
import { ServerConnections, type ServerConn } from "./server-connections.js";
import { PickleConnections } from "./pickle/server.js";

/**
 * How the server makes and exposes objects of one typeid.
 *
 * @example
 * ```ts
 * import type { ServerType } from "multiproc/managers";
 * const type: ServerType = { create: (args) => new Map(args as [string, number][]), exposed: ["get", "set"] };
 * ```
 */
export interface ServerType {
  /** Makes the object from the client's arguments (a class is called with `new`). */
  create(args: unknown[]): unknown;
  /** Callable methods; undefined means every public method (names not starting with `_`). */
  exposed?: readonly string[];
  /** Methods whose result is kept on the server and returned as a proxy of the given typeid. */
  methodToTypeid?: Readonly<Record<string, string>>;
}

export interface ServerOptions {
  authkey: Buffer;
  allowLegacyAuth?: boolean;
  handshakeTimeout?: number;
  /** Largest request accepted from an authenticated client (default 1 GiB). */
  maxMessageSize?: number;
  /** "pickle": serve CPython clients with CPython's manager protocol (pickle/server.ts). */
  serializer?: Serializer;
}

/**
 * How a manager's messages are written: "multiproc" (the default, multiproc's own format) or
 * "pickle" (CPython's manager protocol, for CPython clients and servers; docs/cpython-managers.md).
 *
 * @example
 * ```ts
 * import { SyncManager, type Serializer } from "multiproc/managers";
 * const serializer: Serializer = "pickle";
 * const manager = new SyncManager({ address: ["0.0.0.0", 50000], authkey: "abc", serializer });
 * await manager.getServer().serveForever(); // Python: SyncManager(("host", 50000), b"abc").connect()
 * ```
 */
export type Serializer = "multiproc" | "pickle";

const DEFAULT_MAX_MESSAGE = 1 << 30;

export const kStopped = Symbol("multiproc.managers.server.stopped");

/**
 * A manager's server (Python's `managers.Server`), as getServer() returns it: serveForever() runs it in this process.
 *
 * @example
 * ```ts
 * import { SyncManager } from "multiproc/managers";
 * export class DataProxy { getData(key: number) { return key * 2; } }
 * class DataManager extends SyncManager {}
 * DataManager.register("DataProxy", DataProxy);
 * const server = new DataManager({ address: ["127.0.0.1", 5000], authkey: "DataProxy01" }).getServer();
 * await server.serveForever(); // until shut down
 * ```
 */
export class Server implements LocalServer {
  /** Random id; tokens carry it so the server knows its own proxies when they come back. */
  readonly sid = randomBytes(8).toString("hex");
  readonly #types: ReadonlyMap<string, ServerType>;
  readonly #options: ServerOptions;
  readonly #requested: Address;
  #listener: Listener | undefined;
  readonly #objects: ObjectRegistry;
  readonly #conns: ServerConnections;
  readonly #pickle: PickleConnections | undefined;
  #stopped = false;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;

  constructor(types: ReadonlyMap<string, ServerType>, address: Address, options: ServerOptions) {
    this.#types = types;
    this.#requested = address;
    this.#options = options;
    this.#objects = new ObjectRegistry(types);
    this.#conns = new ServerConnections(
      this,
      (sc, m) => this.#dispatch(sc, m),
      (sc) => this.#objects.releaseHolder(sc.id, sc.refs),
    );
    this.#pickle = options.serializer === "pickle" ? new PickleConnections(this, types, this.#objects) : undefined;
    this.#done = new Promise<void>((resolve) => (this.#resolveDone = resolve));
  }

  /** The bound address once listening (port 0 replaced by the real port), else the requested one. */
  get address(): Address {
    if (this.#listener === undefined && typeof this.#requested !== "string" && this.#requested[1] === 0) throw notListening("the server");
    return this.#listener?.address ?? this.#requested;
  }

  /** Binds and starts accepting; resolves with the bound address. */
  async listen(): Promise<Address> {
    if (this.#stopped) throw new StateError("the server was stopped", { code: ErrorCodes.CLOSED });
    if (this.#listener === undefined) {
      const listener = new Listener(this.#requested, {
        authkey: this.#options.authkey,
        allowLegacyAuth: this.#options.allowLegacyAuth,
        handshakeTimeout: this.#options.handshakeTimeout,
        maxMessageSize: this.#options.maxMessageSize ?? DEFAULT_MAX_MESSAGE,
      });
      this.#listener = listener;
      await listener.ready;
      localServers.set(this.sid, this);
      listener[kOnConnection]((outcome) => {
        // A client that failed the handshake is already gone; there is nothing to answer.
        if (!("conn" in outcome)) return;
        if (this.#stopped) outcome.conn.close();
        else (this.#pickle ?? this.#conns).serve(outcome.conn);
      });
    }
    await this.#listener.ready;
    return this.#listener.address;
  }

  /** @internal Whether stop() was called (a BaseManager that served it may start again). */
  get [kStopped](): boolean {
    return this.#stopped;
  }

  /** Serves until a client asks for shutdown or stop() is called (Python's serve_forever). */
  async serveForever(): Promise<void> {
    await this.listen();
    await this.#done;
  }

  /** Stops listening and drops every connection; objects are released. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    localServers.delete(this.sid);
    this.#listener?.close();
    this.#conns.close();
    this.#pickle?.close();
    this.#objects.clear();
    unpinAllTables();
    this.#resolveDone();
  }

  /** How many connected clients talk through a shared-memory link (for tests and diagnostics). */
  get linkCount(): number {
    return this.#conns.linkCount;
  }

  /** How many authenticated clients are connected (for tests and diagnostics). */
  get connectionCount(): number {
    return this.#conns.size + (this.#pickle?.size ?? 0);
  }

  /** How many objects are alive (for tests and diagnostics). */
  get objectCount(): number {
    return this.#objects.size;
  }

  /** @internal */
  objectOf(oid: number): unknown {
    return this.#objects.objectOf(oid);
  }

  storedRef(token: Token, exposed: string[]): StoredRef {
    return this.#objects.storedRef(token, exposed);
  }

  // ---- requests ----

  #dispatch(sc: ServerConn, m: Request): void {
    switch (m.kind) {
      case "hello":
        this.#conns.hello(sc, m);
        return;
      case "incref":
        this.#objects.incref(m.oid, sc.refs);
        return;
      case "decref": {
        // Only references this connection holds can be given back.
        const held = sc.refs.get(m.oid) ?? 0;
        // A count that is not a finite number (NaN from a damaged or hostile frame) gives nothing
        // back: NaN would turn the object's count to NaN, which frees it under every other holder.
        const count = Number.isFinite(m.count) ? Math.min(held, Math.max(0, Math.floor(m.count))) : 0;
        if (count === 0) return;
        if (held === count) sc.refs.delete(m.oid);
        else sc.refs.set(m.oid, held - count);
        this.#objects.decref(m.oid, count);
        return;
      }
      case "shutdown":
        this.#conns.reply(sc, { kind: "ok", id: m.id, value: null });
        // Let the reply reach the client before the connections close.
        setImmediate(() => this.stop());
        return;
      case "create":
        this.#create(sc, m.id, m.typeid, m.args);
        return;
      case "call":
        this.#call(sc, m.id, m.oid, m.method, m.args);
        return;
    }
  }

  #create(sc: ServerConn, id: number, typeid: string, args: unknown[]): void {
    const type = this.#types.get(typeid);
    if (type === undefined) {
      this.#conns.fail(sc, id, new ProcessError(`typeid '${typeid}' is not registered with this manager`, { code: ErrorCodes.UNKNOWN_TYPEID }));
      return;
    }
    let made: unknown;
    try {
      made = runAs(sc.ctx, () => type.create(args));
    } catch (err) {
      this.#conns.fail(sc, id, err);
      return;
    }
    this.#finish(sc, id, made, typeid);
  }

  #call(sc: ServerConn, id: number, oid: number, method: string, args: unknown[]): void {
    const entry = this.#objects.get(oid);
    if (entry === undefined) {
      this.#conns.fail(sc, id, new ProcessError(`object #${oid} does not exist on this manager (released?)`, { code: ErrorCodes.UNKNOWN_OBJECT }));
      return;
    }
    const fn = (entry.obj as Record<string, unknown> | null)?.[method];
    // Without an exposed list: Python's public_methods (no "_" names, not "constructor", nothing
    // inherited from Object.prototype), as listed at creation or added to the object since.
    const exposed =
      entry.exposed === null
        ? !method.startsWith("_") && (typeof fn !== "function" || entry.exposedList.includes(method) || publicMethods(entry.obj).includes(method))
        : entry.exposed.has(method);
    if (!exposed) {
      this.#conns.fail(sc, id, new ProcessError(`method '${method}' of ${entry.typeid} is not exposed`, { code: ErrorCodes.NOT_EXPOSED }));
      return;
    }
    if (typeof fn !== "function") {
      this.#conns.fail(sc, id, new ProcessError(`${entry.typeid} has no method '${method}'`, { code: ErrorCodes.UNKNOWN_METHOD }));
      return;
    }
    let result: unknown;
    try {
      result = runAs(sc.ctx, () => (fn as (...a: unknown[]) => unknown).apply(entry.obj, args));
    } catch (err) {
      this.#conns.fail(sc, id, err);
      return;
    }
    this.#finish(sc, id, result, entry.methodToTypeid?.[method]);
  }

  /** Replies with a value, or registers it and replies with a proxy when `typeid` is given. */
  #finish(sc: ServerConn, id: number, result: unknown, typeid: string | undefined): void {
    const send = (value: unknown) => {
      if (!this.#conns.has(sc)) return; // the caller left while an async call ran
      if (typeid === undefined) {
        this.#conns.reply(sc, { kind: "ok", id, value });
      } else {
        const { oid, exposed } = this.#objects.register(value, typeid, sc.refs);
        this.#conns.reply(sc, { kind: "proxy", id, token: { typeid, oid, sid: this.sid, address: this.address }, exposed });
      }
    };
    if (result instanceof Promise) {
      result.then(send, (err: unknown) => this.#conns.fail(sc, id, err));
    } else {
      send(result);
    }
  }
}
