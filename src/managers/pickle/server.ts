// A multiproc manager server's CPython clients (`serializer: "pickle"`): CPython's request and call
// connections (protocol.ts) over the same Listener, objects and reference counts as our own
// clients (object-registry.ts). Frames are read only after the handshake (the Listener's), each
// one is a pickle read by reader.ts, and calls on one connection are answered in order, one at a
// time, as CPython's serve_client does. A frame that cannot be read, or a call that fails, is
// answered with `#TRACEBACK`/`#ERROR` and the connection goes on; the connection's end only tells
// blocking waits (a Queue.get) to give up.
//
// References: CPython counts them per server, not per connection (a client's proxies share
// many connections), so all CPython clients share one holder, and a client that dies without its
// decrefs keeps its objects alive, as with a CPython server.
import { kListen, kWriteFrame, type SocketConnection } from "../../connection/socket-connection.js";
import { addressKey, type Address } from "../../connection/listener.js";
import { ErrorCodes, ProcessError } from "../../errors.js";
import { runAs, type CallContext } from "../call-context.js";
import { publicMethods, type ObjectRegistry } from "../object-registry.js";
import type { ServerType } from "../server.js";
import { BUILTIN_TYPES } from "../builtin-types.js";
import { encodeReply, parseRequest, pythonException, Reply, SERVER_FUNCS, tracebackText, type PyRequest, type ReplyKind } from "./protocol.js";
import { builtinCreateArgs, pythonMethodsOf } from "./python-methods.js";
import { unpickle } from "./reader.js";
import { PickleProxy } from "./client.js";
import { PyToken, PyTuple } from "./values.js";

export interface PickleHost {
  readonly address: Address;
  stop(): void;
}

interface PyConn {
  conn: SocketConnection;
  /** After accept_connection: method calls. */
  calls: boolean;
  /** Calls are answered in order, one at a time. */
  queue: Promise<void>;
  ctx: CallContext;
  abort: AbortController;
}

const identOf = (oid: number) => oid.toString(16);

function oidOf(ident: unknown): number | undefined {
  if (typeof ident !== "string" || !/^[0-9a-f]{1,12}$/.test(ident)) return undefined;
  return parseInt(ident, 16);
}

function fail(message: string): ProcessError {
  return new ProcessError(message, { code: ErrorCodes.PROTOCOL });
}

export class PickleConnections {
  readonly #host: PickleHost;
  readonly #types: ReadonlyMap<string, ServerType>;
  readonly #objects: ObjectRegistry;
  /** Every CPython client's references (see the top of this file). */
  readonly #refs = new Map<number, number>();
  readonly #conns = new Set<PyConn>();
  /** Connection ids for call-context.ts, apart from our own clients' (ServerConnections counts up). */
  #nextConn = -1;

  constructor(host: PickleHost, types: ReadonlyMap<string, ServerType>, objects: ObjectRegistry) {
    this.#host = host;
    this.#types = types;
    this.#objects = objects;
  }

  /** Served from BUILTIN_TYPES (not a registered callable): Python names apply (python-methods.ts). */
  #isBuiltin(typeid: string): boolean {
    const type = this.#types.get(typeid);
    return type !== undefined && BUILTIN_TYPES[typeid] === type;
  }

  get size(): number {
    return this.#conns.size;
  }

  serve(conn: SocketConnection): void {
    const abort = new AbortController();
    const pc: PyConn = { conn, calls: false, queue: Promise.resolve(), ctx: { conn: this.#nextConn--, signal: abort.signal }, abort };
    this.#conns.add(pc);
    conn[kListen](
      (frame) => {
        pc.queue = pc.queue.then(() => this.#onFrame(pc, frame));
      },
      () => this.#closed(pc),
    );
  }

  close(): void {
    for (const pc of [...this.#conns]) pc.conn.close();
  }

  #closed(pc: PyConn): void {
    if (!this.#conns.delete(pc)) return;
    pc.abort.abort(new ProcessError("the client disconnected", { code: ErrorCodes.EOF }));
    // Tell objects the caller left (a Lock it held); its references stay (shared holder). Only a
    // call connection ran methods: the many short request connections cost no walk over objects.
    if (pc.calls) this.#objects.releaseHolder(pc.ctx.conn, new Map());
  }

  #send(pc: PyConn, kind: ReplyKind, value: unknown): void {
    if (!this.#conns.has(pc)) return;
    let frame: Buffer;
    try {
      frame = encodeReply(kind, value);
    } catch (err) {
      frame = encodeReply(Reply.UNSERIALIZABLE, tracebackText(err));
    }
    pc.conn[kWriteFrame](frame);
  }

  async #onFrame(pc: PyConn, frame: Buffer): Promise<void> {
    let request: PyRequest | undefined;
    try {
      request = parseRequest(unpickle(frame));
      if (request === undefined) throw fail("a request that is not (ident, methodname, args, kwds)");
    } catch (err) {
      // Nothing of it ran; the client gets the reason and the connection stays usable.
      this.#send(pc, Reply.TRACEBACK, tracebackText(err));
      return;
    }
    if (pc.calls) await this.#call(pc, request);
    else await this.#request(pc, request);
  }

  async #request(pc: PyConn, { method, args, kwds }: PyRequest): Promise<void> {
    try {
      if (!SERVER_FUNCS.has(method)) throw fail(`'${method}' is not a manager server function`);
      const result = await this.#serverFunc(pc, method, args, kwds);
      this.#send(pc, Reply.RETURN, result);
    } catch (err) {
      this.#send(pc, Reply.TRACEBACK, tracebackText(err));
    }
  }

  #serverFunc(pc: PyConn, method: string, args: unknown[], kwds: Record<string, unknown>): unknown {
    switch (method) {
      case "dummy":
        return null;
      case "accept_connection":
        pc.calls = true;
        return null;
      case "create":
        return this.#create(pc, args, kwds);
      case "incref": {
        const oid = oidOf(args[0]);
        if (oid === undefined || !this.#objects.incref(oid, this.#refs)) throw fail(`no object ${String(args[0])} on this manager`);
        return null;
      }
      case "decref": {
        const oid = oidOf(args[0]);
        const held = oid === undefined ? 0 : (this.#refs.get(oid) ?? 0);
        if (oid === undefined || held === 0) return null;
        if (held === 1) this.#refs.delete(oid);
        else this.#refs.set(oid, held - 1);
        this.#objects.decref(oid, 1);
        return null;
      }
      case "get_methods": {
        const token = args[0];
        const oid = token instanceof PyToken ? oidOf(token.id) : undefined;
        const entry = oid === undefined ? undefined : this.#objects.get(oid);
        if (entry === undefined) throw fail("get_methods of an object this manager does not have");
        return new PyTuple(this.#exposed(entry.typeid, entry.obj, entry.exposedList));
      }
      case "number_of_objects":
        return this.#objects.size;
      case "debug_info":
        return `${this.#objects.size} objects, ${this.#conns.size} CPython connections`;
      case "shutdown":
        // Answer first, as CPython does, then stop.
        setImmediate(() => this.#host.stop());
        return null;
      default:
        throw fail(`'${method}' is not a manager server function`);
    }
  }

  #exposed(typeid: string, obj: unknown, exposedList: readonly string[]): string[] {
    const py = pythonMethodsOf(obj);
    if (py !== undefined) return Object.keys(py);
    return exposedList.length > 0 ? [...exposedList] : publicMethods(obj);
  }

  async #create(pc: PyConn, args: unknown[], kwds: Record<string, unknown>): Promise<PyTuple> {
    const [typeid, ...rest] = args;
    const type = typeof typeid === "string" ? this.#types.get(typeid) : undefined;
    if (type === undefined || typeof typeid !== "string") throw new ProcessError(`typeid '${String(typeid)}' is not registered with this manager`, { code: ErrorCodes.UNKNOWN_TYPEID });
    const createArgs = this.#isBuiltin(typeid) ? builtinCreateArgs(typeid, rest, kwds) : Object.keys(kwds).length > 0 ? [...rest, kwds] : rest;
    const made: unknown = await runAs(pc.ctx, () => type.create(createArgs));
    // A proxy of one of our own objects (`register("get_queue", () => queueProxy)`): that object,
    // one more reference, as CPython's `lambda: queue` hands out the same queue every time.
    const own = made instanceof PickleProxy && addressKey(made._token.address) === addressKey(this.#host.address) ? oidOf(made._token.id) : undefined;
    const entry = own === undefined ? undefined : this.#objects.get(own);
    if (own !== undefined && entry !== undefined && this.#objects.incref(own, this.#refs)) {
      return new PyTuple([identOf(own), new PyTuple(this.#exposed(entry.typeid, entry.obj, entry.exposedList))]);
    }
    const { oid, exposed } = this.#objects.register(made, typeid, this.#refs);
    return new PyTuple([identOf(oid), new PyTuple(this.#exposed(typeid, made, exposed))]);
  }

  async #call(pc: PyConn, { ident, method, args, kwds }: PyRequest): Promise<void> {
    const oid = oidOf(ident);
    const entry = oid === undefined ? undefined : this.#objects.get(oid);
    if (entry === undefined) {
      this.#send(pc, Reply.TRACEBACK, tracebackText(fail(`no object ${String(ident)} on this manager (released?)`)));
      return;
    }
    const py = pythonMethodsOf(entry.obj);
    let run: (() => unknown) | undefined;
    if (py !== undefined) {
      const fn = Object.hasOwn(py, method) ? py[method] : undefined;
      if (fn !== undefined) run = () => fn(entry.obj as never, args, kwds);
    } else {
      const fn = (entry.obj as Record<string, unknown> | null)?.[method];
      const exposed = entry.exposed === null ? !method.startsWith("_") && publicMethods(entry.obj).includes(method) : entry.exposed.has(method);
      if (exposed && typeof fn === "function") {
        const callArgs = Object.keys(kwds).length > 0 ? [...args, kwds] : args;
        run = () => (fn as (...a: unknown[]) => unknown).apply(entry.obj, callArgs);
      }
    }
    if (run === undefined) {
      if (method === "__str__" || method === "__repr__") {
        this.#send(pc, Reply.RETURN, `<multiproc ${entry.typeid} object #${String(ident)}>`);
        return;
      }
      this.#send(pc, Reply.TRACEBACK, tracebackText(new ProcessError(`method '${method}' of ${entry.typeid} is not exposed`, { code: ErrorCodes.NOT_EXPOSED })));
      return;
    }
    let result: unknown;
    try {
      result = await runAs(pc.ctx, run);
    } catch (err) {
      const exception = pythonException(err);
      if (exception !== undefined) this.#send(pc, Reply.ERROR, exception);
      else this.#send(pc, Reply.TRACEBACK, tracebackText(err));
      return;
    }
    const typeid = entry.methodToTypeid?.[method];
    if (typeid === undefined) {
      this.#send(pc, Reply.RETURN, result);
      return;
    }
    const made = this.#objects.register(result, typeid, this.#refs);
    this.#send(pc, Reply.PROXY, new PyTuple([new PyTuple(this.#exposed(typeid, result, made.exposed)), new PyToken(typeid, this.#host.address, identOf(made.oid))]));
  }
}
