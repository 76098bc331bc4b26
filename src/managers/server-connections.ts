// The manager server's authenticated clients: reading their frames (socket or shared-memory link),
// the hello that settles the transport, and writing replies. Apart from server.ts, which decides
// what a request means; this file only turns frames into checked requests and responses into
// frames. A client whose frame does not decode to a request is dropped; the others go on.
import { kListen, kWriteFrame, type SocketConnection } from "../connection/socket-connection.js";
import { ErrorCodes, ProcessError } from "../errors.js";
import { tablePolicy } from "../arrow/table-policy.js";
import { loadHandleTypes, ModuleNeeded, type Transport } from "../transport/handles.js";
import { dumps, handleTypesOf } from "../transport/serialize.js";
import type { CallContext } from "./call-context.js";
import type { LinkOffer } from "./link.js";
import { LinkHub, type ServerLink } from "./link-server.js";
import { decoding, type LocalServer } from "./local-servers.js";
import { shmIdentity } from "./locality.js";
import { replying } from "./object-registry.js";
import { decodeFrame, encodeOk } from "./wire.js";
import { isRequest, PROTOCOL_VERSION, type HelloRequest, type Request, type Response } from "./messages.js";

export interface ServerConn {
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

function errorOf(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export class ServerConnections {
  readonly #server: LocalServer;
  readonly #onRequest: (sc: ServerConn, m: Request) => void;
  readonly #onClosed: (sc: ServerConn) => void;
  #nextConn = 1;
  readonly #conns = new Set<ServerConn>();
  /** Local clients' links, made at the first offer (undefined: not yet; null: links cannot work here). */
  #hub: LinkHub | null | undefined;

  /** `onRequest` gets every well-formed request; `onClosed` runs once per client that left. */
  constructor(server: LocalServer, onRequest: (sc: ServerConn, m: Request) => void, onClosed: (sc: ServerConn) => void) {
    this.#server = server;
    this.#onRequest = onRequest;
    this.#onClosed = onClosed;
  }

  /** How many authenticated clients are connected. */
  get size(): number {
    return this.#conns.size;
  }

  /** How many connected clients talk through a shared-memory link. */
  get linkCount(): number {
    let n = 0;
    for (const sc of this.#conns) if (sc.link?.active === true) n++;
    return n;
  }

  /** False once the client left (a reply would have nowhere to go). */
  has(sc: ServerConn): boolean {
    return this.#conns.has(sc);
  }

  serve(conn: SocketConnection): void {
    const abort = new AbortController();
    const id = this.#nextConn++;
    const sc: ServerConn = { id, conn, refs: new Map(), abort, ctx: { conn: id, signal: abort.signal }, asyncDecodes: 0, decoding: Promise.resolve(), transport: "socket", link: undefined };
    this.#conns.add(sc);
    conn[kListen]((frame) => this.#onFrame(sc, frame), () => this.#closed(sc));
  }

  /** Closes every connection and the links. */
  close(): void {
    for (const sc of [...this.#conns]) sc.conn.close();
    this.#hub?.close();
  }

  #closed(sc: ServerConn): void {
    if (!this.#conns.delete(sc)) return;
    if (sc.link !== undefined) this.#hub?.remove(sc.link);
    sc.abort.abort(new ProcessError("the client disconnected", { code: ErrorCodes.EOF }));
    this.#onClosed(sc);
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
    decoding.server = this.#server;
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
    this.#onRequest(sc, message);
  }

  /** Answers a hello: checks the version, settles the transport and offers a link if asked. */
  hello(sc: ServerConn, m: HelloRequest): void {
    if (m.version !== PROTOCOL_VERSION) {
      this.fail(sc, m.id, new ProcessError(`protocol version ${m.version} is not ${PROTOCOL_VERSION}`, { code: ErrorCodes.PROTOCOL }));
      sc.conn.close();
      return;
    }
    if (m.shm !== undefined && m.shm === shmIdentity()) sc.transport = "bytes";
    this.reply(sc, { kind: "ok", id: m.id, value: { sid: this.#server.sid, version: PROTOCOL_VERSION, local: sc.transport === "bytes", ...this.#offerLink(sc, m.link === true) } });
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

  reply(sc: ServerConn, response: Response, loaded = false): void {
    if (!this.#conns.has(sc)) return;
    let frame: Buffer;
    try {
      frame = this.#encode(sc, response);
    } catch (err) {
      if (err instanceof ModuleNeeded && !loaded) {
        // An apache-arrow Table in the reply: load the module that sends it, then reply.
        err.load().then(
          () => this.reply(sc, response, true),
          (e: unknown) => this.reply(sc, { kind: "error", id: response.id, error: errorOf(e) }, true),
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
    replying.refs = sc.refs;
    tablePolicy.pin = sc.transport === "bytes";
    try {
      return dumps(response, sc.transport);
    } finally {
      replying.refs = undefined;
      tablePolicy.pin = false;
    }
  }

  fail(sc: ServerConn, id: number, err: unknown): void {
    this.reply(sc, { kind: "error", id, error: errorOf(err) });
  }
}
