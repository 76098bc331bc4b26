// The client side of the manager protocol: one authenticated connection per (server address, key)
// in each process or thread, shared by every proxy and manager object that talks to that server.
// Requests carry ids, so many calls are in flight at once on one socket; the socket keeps the
// event loop alive only while a call is pending. A lost connection rejects what was pending and is
// re-opened by the next call (a manager restarted on the same address is found again).
import { handshake } from "../connection/auth.js";
import { addressKey, connectSocket, type Address } from "../connection/listener.js";
import { kListen, kRef, kWriteFrame, SocketConnection } from "../connection/socket-connection.js";
import { BrokenBarrierError, Empty, EOFError, ErrorCodes, Full, ProcessError, RemoteError, TimeoutError } from "../errors.js";
import { loadHandleTypes } from "../transport/handles.js";
import { dumps, handleTypesOf, loads } from "../transport/serialize.js";
import { PROTOCOL_VERSION, type Request, type Response } from "./messages.js";

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;
export type CallRequestBody = WithoutId<Exclude<Request, { kind: "incref" | "decref" }>>;

interface Pending {
  resolve(r: Response): void;
  reject(e: Error): void;
}

export interface ChannelOptions {
  handshakeTimeout?: number;
  allowLegacyAuth?: boolean;
}

const channels = new Map<string, Channel>();

/** Set while a response is being rebuilt, so proxies inside it adopt this channel. */
let incoming: Channel | undefined;
export function incomingChannel(): Channel | undefined {
  return incoming;
}

/** Errors the caller expects by class (Queue's Empty, ...) keep it; anything else is a RemoteError. */
const EXPECTED: Record<string, new (message: string, options: { cause: unknown }) => Error> = {
  [ErrorCodes.EMPTY]: Empty,
  [ErrorCodes.FULL]: Full,
  [ErrorCodes.BROKEN_BARRIER]: BrokenBarrierError,
  [ErrorCodes.TIMEOUT]: TimeoutError,
};

export function remoteError(err: unknown): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  const Expected = typeof code === "string" ? EXPECTED[code] : undefined;
  if (Expected !== undefined) return new Expected(e.message, { cause: e });
  return new RemoteError(`${e.name}: ${e.message}`, { cause: e });
}

export class Channel {
  readonly address: Address;
  readonly authkey: Buffer;
  readonly #key: string;
  readonly #options: ChannelOptions;
  #conn: SocketConnection | undefined;
  #connecting: Promise<void> | undefined;
  #queue: Uint8Array[] = [];
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  #decoding: Promise<void> = Promise.resolve();
  #asyncDecodes = 0;

  private constructor(address: Address, authkey: Buffer, key: string, options: ChannelOptions) {
    this.address = address;
    this.authkey = authkey;
    this.#key = key;
    this.#options = options;
  }

  /** The channel of this process for `address` and `authkey` (made on first use). */
  static for(address: Address, authkey: Buffer, options: ChannelOptions = {}): Channel {
    const key = `${addressKey(address)}\0${authkey.toString("hex")}`;
    let channel = channels.get(key);
    if (channel === undefined) {
      channel = new Channel(address, authkey, key, options);
      channels.set(key, channel);
    }
    return channel;
  }

  #connect(): void {
    if (this.#conn !== undefined || this.#connecting !== undefined) return;
    const hello = this.#nextId++;
    this.#pending.set(hello, { resolve: () => undefined, reject: () => undefined });
    this.#queue.unshift(dumps({ kind: "hello", id: hello, version: PROTOCOL_VERSION }, "socket"));
    this.#connecting = (async () => {
      const socket = await connectSocket(this.address);
      const conn = new SocketConnection(socket);
      await handshake(conn, "client", { authkey: this.authkey, allowLegacy: this.#options.allowLegacyAuth ?? true }, this.#options.handshakeTimeout ?? 10_000);
      return conn;
    })().then(
      (conn) => {
        this.#connecting = undefined;
        if (this.#closed) {
          conn.close();
          return;
        }
        this.#conn = conn;
        conn[kListen]((frame) => this.#onFrame(frame), (err) => this.#lost(err));
        for (const frame of this.#queue) conn[kWriteFrame](frame);
        this.#queue = [];
        this.#updateRef();
      },
      (err: Error) => {
        this.#connecting = undefined;
        this.#lost(err);
      },
    );
  }

  #updateRef(): void {
    this.#conn?.[kRef](this.#pending.size > 0);
  }

  #lost(err: Error): void {
    if (channels.get(this.#key) === this) channels.delete(this.#key);
    this.#conn = undefined;
    this.#queue = [];
    const failure =
      err instanceof ProcessError && err.code !== ErrorCodes.EOF
        ? err
        : new EOFError(`lost the connection to the manager at ${addressKey(this.address)}`, { cause: err });
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(failure);
  }

  #onFrame(frame: Buffer): void {
    if (frame[0] === 0 && this.#asyncDecodes === 0) {
      this.#dispatch(frame);
      return;
    }
    // A payload naming lazily loaded handle types: load them first, keeping replies in order.
    this.#asyncDecodes++;
    this.#decoding = this.#decoding
      .then(() => loadHandleTypes(handleTypesOf(frame)))
      .then(() => this.#dispatch(frame))
      .catch(() => undefined)
      .finally(() => this.#asyncDecodes--);
  }

  #dispatch(frame: Buffer): void {
    let response: Response;
    // The "current channel" is module state read by the proxy reviver during loads() below.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    incoming = this;
    try {
      response = loads(frame) as Response;
    } catch (err) {
      // A reply we cannot rebuild: fail the one call it answers if we can tell which.
      this.#failAll(new ProcessError("could not read a reply from the manager", { code: ErrorCodes.PROTOCOL, cause: err }));
      return;
    } finally {
      incoming = undefined;
    }
    const pending = this.#pending.get(response.id);
    if (pending === undefined) return;
    this.#pending.delete(response.id);
    this.#updateRef();
    pending.resolve(response);
  }

  #failAll(err: Error): void {
    this.#conn?.close();
    this.#lost(err);
  }

  #send(frame: Uint8Array): void {
    if (this.#conn !== undefined) this.#conn[kWriteFrame](frame);
    else {
      this.#queue.push(frame);
      this.#connect();
    }
  }

  /** Sends a request; resolves with its response (error responses included). */
  request(body: CallRequestBody): Promise<Response> {
    if (this.#closed) return Promise.reject(new EOFError("the manager connection is closed"));
    const id = this.#nextId++;
    let frame: Buffer;
    try {
      frame = dumps({ ...body, id }, "socket");
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return new Promise<Response>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#updateRef();
      this.#send(frame);
    });
  }

  /** Sends a message that has no answer (incref, decref). Dropped if the channel is gone. */
  notify(message: { kind: "incref"; oid: number } | { kind: "decref"; oid: number; count: number }): void {
    if (this.#closed) return;
    this.#send(dumps(message, "socket"));
  }

  /** Closes the connection (pending calls reject with EOFError). */
  close(): void {
    this.#closed = true;
    if (channels.get(this.#key) === this) channels.delete(this.#key);
    this.#conn?.close();
    this.#lost(new EOFError("the manager connection was closed"));
  }
}

/** Unwraps a response: the value, or the server's error as RemoteError (or Empty, Full, ...). */
export function unwrap(response: Response): unknown {
  if (response.kind === "error") throw remoteError(response.error);
  return response.kind === "ok" ? response.value : response;
}
