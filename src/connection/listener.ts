// Listener and Client (Python's multiprocessing.connection): stream sockets, TCP as [host, port]
// or a Unix socket path, authenticated in both directions by CPython's HMAC handshake (auth.ts)
// before a single byte is deserialised.
import { mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ArgumentError, ErrorCodes, ProcessError, StateError } from "../errors.js";
import { currentProcess } from "../runtime.js";
import { checkInteger, checkLimit, checkOptions, describe } from "../validate.js";
import { handshake, type AuthOptions } from "./auth.js";
import { SocketConnection } from "./socket-connection.js";

/**
 * A TCP `[host, port]` or a Unix socket path.
 *
 * @example
 * ```ts
 * import { Listener, type Address } from "multiproc/connection";
 * const tcp: Address = ["127.0.0.1", 6000];
 * const unix: Address = "/tmp/my-app.sock";
 * await using listener = new Listener(tcp);
 * ```
 */
export type Address = readonly [host: string, port: number] | string;

/**
 * What a key may be given as: bytes, or a string (encoded as UTF-8).
 *
 * @example
 * ```ts
 * import { Client, type AuthKey } from "multiproc/connection";
 * const key: AuthKey = "secret"; // or new TextEncoder().encode("secret")
 * const conn = await Client(["127.0.0.1", 6000], { authkey: key });
 * ```
 */
export type AuthKey = Uint8Array | string;

/**
 * Options of Client(): the authkey shared with the listener, and how long the handshake may take.
 *
 * @example
 * ```ts
 * import { Client, type ConnectionOptions } from "multiproc/connection";
 * const options: ConnectionOptions = { authkey: "secret" };
 * const conn = await Client(["127.0.0.1", 6000], options);
 * ```
 */
export interface ConnectionOptions {
  /** The shared secret; default currentProcess().authkey (inherited from the main process). */
  authkey?: AuthKey;
  /** Accept CPython <= 3.11's legacy HMAC-MD5 handshake (default true, as CPython 3.12+ does). */
  allowLegacyAuth?: boolean;
  /** How long the peer may take to finish the handshake, in ms (default 10,000). */
  handshakeTimeout?: number;
  /** Largest message accepted after the handshake, in bytes (default: unlimited, like CPython). */
  maxMessageSize?: number;
}

/**
 * Options of `new Listener(address, {...})`: the authkey clients must prove, and the socket's backlog.
 *
 * @example
 * ```ts
 * import { Listener, type ListenerOptions } from "multiproc/connection";
 * const options: ListenerOptions = { authkey: "secret", backlog: 16 };
 * await using listener = new Listener(["127.0.0.1", 6000], options);
 * ```
 */
export interface ListenerOptions extends ConnectionOptions {
  /** The listen backlog (default 511, Node's). */
  backlog?: number;
  /**
   * At most this many handshakes run at once; further connections are dropped (default 128). Also
   * how many failed handshakes wait for accept() to report them (later ones are not reported).
   */
  maxPendingHandshakes?: number;
}

const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

export interface ResolvedOptions {
  auth: AuthOptions;
  handshakeTimeout: number;
  maxMessageSize: number | undefined;
}

export function toAuthKey(key: unknown, name = "authkey"): Buffer {
  if (key === undefined || key === null) return currentProcess().authkey;
  if (typeof key === "string") return Buffer.from(key, "utf8");
  if (key instanceof Uint8Array) return Buffer.from(key);
  throw new ArgumentError(`${name} must be a Uint8Array or a string, got ${describe(key)}`, ErrorCodes.INVALID_ARG_TYPE);
}

export function resolveConnectionOptions(options: unknown): ResolvedOptions {
  const opts = checkOptions(options) as ConnectionOptions;
  const allowLegacy = opts.allowLegacyAuth ?? true;
  if (typeof allowLegacy !== "boolean") {
    throw new ArgumentError(`allowLegacyAuth must be a boolean, got ${describe(allowLegacy)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  const max = opts.maxMessageSize;
  if (max !== undefined) checkInteger(max, "maxMessageSize", 1);
  return {
    auth: { authkey: toAuthKey(opts.authkey), allowLegacy },
    handshakeTimeout: checkLimit(opts.handshakeTimeout, "handshakeTimeout") ?? DEFAULT_HANDSHAKE_TIMEOUT,
    maxMessageSize: max,
  };
}

export function checkAddress(address: unknown, name = "address"): Address {
  if (typeof address === "string") {
    if (address.length === 0 || Buffer.byteLength(address) > 107) {
      throw new ArgumentError(`${name} as a Unix socket path must be 1 to 107 bytes long, got ${JSON.stringify(address)}`, ErrorCodes.INVALID_ARG_VALUE);
    }
    return address;
  }
  if (Array.isArray(address) && address.length === 2 && typeof address[0] === "string") {
    checkInteger(address[1], `${name}[1] (the port)`, 0, 65535);
    return [address[0], address[1] as number];
  }
  throw new ArgumentError(`${name} must be [host, port] or a Unix socket path, got ${describe(address)}`, ErrorCodes.INVALID_ARG_TYPE);
}

/** A fresh Unix socket path in a private temporary directory (CPython's arbitrary_address). */
export function arbitraryAddress(): string {
  const dir = mkdtempSync(join(tmpdir(), "mp-"));
  return join(dir, `listener-${randomBytes(4).toString("hex")}`);
}

/** ERR_NOT_LISTENING for `address` read before a port-0 bind completed (SPEC "multiproc/connection"). */
export function notListening(what: string): StateError {
  return new StateError(`${what} is not listening yet, so its port is not known: await its ready promise (a manager server: await server.listen()) before reading address`, {
    code: ErrorCodes.NOT_LISTENING,
  });
}

/** Removes a Unix socket's file, and the directory arbitraryAddress() made for it. Synchronous (exit handlers use it). */
export function removeSocketFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Not bound, or already removed.
  }
  const dir = path.slice(0, path.lastIndexOf("/"));
  if (/\/mp-[^/]+$/.test(dir)) rmSync(dir, { recursive: true, force: true });
}

/** The key by which two addresses are compared ("host:port" or the path). */
export function addressKey(address: Address): string {
  return typeof address === "string" ? address : `${address[0]}:${address[1]}`;
}

export const kOnConnection = Symbol("multiproc.listener.onConnection");

type Outcome = { conn: SocketConnection } | { error: Error };

/**
 * A server socket that accepts authenticated connections (Python's `multiprocessing.connection.Listener`); CPython's Client can connect to it, and ours to CPython's Listener.
 *
 * @example
 * ```ts
 * import { Listener } from "multiproc/connection";
 * await using listener = new Listener(["127.0.0.1", 0], { authkey: "secret" });
 * await listener.ready;
 * console.log(listener.address); // [ '127.0.0.1', 41234 ]
 * const conn = await listener.accept();
 * console.log(await conn.recv());
 * ```
 */
export class Listener implements AsyncDisposable {
  readonly #server: Server;
  readonly #options: ResolvedOptions;
  readonly #maxPending: number;
  #address: Address;
  #pending = 0;
  #closed = false;
  readonly #outcomes: Outcome[] = [];
  readonly #acceptors: { resolve(c: SocketConnection): void; reject(e: Error): void }[] = [];
  #handler: ((outcome: Outcome) => void) | undefined;
  readonly #sockets = new Set<Socket>();
  /** Settles once the socket is bound (rejects on EADDRINUSE and the like). */
  readonly ready: Promise<void>;

  constructor(address?: Address, options: ListenerOptions = {}) {
    this.#address = address === undefined ? arbitraryAddress() : checkAddress(address);
    const opts = checkOptions(options) as ListenerOptions;
    this.#options = resolveConnectionOptions(opts);
    const backlog = opts.backlog === undefined ? 511 : checkInteger(opts.backlog, "backlog", 0);
    this.#maxPending = opts.maxPendingHandshakes === undefined ? 128 : checkInteger(opts.maxPendingHandshakes, "maxPendingHandshakes", 1);
    this.#server = createServer({ noDelay: true }, (socket) => this.#onSocket(socket));
    this.ready = new Promise<void>((resolve, reject) => {
      this.#server.once("error", (err: NodeJS.ErrnoException) => {
        reject(new ProcessError(`cannot listen on ${addressKey(this.#address)}: ${err.message}`, { code: ErrorCodes.CONNECTION_FAILED, cause: err }));
      });
      const onListening = () => {
        const bound = this.#server.address();
        if (bound !== null && typeof bound === "object") this.#address = [typeof this.#address === "string" ? bound.address : this.#address[0], bound.port];
        this.#server.on("error", () => undefined);
        resolve();
      };
      if (typeof this.#address === "string") this.#server.listen({ path: this.#address, backlog }, onListening);
      else this.#server.listen({ host: this.#address[0], port: this.#address[1], backlog }, onListening);
    });
    this.ready.catch(() => undefined);
  }

  /** The bound address: with port 0, the real port once `ready` has settled. */
  get address(): Address {
    // Port 0 is replaced by the bound port once listening: before that there is no address to give.
    if (typeof this.#address !== "string" && this.#address[1] === 0) throw notListening("the listener");
    return this.#address;
  }

  #onSocket(socket: Socket): void {
    if (this.#closed || this.#pending >= this.#maxPending) {
      socket.destroy();
      return;
    }
    this.#pending++;
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
    const conn = new SocketConnection(socket, { maxMessageSize: this.#options.maxMessageSize });
    handshake(conn, "listener", this.#options.auth, this.#options.handshakeTimeout).then(
      () => {
        this.#sockets.delete(socket);
        this.#settle({ conn });
      },
      (error: Error) => this.#settle({ error }),
    );
  }

  #settle(outcome: Outcome): void {
    this.#pending--;
    if (this.#closed) {
      if ("conn" in outcome) outcome.conn.close();
      return;
    }
    if (this.#handler !== undefined) {
      this.#handler(outcome);
      return;
    }
    const acceptor = this.#acceptors.shift();
    if (acceptor === undefined) {
      // Failed handshakes wait for accept() to report them, but no more of them than handshakes may
      // run at once: clients failing while nobody accepts must not grow memory without bound.
      if ("error" in outcome && this.#failures() >= this.#maxPending) return;
      this.#outcomes.push(outcome);
    }
    else if ("conn" in outcome) acceptor.resolve(outcome.conn);
    else acceptor.reject(outcome.error);
  }

  #failures(): number {
    let n = 0;
    for (const o of this.#outcomes) if ("error" in o) n++;
    return n;
  }

  /**
   * The next authenticated connection. Like CPython, a client that fails the handshake makes
   * accept reject with AuthenticationError (the listener keeps listening).
   */
  async accept(): Promise<SocketConnection> {
    if (this.#closed) throw new StateError("the listener is closed", { code: ErrorCodes.CLOSED });
    await this.ready;
    const outcome = this.#outcomes.shift();
    if (outcome !== undefined) {
      if ("conn" in outcome) return outcome.conn;
      throw outcome.error;
    }
    return new Promise<SocketConnection>((resolve, reject) => this.#acceptors.push({ resolve, reject }));
  }

  /** Managers: hand every outcome to `handler` as it happens instead of queueing it for accept(). */
  [kOnConnection](handler: (outcome: Outcome) => void): void {
    this.#handler = handler;
    for (const o of this.#outcomes.splice(0)) handler(o);
  }

  /** Stops listening; a Unix socket's file is removed. Accepted connections stay open. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    // Connections still in their handshake are not the caller's yet: drop them.
    for (const s of this.#sockets) s.destroy();
    const err = new StateError("the listener is closed", { code: ErrorCodes.CLOSED });
    for (const a of this.#acceptors.splice(0)) a.reject(err);
    for (const o of this.#outcomes.splice(0)) if ("conn" in o) o.conn.close();
    if (typeof this.#address === "string") removeSocketFile(this.#address);
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await Promise.resolve();
  }
}

/** Opens a raw (unauthenticated) socket to `address`. */
export function connectSocket(address: Address): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = typeof address === "string" ? connect({ path: address }) : connect({ host: address[0], port: address[1], noDelay: true });
    const onError = (err: NodeJS.ErrnoException) => {
      reject(new ProcessError(`cannot connect to ${addressKey(address)}: ${err.message}`, { code: ErrorCodes.CONNECTION_FAILED, cause: err }));
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      resolve(socket);
    });
  });
}

/**
 * Connects to a Listener (ours or CPython's) and runs the handshake; resolves with the connection.
 *
 * @example
 * ```ts
 * import { Client } from "multiproc/connection";
 * const conn = await Client(["127.0.0.1", 6000], { authkey: "secret" });
 * await conn.send("ping");
 * console.log(await conn.recv());
 * conn.close();
 * ```
 */
export async function Client(address: Address, options: ConnectionOptions = {}): Promise<SocketConnection> {
  const addr = checkAddress(address);
  const opts = resolveConnectionOptions(options);
  const socket = await connectSocket(addr);
  const conn = new SocketConnection(socket, { maxMessageSize: opts.maxMessageSize });
  await handshake(conn, "client", opts.auth, opts.handshakeTimeout);
  return conn;
}
