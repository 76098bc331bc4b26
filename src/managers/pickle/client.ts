// Our client of a manager that speaks CPython's protocol (protocol.ts), `serializer: "pickle"`: a
// CPython server (seed 004's QueueManager) or one of ours serving pickles. As CPython's client
// does, create/incref/decref/dummy/shutdown each use a connection of their own, closed after the
// answer, and method calls go over call connections (after `accept_connection`). A call connection
// carries one call at a time and serves any object of the server, so the client keeps a few idle
// ones and opens another when all are busy: a blocked `q.get()` never holds up another call.
import { Client, type Address } from "../../connection/listener.js";
import { kRef, type SocketConnection } from "../../connection/socket-connection.js";
import { ErrorCodes, ProcessError, StateError } from "../../errors.js";
import { encodeRequest, errorFromReply, parseReply, Reply } from "./protocol.js";
import { unpickle } from "./reader.js";
import { PyProxyRef, PySlice, PyToken } from "./values.js";
import type { Kwds } from "./python-methods.js";

export interface PickleClientOptions {
  authkey: Buffer;
  allowLegacyAuth?: boolean;
  handshakeTimeout?: number;
}

const MAX_IDLE = 4;

function tupleItems(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new ProcessError(`the manager's ${what} is not a tuple`, { code: ErrorCodes.PROTOCOL });
  return v;
}

function exposedOf(v: unknown): string[] {
  const names = tupleItems(v, "exposed list");
  if (!names.every((n) => typeof n === "string")) throw new ProcessError("the manager's exposed list holds something that is not a str", { code: ErrorCodes.PROTOCOL });
  return names;
}

export class PickleClient {
  readonly address: Address;
  readonly #options: PickleClientOptions;
  readonly #idle: SocketConnection[] = [];
  #closed = false;

  constructor(address: Address, options: PickleClientOptions) {
    this.address = address;
    this.#options = options;
  }

  async #open(): Promise<SocketConnection> {
    const conn = await Client(this.address, { authkey: this.#options.authkey, allowLegacyAuth: this.#options.allowLegacyAuth, handshakeTimeout: this.#options.handshakeTimeout });
    conn[kRef](false);
    return conn;
  }

  /** One request, one reply; the value of a `#RETURN`, or the reply's error. */
  async #exchange(conn: SocketConnection, frame: Buffer): Promise<unknown> {
    conn[kRef](true);
    try {
      await conn.sendBytes(frame);
      const reply = parseReply(unpickle(await conn.recvBytes()));
      if (reply === undefined) throw new ProcessError("the manager's reply is not (kind, value)", { code: ErrorCodes.PROTOCOL });
      if (reply.kind === Reply.RETURN) return this.#revive(reply.value);
      if (reply.kind === Reply.PROXY) {
        const [exposed, token] = tupleItems(reply.value, "#PROXY");
        if (!(token instanceof PyToken)) throw new ProcessError("a #PROXY without a Token", { code: ErrorCodes.PROTOCOL });
        return makePickleProxy(this, token, exposedOf(exposed));
      }
      throw errorFromReply(reply.kind, reply.value);
    } finally {
      conn[kRef](false);
    }
  }

  /** A server function on a connection of its own (CPython's dispatch()). */
  async dispatch(method: string, args: readonly unknown[] = [], kwds: Kwds = {}): Promise<unknown> {
    const frame = encodeRequest(null, method, args, kwds);
    const conn = await this.#open();
    try {
      return await this.#exchange(conn, frame);
    } finally {
      conn.close();
    }
  }

  /** Calls `method` of object `ident` over an idle call connection (or a new one). */
  async call(ident: string, method: string, args: readonly unknown[], kwds: Kwds = {}): Promise<unknown> {
    if (this.#closed) throw new StateError("the manager was shut down", { code: ErrorCodes.CLOSED });
    // Encoded first: a value that cannot be pickled fails here, before any connection is used.
    const frame = encodeRequest(ident, method, args, kwds);
    let conn = this.#idle.pop();
    if (conn === undefined) {
      const fresh = await this.#open();
      try {
        await this.#exchange(fresh, encodeRequest(null, "accept_connection", ["multiproc|call"]));
      } catch (err) {
        fresh.close();
        throw err;
      }
      conn = fresh;
    }
    let healthy = false;
    try {
      const result = await this.#exchange(conn, frame);
      healthy = true;
      return result;
    } catch (err) {
      // An answer that is an error leaves the connection in step; a lost one does not.
      healthy = !conn.closed && err instanceof Error && !(err instanceof ProcessError && (err.code === ErrorCodes.EOF || err.code === ErrorCodes.CORRUPT));
      throw err;
    } finally {
      if (healthy && !this.#closed && this.#idle.length < MAX_IDLE) this.#idle.push(conn);
      else conn.close();
    }
  }

  /** Makes an object of `typeid` on the server; its proxy holds the reference create took. */
  async create(typeid: string, args: readonly unknown[], kwds: Kwds = {}): Promise<PickleProxy> {
    // Python has no `undefined`: trailing ones are left out (dict() rather than dict(None)).
    let n = args.length;
    while (n > 0 && args[n - 1] === undefined) n--;
    const [ident, exposed] = tupleItems(await this.dispatch("create", [typeid, ...args.slice(0, n)], kwds), "create reply");
    if (typeof ident !== "string" && typeof ident !== "number") throw new ProcessError("the manager's create reply has no id", { code: ErrorCodes.PROTOCOL });
    return makePickleProxy(this, new PyToken(typeid, this.address, String(ident)), exposedOf(exposed));
  }

  /** Proxies inside a value (RebuildProxy) become proxies that take a reference of their own. */
  #revive(value: unknown, seen = new Set<object>()): unknown {
    if (value instanceof PyProxyRef) return makePickleProxy(this, value.token, value.exposed ?? [], this.dispatch("incref", [value.token.id]));
    if (typeof value !== "object" || value === null || seen.has(value)) return value;
    seen.add(value); // values read may share parts or be cyclic (the pickle memo)
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = this.#revive(value[i], seen);
    } else if (value instanceof Map) {
      for (const [k, v] of value as Map<unknown, unknown>) value.set(k, this.#revive(v, seen));
    } else if (Object.getPrototypeOf(value) === Object.prototype) {
      for (const [k, v] of Object.entries(value)) {
        const revived = this.#revive(v, seen);
        if (revived !== v) Object.defineProperty(value, k, { value: revived, enumerable: true, writable: true, configurable: true });
      }
    }
    return value;
  }

  close(): void {
    this.#closed = true;
    for (const conn of this.#idle.splice(0)) conn.close();
  }
}

const finalizer = new FinalizationRegistry<{ client: PickleClient; id: string }>(({ client, id }) => {
  client.dispatch("decref", [id]).catch(() => undefined);
});

/**
 * A proxy of an object on a CPython-protocol manager: its methods are the server's exposed names
 * (Python's: `get`, `put`, `__getitem__`, ...), each returning a Promise. Python's operators also
 * have JS names (`set`, `has`, `delete`, `size`, `length`, `entries`, `toArray`, `slice`, and
 * camelCase for snake_case), so `await d.set("k", 1)` works as on a multiproc proxy. A last
 * argument `{ block?, timeout? }` (timeout in ms) is sent as Python's keyword arguments (seconds).
 * `_callMethod(name, args, kwds)` calls with keyword arguments.
 *
 * @example
 * ```ts
 * import { BaseManager, type PickleProxy } from "multiproc/managers";
 * class QueueManager extends BaseManager {}
 * QueueManager.register("get_queue");
 * const m = new QueueManager({ address: ["127.0.0.1", 50000], authkey: "abc", serializer: "pickle" });
 * await m.connect();
 * const q = (await m.create("get_queue")) as unknown as PickleProxy;
 * await q._callMethod("put", [{ job: 1 }], { timeout: 5 }); // Python: q.put({"job": 1}, timeout=5)
 * ```
 */
export class PickleProxy implements Disposable, AsyncDisposable {
  readonly _token: PyToken;
  readonly _exposed: readonly string[];
  readonly #client: PickleClient;
  readonly #ready: Promise<unknown>;
  #released = false;

  constructor(client: PickleClient, token: PyToken, exposed: readonly string[], ready: Promise<unknown> = Promise.resolve()) {
    this.#client = client;
    this._token = token;
    this._exposed = exposed;
    this.#ready = ready;
    ready.catch(() => undefined);
    finalizer.register(this, { client, id: token.id }, this);
  }

  /** Calls `method` with positional `args` and keyword `kwds` (Python's _callmethod). */
  async _callMethod(method: string, args: readonly unknown[] = [], kwds: Kwds = {}): Promise<unknown> {
    if (this.#released) throw new StateError(`this proxy of a ${this._token.typeid} was released`, { code: ErrorCodes.RELEASED });
    await this.#ready;
    return this.#client.call(this._token.id, method, args, kwds);
  }

  /** Gives the proxy's reference back (decref); the proxy cannot be used afterwards. */
  _release(): void {
    if (this.#released) return;
    this.#released = true;
    finalizer.unregister(this);
    void this.#ready.then(() => this.#client.dispatch("decref", [this._token.id])).catch(() => undefined);
  }

  [Symbol.dispose](): void {
    this._release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this._release();
    await Promise.resolve();
  }

  toString(): string {
    return `<PickleProxy of ${this._token.typeid} '${this._token.id}'>`;
  }
}

/** JS names for Python's methods and operators: alias -> the first exposed target it maps to. */
const ALIASES: Record<string, string[]> = {
  get: ["__getattribute__", "__getitem__"],
  set: ["__setitem__", "__setattr__"],
  delete: ["__delitem__", "__delattr__"],
  has: ["__contains__"],
  size: ["__len__"],
  length: ["__len__"],
  entries: ["items"],
};

const snakeToCamel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function isBlockOptions(v: unknown): v is { block?: unknown; timeout?: unknown } {
  if (typeof v !== "object" || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => k === "block" || k === "timeout");
}

/** Options `{ block, timeout }` (ms) at the end of the arguments become Python's kwds (seconds). */
function splitOptions(args: unknown[]): [unknown[], Kwds] {
  const last = args.at(-1);
  if (!isBlockOptions(last)) return [args, {}];
  const kwds: Kwds = {};
  if (last.block !== undefined) kwds.block = Boolean(last.block);
  if (typeof last.timeout === "number") kwds.timeout = last.timeout / 1000;
  return [args.slice(0, -1), kwds];
}

export function makePickleProxy(client: PickleClient, token: PyToken, exposed: readonly string[], ready?: Promise<unknown>): PickleProxy {
  const proxy = new PickleProxy(client, token, exposed, ready);
  const define = (name: string, fn: (...args: unknown[]) => Promise<unknown>) => {
    if (name in proxy || name === "then" || name === "constructor") return;
    Object.defineProperty(proxy, name, { value: fn, enumerable: false });
  };
  for (const method of exposed) {
    define(method, (...args) => proxy._callMethod(method, ...splitOptions(args)));
    const camel = snakeToCamel(method);
    if (camel !== method && !exposed.includes(camel)) define(camel, (...args) => proxy._callMethod(method, ...splitOptions(args)));
  }
  for (const [alias, targets] of Object.entries(ALIASES)) {
    const target = exposed.includes(alias) ? undefined : targets.find((t) => exposed.includes(t));
    if (target !== undefined) define(alias, (...args) => proxy._callMethod(target, args));
  }
  if (exposed.includes("__getitem__") && exposed.includes("append")) {
    define("slice", (start, end) => proxy._callMethod("__getitem__", [new PySlice(start ?? null, end ?? null, null)]));
    define("toArray", () => proxy._callMethod("__getitem__", [new PySlice(null, null, null)]));
  }
  return proxy;
}
