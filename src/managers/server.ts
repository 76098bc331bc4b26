// The manager server: ordinary JS objects in one process, served to authenticated clients over a
// Listener (multiproc/connection). Nothing a client sends is deserialised before the handshake
// has succeeded; after it, frames are bounded (maxMessageSize) and every request is checked for
// shape. A method that throws, or a request for an unknown type, object or method, is answered
// with an error (a RemoteError at the caller); the server goes on serving everyone.
import { randomBytes } from "node:crypto";
import { kOnConnection, Listener, type Address } from "../connection/listener.js";
import { kListen, kWriteFrame, type SocketConnection } from "../connection/socket-connection.js";
import { ErrorCodes, ProcessError, StateError } from "../errors.js";
import { unpinAllTables, tablePolicy } from "../arrow/table-policy.js";
import { kReduce, loadHandleTypes, ModuleNeeded, type Reduced, type Transport } from "../transport/handles.js";
import { dumps, handleTypesOf } from "../transport/serialize.js";
import { kCallerGone, kFreed, kServerStopped, runAs, type CallContext, type CallerAware, type FreeAware, type ServerStopAware } from "./call-context.js";
import type { LinkOffer } from "./link.js";
import { LinkHub, type ServerLink } from "./link-server.js";
import { decoding, localServers, type LocalServer } from "./local-servers.js";
import { shmIdentity } from "./locality.js";
import { decodeFrame, encodeOk } from "./wire.js";
import { isRequest, PROTOCOL_VERSION, type Request, type Response, type Token } from "./messages.js";
import type { ProxyState } from "./proxy.js";

/** How the server makes and exposes objects of one typeid. */
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
}

interface Entry {
  obj: unknown;
  typeid: string;
  exposed: ReadonlySet<string> | null;
  exposedList: string[];
  methodToTypeid: Readonly<Record<string, string>> | undefined;
  refs: number;
}

interface ServerConn {
  id: number;
  conn: SocketConnection;
  refs: Map<number, number>;
  abort: AbortController;
  ctx: CallContext;
  asyncDecodes: number;
  decoding: Promise<void>;
  /** "bytes" once the client showed it shares our /dev/shm (hello): segments instead of copies. */
  transport: Extract<Transport, "bytes" | "socket">;
  /** The shared-memory link offered to a local client (link.ts); replies use it once it is active. */
  link: ServerLink | undefined;
}

const DEFAULT_MAX_MESSAGE = 1 << 30;

/** Set while a reply is serialised, so references inside it are counted for its receiver. */
let outgoing: ServerConn | undefined;

/**
 * A reference held by the server itself: a proxy that came back to its own server inside a value
 * (a Queue proxy stored in a dict proxy). It keeps the object alive while it exists, and goes back
 * out as a live proxy.
 */
export class StoredRef {
  readonly #server: Server;
  readonly token: Token;
  readonly exposed: string[];

  constructor(server: Server, token: Token, exposed: string[]) {
    this.#server = server;
    this.token = token;
    this.exposed = exposed;
  }

  /** The object itself (undefined once freed). */
  get target(): unknown {
    return this.#server.objectOf(this.token.oid);
  }

  [kReduce](): Reduced {
    return { type: "manager-proxy", state: this.#server.reduceRef(this.token, this.exposed) };
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

function errorOf(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export class Server implements LocalServer {
  /** Random id; tokens carry it so the server knows its own proxies when they come back. */
  readonly sid = randomBytes(8).toString("hex");
  readonly #types: ReadonlyMap<string, ServerType>;
  readonly #options: ServerOptions;
  readonly #requested: Address;
  #listener: Listener | undefined;
  readonly #objects = new Map<number, Entry>();
  #nextOid = 1;
  #nextConn = 1;
  readonly #conns = new Set<ServerConn>();
  /** Local clients' links, made at the first offer (undefined: not yet; null: links cannot work here). */
  #hub: LinkHub | null | undefined;
  readonly #finalizer = new FinalizationRegistry<number>((oid) => this.#decref(oid, 1));
  #stopped = false;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;

  constructor(types: ReadonlyMap<string, ServerType>, address: Address, options: ServerOptions) {
    this.#types = types;
    this.#requested = address;
    this.#options = options;
    this.#done = new Promise<void>((resolve) => (this.#resolveDone = resolve));
  }

  /** The bound address once listening (port 0 replaced by the real port), else the requested one. */
  get address(): Address {
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
        if ("conn" in outcome) this.#serve(outcome.conn);
      });
    }
    await this.#listener.ready;
    return this.#listener.address;
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
    for (const sc of [...this.#conns]) sc.conn.close();
    this.#hub?.close();
    for (const entry of this.#objects.values()) {
      const obj = entry.obj as Partial<ServerStopAware> | null;
      if (typeof obj === "object" && obj !== null && typeof obj[kServerStopped] === "function") obj[kServerStopped]();
    }
    this.#objects.clear();
    unpinAllTables();
    this.#resolveDone();
  }

  /** How many connected clients talk through a shared-memory link (for tests and diagnostics). */
  get linkCount(): number {
    let n = 0;
    for (const sc of this.#conns) if (sc.link?.active === true) n++;
    return n;
  }

  /** How many authenticated clients are connected (for tests and diagnostics). */
  get connectionCount(): number {
    return this.#conns.size;
  }

  /** How many objects are alive (for tests and diagnostics). */
  get objectCount(): number {
    return this.#objects.size;
  }

  objectOf(oid: number): unknown {
    return this.#objects.get(oid)?.obj;
  }

  // ---- references ----

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
    const sc = outgoing;
    const entry = this.#objects.get(token.oid);
    if (sc === undefined || entry === undefined) return { token, exposed };
    entry.refs++;
    sc.refs.set(token.oid, (sc.refs.get(token.oid) ?? 0) + 1);
    return { token, exposed, owned: true };
  }

  #register(obj: unknown, typeid: string, sc: ServerConn): { token: Token; exposed: string[] } {
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
    sc.refs.set(oid, 1);
    return { token: { typeid, oid, sid: this.sid, address: this.address }, exposed: exposedList };
  }

  #decref(oid: number, count: number): void {
    const entry = this.#objects.get(oid);
    if (entry === undefined) return;
    entry.refs -= count;
    if (entry.refs > 0) return;
    this.#objects.delete(oid);
    const obj = entry.obj as Partial<FreeAware> | null;
    if (typeof obj === "object" && obj !== null && typeof obj[kFreed] === "function") obj[kFreed]();
  }

  // ---- connections ----

  #serve(conn: SocketConnection): void {
    if (this.#stopped) {
      conn.close();
      return;
    }
    const abort = new AbortController();
    const id = this.#nextConn++;
    const sc: ServerConn = { id, conn, refs: new Map(), abort, ctx: { conn: id, signal: abort.signal }, asyncDecodes: 0, decoding: Promise.resolve(), transport: "socket", link: undefined };
    this.#conns.add(sc);
    conn[kListen]((frame) => this.#onFrame(sc, frame), () => this.#closed(sc));
  }

  #closed(sc: ServerConn): void {
    if (!this.#conns.delete(sc)) return;
    if (sc.link !== undefined) this.#hub?.remove(sc.link);
    sc.abort.abort(new ProcessError("the client disconnected", { code: ErrorCodes.EOF }));
    for (const [oid, count] of sc.refs) this.#decref(oid, count);
    sc.refs.clear();
    for (const entry of this.#objects.values()) {
      const obj = entry.obj as Partial<CallerAware> | null;
      if (typeof obj === "object" && obj !== null && typeof obj[kCallerGone] === "function") obj[kCallerGone](sc.id);
    }
  }

  /** A client that breaks the protocol is disconnected; the others are not affected. */
  #drop(sc: ServerConn): void {
    sc.conn.close();
    sc.link?.close();
    this.#closed(sc);
  }

  #onFrame(sc: ServerConn, frame: Buffer): void {
    if (frame[0] !== 1 && sc.asyncDecodes === 0) {
      this.#decode(sc, frame);
      return;
    }
    // Lazily loaded handle types (SharedTable, ...): load first, keeping requests in order.
    sc.asyncDecodes++;
    sc.decoding = sc.decoding
      .then(() => loadHandleTypes(handleTypesOf(frame)))
      .then(() => this.#decode(sc, frame))
      .catch(() => this.#drop(sc))
      .finally(() => sc.asyncDecodes--);
  }

  #decode(sc: ServerConn, frame: Buffer): void {
    let message: unknown;
    // Tables that arrive through shared memory keep their segment, so handing them on is free.
    tablePolicy.retain = true;
    decoding.server = this;
    try {
      message = decodeFrame(frame);
    } catch {
      // Not our format: a confused or hostile (but authenticated) client.
      this.#drop(sc);
      return;
    } finally {
      tablePolicy.retain = false;
      decoding.server = undefined;
    }
    if (!isRequest(message)) {
      this.#drop(sc);
      return;
    }
    this.#dispatch(sc, message);
  }

  #reply(sc: ServerConn, response: Response, loaded = false): void {
    if (!this.#conns.has(sc)) return;
    let frame: Buffer;
    try {
      frame = this.#encode(sc, response);
    } catch (err) {
      if (err instanceof ModuleNeeded && !loaded) {
        // An apache-arrow Table in the reply: load the module that sends it, then reply.
        err.load().then(
          () => this.#reply(sc, response, true),
          (e: unknown) => this.#reply(sc, { kind: "error", id: response.id, error: errorOf(e) }, true),
        );
        return;
      }
      if (response.kind === "error") return;
      frame = this.#encode(sc, { kind: "error", id: response.id, error: errorOf(err) });
    }
    if (sc.link?.active === true) sc.link.write(frame);
    else sc.conn[kWriteFrame](frame);
  }

  /** A reply's frame: references inside are counted for `sc`; tables stay pinned for local clients. */
  #encode(sc: ServerConn, response: Response): Buffer {
    if (response.kind === "ok") {
      const compact = encodeOk(response.id, response.value);
      if (compact !== undefined) return compact;
    }
    outgoing = sc;
    tablePolicy.pin = sc.transport === "bytes";
    try {
      return dumps(response, sc.transport);
    } finally {
      outgoing = undefined;
      tablePolicy.pin = false;
    }
  }

  #fail(sc: ServerConn, id: number, err: unknown): void {
    this.#reply(sc, { kind: "error", id, error: errorOf(err) });
  }

  #dispatch(sc: ServerConn, m: Request): void {
    switch (m.kind) {
      case "hello":
        if (m.version !== PROTOCOL_VERSION) {
          this.#fail(sc, m.id, new ProcessError(`protocol version ${m.version} is not ${PROTOCOL_VERSION}`, { code: ErrorCodes.PROTOCOL }));
          sc.conn.close();
          return;
        }
        if (m.shm !== undefined && m.shm === shmIdentity()) sc.transport = "bytes";
        this.#reply(sc, { kind: "ok", id: m.id, value: { sid: this.sid, version: PROTOCOL_VERSION, local: sc.transport === "bytes", ...this.#offerLink(sc, m.link === true) } });
        return;
      case "incref": {
        const entry = this.#objects.get(m.oid);
        if (entry === undefined) return;
        entry.refs++;
        sc.refs.set(m.oid, (sc.refs.get(m.oid) ?? 0) + 1);
        return;
      }
      case "decref": {
        // Only references this connection holds can be given back.
        const held = sc.refs.get(m.oid) ?? 0;
        // A count that is not a finite number (NaN from a damaged or hostile frame) gives nothing
        // back: NaN would turn the object's count to NaN, which frees it under every other holder.
        const count = Number.isFinite(m.count) ? Math.min(held, Math.max(0, Math.floor(m.count))) : 0;
        if (count === 0) return;
        if (held === count) sc.refs.delete(m.oid);
        else sc.refs.set(m.oid, held - count);
        this.#decref(m.oid, count);
        return;
      }
      case "shutdown":
        this.#reply(sc, { kind: "ok", id: m.id, value: null });
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

  /** A shared-memory link for a local client that asked for one, when this server can make it. */
  #offerLink(sc: ServerConn, asked: boolean): { link?: LinkOffer } {
    if (!asked || sc.transport !== "bytes" || sc.link !== undefined) return {};
    this.#hub ??= LinkHub.open() ?? null;
    if (this.#hub === null) return {};
    try {
      sc.link = this.#hub.offer(
        (frame) => this.#onFrame(sc, frame),
        () => this.#drop(sc),
      );
    } catch {
      return {}; // no room in /dev/shm for it: the socket serves
    }
    return { link: sc.link.offer };
  }

  #create(sc: ServerConn, id: number, typeid: string, args: unknown[]): void {
    const type = this.#types.get(typeid);
    if (type === undefined) {
      this.#fail(sc, id, new ProcessError(`typeid '${typeid}' is not registered with this manager`, { code: ErrorCodes.UNKNOWN_TYPEID }));
      return;
    }
    let made: unknown;
    try {
      made = runAs(sc.ctx, () => type.create(args));
    } catch (err) {
      this.#fail(sc, id, err);
      return;
    }
    this.#finish(sc, id, made, typeid);
  }

  #call(sc: ServerConn, id: number, oid: number, method: string, args: unknown[]): void {
    const entry = this.#objects.get(oid);
    if (entry === undefined) {
      this.#fail(sc, id, new ProcessError(`object #${oid} does not exist on this manager (released?)`, { code: ErrorCodes.UNKNOWN_OBJECT }));
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
      this.#fail(sc, id, new ProcessError(`method '${method}' of ${entry.typeid} is not exposed`, { code: ErrorCodes.NOT_EXPOSED }));
      return;
    }
    if (typeof fn !== "function") {
      this.#fail(sc, id, new ProcessError(`${entry.typeid} has no method '${method}'`, { code: ErrorCodes.UNKNOWN_METHOD }));
      return;
    }
    let result: unknown;
    try {
      result = runAs(sc.ctx, () => (fn as (...a: unknown[]) => unknown).apply(entry.obj, args));
    } catch (err) {
      this.#fail(sc, id, err);
      return;
    }
    this.#finish(sc, id, result, entry.methodToTypeid?.[method]);
  }

  /** Replies with a value, or registers it and replies with a proxy when `typeid` is given. */
  #finish(sc: ServerConn, id: number, result: unknown, typeid: string | undefined): void {
    const send = (value: unknown) => {
      if (!this.#conns.has(sc)) return; // the caller left while an async call ran
      if (typeid === undefined) {
        this.#reply(sc, { kind: "ok", id, value });
      } else {
        const { token, exposed } = this.#register(value, typeid, sc);
        this.#reply(sc, { kind: "proxy", id, token, exposed });
      }
    };
    if (result instanceof Promise) {
      result.then(send, (err: unknown) => this.#fail(sc, id, err));
    } else {
      send(result);
    }
  }
}
