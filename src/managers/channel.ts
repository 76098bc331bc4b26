// The client side of the manager protocol: one authenticated connection per (server address, key)
// in each process or thread, shared by every proxy and manager object that talks to that server.
// Requests carry ids, so many calls are in flight at once on one socket; the socket keeps the
// event loop alive only while a call is pending. A lost connection rejects what was pending and is
// re-opened by the next call (a manager restarted on the same address is found again).
import { handshake } from "../connection/auth.js";
import { addressKey, connectSocket, type Address } from "../connection/listener.js";
import { kListen, kRef, kWriteFrame, SocketConnection } from "../connection/socket-connection.js";
import { BrokenBarrierError, Empty, EOFError, ErrorCodes, Full, ProcessError, RemoteError, TimeoutError } from "../errors.js";
import { atChildExit } from "../runtime.js";
import { loadHandleTypes, ModuleNeeded } from "../transport/handles.js";
import { dumps, dumpsAsync, handleTypesOf } from "../transport/serialize.js";
import { ClientLink } from "./link.js";
import { shmIdentity } from "./locality.js";
import { decodeFrame, encodeCall } from "./wire.js";
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
  /** false: never exchange segments with the server, even on this machine (default true). */
  sharedMemory?: boolean;
}

const channels = new Map<string, Channel>();

/** How long a child that ends waits for its manager calls still unanswered. */
const FLUSH_MS = 10_000;

// A child exits as soon as its target settles; a proxy call it did not await would be lost
// (Python's proxies are synchronous and never lose one), so it waits for them first (issue #14).
atChildExit(async () => {
  const deadline = performance.now() + FLUSH_MS;
  const busy = () => [...channels.values()].some((c) => c.busy);
  while (busy() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
});

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
  /** Frames (and how many replies each asks for) held until the server answered our hello. */
  #queue: [Uint8Array, number][] = [];
  /** The hello was answered: frames go out (through the link, if there is one). */
  #ready = false;
  /** A local server's shared-memory link (link.ts), once its offer was taken. */
  #link: ClientLink | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  #decoding: Promise<void> = Promise.resolve();
  #asyncDecodes = 0;
  /** "bytes" once the server said it shares our /dev/shm: big data travels through segments. */
  #transport: "bytes" | "socket" = "socket";
  /** Requests waiting for a module to encode them (an apache-arrow Table), so later ones wait too. */
  #encoding: Promise<void> | undefined;

  private constructor(address: Address, authkey: Buffer, key: string, options: ChannelOptions) {
    this.address = address;
    this.authkey = authkey;
    this.#key = key;
    this.#options = options;
  }

  /** The channel of this process for `address` and `authkey` (made on first use). */
  static for(address: Address, authkey: Buffer, options: ChannelOptions = {}): Channel {
    // A client that asked for no shared memory gets a connection of its own.
    const key = `${addressKey(address)}\0${authkey.toString("hex")}${options.sharedMemory === false ? "\0copies" : ""}`;
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
    const onHello = (r: Response) => {
      const value = r.kind === "ok" ? (r.value as { local?: unknown; link?: unknown } | null) : null;
      if (value?.local === true) this.#transport = "bytes";
      if (value?.link !== undefined && this.#conn !== undefined) {
        this.#link = ClientLink.open(value.link);
        this.#link?.listen(
          (frame) => this.#onFrame(frame),
          (err) => this.#failAll(err),
        );
      }
      // Everything asked for meanwhile goes out now, all of it the same way, so the server reads
      // it in order.
      this.#ready = true;
      const queued = this.#queue;
      this.#queue = [];
      for (const [frame, replies] of queued) this.#write(frame, replies);
    };
    this.#pending.set(hello, { resolve: onHello, reject: () => undefined });
    const shm = this.#options.sharedMemory === false ? undefined : shmIdentity();
    const helloFrame = dumps({ kind: "hello", id: hello, version: PROTOCOL_VERSION, ...(shm === undefined ? {} : { shm, link: true }) }, "socket");
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
        conn[kWriteFrame](helloFrame);
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
    // Replies the server published on the link before it went count (a `shutdown` answered).
    this.#link?.drainNow();
    this.#link?.close();
    this.#link = undefined;
    this.#ready = false;
    this.#conn = undefined;
    this.#queue = [];
    this.#transport = "socket";
    const failure =
      err instanceof ProcessError && err.code !== ErrorCodes.EOF
        ? err
        : new EOFError(`lost the connection to the manager at ${addressKey(this.address)}`, { cause: err });
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(failure);
  }

  #onFrame(frame: Buffer): void {
    if (frame[0] !== 1 && this.#asyncDecodes === 0) {
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
      const message = decodeFrame(frame) as { kind?: unknown };
      if (message.kind !== "ok" && message.kind !== "proxy" && message.kind !== "error") throw new TypeError(`a '${String(message.kind)}' is not a reply`);
      response = message as Response;
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

  /** Sends a frame that asks for `replies` replies (0 or 1), or holds it until the connection is ready. */
  #send(frame: Uint8Array, replies: number): void {
    if (this.#ready) this.#write(frame, replies);
    else {
      this.#queue.push([frame, replies]);
      this.#connect();
    }
  }

  #write(frame: Uint8Array, replies: number): void {
    if (this.#link !== undefined) this.#link.write(frame, replies);
    else this.#conn?.[kWriteFrame](frame);
  }

  /** Sends a request; resolves with its response (error responses included). */
  request(body: CallRequestBody): Promise<Response> {
    if (this.#closed) return Promise.reject(new EOFError("the manager connection is closed"));
    const id = this.#nextId++;
    const message = { ...body, id };
    let frame: Buffer | undefined;
    if (this.#encoding === undefined) {
      try {
        frame = (body.kind === "call" ? encodeCall(id, body.oid, body.method, body.args) : undefined) ?? dumps(message, this.#transport);
      } catch (err) {
        if (!(err instanceof ModuleNeeded)) return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return new Promise<Response>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#updateRef();
      if (frame !== undefined) {
        this.#send(frame, 1);
        return;
      }
      // Encode once the module it needs is loaded; requests made meanwhile keep their order.
      const encoding = (this.#encoding ?? Promise.resolve())
        .then(() => dumpsAsync(message, this.#transport))
        .then(
          (f) => this.#send(f, 1),
          (err: unknown) => {
            this.#pending.delete(id);
            this.#updateRef();
            reject(err instanceof Error ? err : new Error(String(err)));
          },
        );
      this.#encoding = encoding;
      void encoding.then(() => {
        if (this.#encoding === encoding) this.#encoding = undefined;
      });
    });
  }

  /** Sends a message that has no answer (incref, decref). Dropped if the channel is gone. */
  notify(message: { kind: "incref"; oid: number } | { kind: "decref"; oid: number; count: number }): void {
    if (this.#closed) return;
    const frame = dumps(message, "socket");
    if (this.#encoding === undefined) this.#send(frame, 0);
    else void this.#encoding.then(() => this.#send(frame, 0));
  }

  /** Whether calls made through this channel wait for their answer. */
  get busy(): boolean {
    return this.#pending.size > 0;
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
