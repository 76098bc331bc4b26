// A Connection over a stream socket (TCP or Unix): CPython's framing (framing.ts), objects
// serialised with node:v8 (transport/serialize.ts), the same surface as Pipe's Connection.
//
// Reads are pushed by the socket and decoded into whole frames as they arrive; frames wait in a
// queue (the socket is paused above HIGH_WATER queued bytes) until recv* takes them. Before
// authentication the connection runs in "step" mode: it decodes one frame at a time, only when
// asked, with a 256-byte limit, so a peer that has not authenticated can make us buffer at most
// one socket chunk and deserialise nothing.
import type { Socket } from "node:net";
import { ArgumentError, BufferTooShort, EOFError, ErrorCodes, StateError } from "../errors.js";
import { dumps, loadsAsync } from "../transport/serialize.js";
import { checkOptions, checkTimeout, describe } from "../validate.js";
import { FrameDecoder, frameHeader, frameSmall, badLength } from "./framing.js";

const HIGH_WATER = 16 * 1024 * 1024;
const SMALL_FRAME = 16 * 1024;

/** Internal hooks used by Listener/Client and the managers; not part of the public surface. */
export const kStep = Symbol("multiproc.connection.step");
export const kListen = Symbol("multiproc.connection.listen");
export const kRef = Symbol("multiproc.connection.ref");
export const kWriteFrame = Symbol("multiproc.connection.writeFrame");
export const kReady = Symbol("multiproc.connection.ready");
export const kSocket = Symbol("multiproc.connection.socket");
export const kOnReady = Symbol("multiproc.connection.onReady");

interface Waiter {
  take(frame: Buffer): void;
  fail(err: Error): void;
}

export interface SocketConnectionOptions {
  /** Largest frame accepted once out of step mode (default: unlimited, like CPython). */
  maxMessageSize?: number;
}

/**
 * A Connection over a socket, as Listener.accept() and Client() give (framing compatible with CPython's).
 *
 * @example
 * ```ts
 * import { Client, type SocketConnection } from "multiproc/connection";
 * const conn: SocketConnection = await Client(["127.0.0.1", 6000], { authkey: "secret" });
 * await conn.sendBytes(new TextEncoder().encode("raw bytes"));
 * ```
 */
export class SocketConnection implements AsyncIterable<unknown>, Disposable {
  readonly #socket: Socket;
  readonly #decoder: FrameDecoder;
  #maxMessageSize: number;
  readonly #frames: Buffer[] = [];
  #head = 0;
  #queued = 0;
  readonly #waiters: Waiter[] = [];
  #readyWaiters: (() => void)[] = [];
  /** Set when nothing more will arrive: EOFError, a protocol error, or a socket error. */
  #failure: Error | undefined;
  #closed = false;
  #readable = true;
  #step = false;
  #raw: Buffer | undefined;
  #push: ((frame: Buffer) => void) | undefined;
  #onEnd: ((err: Error) => void) | undefined;

  constructor(socket: Socket, options: SocketConnectionOptions = {}) {
    this.#socket = socket;
    this.#maxMessageSize = options.maxMessageSize ?? Number.MAX_SAFE_INTEGER;
    this.#decoder = new FrameDecoder(this.#maxMessageSize);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("end", () => this.#end(new EOFError()));
    socket.on("error", (err) => this.#end(new EOFError(`the connection failed: ${err.message}`, { cause: err })));
    socket.on("close", () => this.#end(new EOFError()));
  }

  #onData(chunk: Buffer): void {
    if (this.#failure !== undefined) return;
    if (this.#step) {
      this.#raw = this.#raw === undefined ? chunk : Buffer.concat([this.#raw, chunk]);
      this.#socket.pause();
      this.#decodeStep();
      return;
    }
    const frames: Buffer[] = [];
    try {
      this.#decoder.push(chunk, frames);
    } catch (err) {
      this.#fail(err as Error);
      return;
    }
    for (const f of frames) this.#deliver(f);
  }

  /** Step mode: decode one frame only when a waiter wants one. */
  #decodeStep(): void {
    while (this.#raw !== undefined && this.#waiters.length > 0) {
      const frames: Buffer[] = [];
      let used: number;
      try {
        used = this.#decoder.push(this.#raw, frames, true);
      } catch (err) {
        this.#fail(err as Error);
        return;
      }
      this.#raw = used >= this.#raw.length ? undefined : this.#raw.subarray(used);
      for (const f of frames) this.#deliver(f);
    }
    if (this.#raw === undefined && this.#failure === undefined) this.#socket.resume();
  }

  #deliver(frame: Buffer): void {
    if (this.#push !== undefined) {
      this.#push(frame);
      return;
    }
    const w = this.#waiters.shift();
    if (w !== undefined) {
      w.take(frame);
      return;
    }
    this.#frames.push(frame);
    this.#queued += frame.length;
    if (this.#queued > HIGH_WATER) this.#socket.pause();
    this.#wakeReady();
  }

  #wakeReady(): void {
    if (this.#readyWaiters.length === 0) return;
    const ready = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const r of ready) r();
  }

  #fail(err: Error): void {
    this.#end(err);
    this.#socket.destroy();
  }

  #end(err: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = err;
    for (const w of this.#waiters.splice(0)) w.fail(err);
    this.#wakeReady();
    this.#onEnd?.(err);
  }

  #takeFrame(): Promise<Buffer> {
    if (this.#closed) return Promise.reject(closedError());
    if (!this.#readable) return Promise.reject(new StateError("this connection is not readable", { code: ErrorCodes.CLOSED }));
    if (this.#head < this.#frames.length) {
      const frame = this.#frames[this.#head]!;
      this.#frames[this.#head++] = undefined as unknown as Buffer;
      if (this.#head === this.#frames.length) {
        this.#frames.length = 0;
        this.#head = 0;
      }
      const before = this.#queued;
      this.#queued -= frame.length;
      if (before > HIGH_WATER && this.#queued <= HIGH_WATER && !this.#step) this.#socket.resume();
      return Promise.resolve(frame);
    }
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise<Buffer>((resolve, reject) => {
      this.#waiters.push({ take: resolve, fail: reject });
      if (this.#step) this.#decodeStep();
    });
  }

  #checkLength(frame: Buffer, maxLength: number | undefined): Buffer {
    if (maxLength !== undefined && frame.length > maxLength) {
      // Like CPython: the stream can no longer be trusted for reading.
      this.#readable = false;
      throw badLength(frame.length, maxLength);
    }
    return frame;
  }

  /** Sends `buf` (or `size` items of it from `offset`, in units of its element size) as one message. */
  // Both send calls are async functions whose bodies run synchronously up to the write, so
  // messages go out in call order and bad input rejects before anything is written.
  async sendBytes(buf: ArrayBufferView | ArrayBuffer, offset = 0, size?: number): Promise<void> {
    const bytes = sliceBytes(buf, offset, size);
    this.#checkWritable();
    return this.#write(bytes);
  }

  /** Serialises `obj` (node:v8 structured clone, multiproc objects as handles) and sends it. */
  async send(obj: unknown): Promise<void> {
    this.#checkWritable();
    return this.#write(dumps(obj, "socket"));
  }

  #write(bytes: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(new EOFError(`send failed: ${err.message}`, { cause: err })) : resolve());
      this.#writeRaw(bytes, done);
    });
  }

  #writeRaw(bytes: Uint8Array, done?: (err?: Error | null) => void): void {
    if (bytes.byteLength <= SMALL_FRAME) {
      this.#socket.write(frameSmall(bytes), done);
    } else {
      this.#socket.cork();
      this.#socket.write(frameHeader(bytes.byteLength));
      this.#socket.write(bytes, done);
      this.#socket.uncork();
    }
  }

  #checkWritable(): void {
    if (this.#closed) throw closedError();
    if (this.#socket.destroyed || !this.#socket.writable) throw new EOFError("the other end is closed; cannot send");
  }

  /** The next message's bytes. A message over `maxLength` rejects with ERR_BAD_MESSAGE_LENGTH. */
  async recvBytes(options: { maxLength?: number } = {}): Promise<Buffer> {
    const max = checkOptions(options).maxLength;
    if (max !== undefined && (typeof max !== "number" || !(max >= 0))) {
      throw new ArgumentError(`maxLength must be a number >= 0, got ${describe(max)}`, ErrorCodes.INVALID_ARG_VALUE);
    }
    return this.#checkLength(await this.#takeFrame(), max);
  }

  /** Reads the next message into `buf` at byte `offset`; resolves with its length. */
  async recvBytesInto(buf: ArrayBufferView | ArrayBuffer, offset = 0): Promise<number> {
    const target = sliceBytes(buf, 0);
    if (!Number.isInteger(offset) || offset < 0 || offset > target.byteLength) {
      throw new ArgumentError(`offset must be an integer between 0 and ${target.byteLength}, got ${describe(offset)}`, ErrorCodes.OUT_OF_RANGE);
    }
    const frame = await this.#takeFrame();
    if (frame.length > target.byteLength - offset) throw new BufferTooShort(new Uint8Array(frame));
    target.set(frame, offset);
    return frame.length;
  }

  /** The next object. Rejects with EOFError once the peer closed and nothing is left. */
  async recv(): Promise<unknown> {
    return loadsAsync(await this.#takeFrame());
  }

  /**
   * Whether a message (or EOF) is ready. Like CPython, no timeout means "check now";
   * `{ timeout: ms }` waits up to that long; `{ timeout: Infinity }` waits until one is.
   */
  async poll(options: { timeout?: number } = {}): Promise<boolean> {
    const timeout = checkTimeout(checkOptions(options).timeout) ?? 0;
    if (this.#closed) throw closedError();
    if (this[kReady]()) return true;
    if (timeout === 0) return false;
    if (this.#step) return false;
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#readyWaiters.push(onReady);
      if (timeout !== Infinity) {
        timer = setTimeout(() => {
          this.#readyWaiters = this.#readyWaiters.filter((r) => r !== onReady);
          resolve(false);
        }, timeout);
      }
    });
  }

  /** Closes the connection (pending writes are flushed first). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const err = closedError();
    for (const w of this.#waiters.splice(0)) w.fail(err);
    this.#wakeReady();
    this.#socket.destroySoon();
  }

  /** Whether this end is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether recv() may be called on this end. */
  get readable(): boolean {
    return !this.#closed && this.#readable;
  }

  /** Whether send() may be called on this end. */
  get writable(): boolean {
    return !this.#closed && !this.#socket.destroyed && this.#socket.writable;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    while (true) {
      let value: unknown;
      try {
        value = await this.recv();
      } catch (err) {
        if (err instanceof EOFError) return;
        throw err;
      }
      yield value;
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  // ---- internal hooks ----

  /** Whether recv would complete now (a frame queued, or the stream ended). */
  [kReady](): boolean {
    return this.#head < this.#frames.length || this.#failure !== undefined || this.#closed;
  }

  /** Registers a callback run once when [kReady] may have become true; returns its remover. */
  [kOnReady](callback: () => void): () => void {
    this.#readyWaiters.push(callback);
    return () => {
      this.#readyWaiters = this.#readyWaiters.filter((r) => r !== callback);
    };
  }

  /** Step mode (handshake): one frame at a time with a small limit; off restores the normal limit. */
  [kStep](on: boolean, limit = 256): void {
    this.#step = on;
    this.#decoder.maxFrame = on ? limit : this.#maxMessageSize;
    if (!on && this.#raw !== undefined) {
      const raw = this.#raw;
      this.#raw = undefined;
      this.#socket.resume();
      this.#onData(raw);
    }
  }

  /**
   * Push mode for the managers: every frame goes to `onFrame` as it arrives (queued ones
   * first), and `onEnd` hears once when the stream ends.
   */
  [kListen](onFrame: (frame: Buffer) => void, onEnd: (err: Error) => void): void {
    this.#push = onFrame;
    this.#onEnd = onEnd;
    while (this.#head < this.#frames.length) {
      const f = this.#frames[this.#head++]!;
      onFrame(f);
    }
    this.#frames.length = 0;
    this.#head = 0;
    this.#queued = 0;
    this.#socket.resume();
    if (this.#failure !== undefined) onEnd(this.#failure);
  }

  /** Writes a frame with no promise (the managers' hot path). */
  [kWriteFrame](bytes: Uint8Array): void {
    this.#writeRaw(bytes);
  }

  /** Whether the socket keeps the event loop alive. */
  [kRef](ref: boolean): void {
    if (ref) this.#socket.ref();
    else this.#socket.unref();
  }

  get [kSocket](): Socket {
    return this.#socket;
  }
}

function closedError(): StateError {
  return new StateError("the connection is closed", { code: ErrorCodes.CLOSED });
}

/** A byte view of `buf` from `offset` for `size` items (CPython's send_bytes rules). */
function sliceBytes(buf: ArrayBufferView | ArrayBuffer, offset: number, size?: number): Uint8Array {
  let bytes: Uint8Array;
  let itemSize = 1;
  if (buf instanceof ArrayBuffer || buf instanceof SharedArrayBuffer) bytes = new Uint8Array(buf);
  else if (ArrayBuffer.isView(buf)) {
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    itemSize = (buf as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
  } else {
    throw new ArgumentError(`buf must be a Buffer, a typed array or an ArrayBuffer, got ${describe(buf)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  const items = bytes.byteLength / itemSize;
  if (!Number.isInteger(offset) || offset < 0 || offset > items) {
    throw new ArgumentError(`offset must be an integer between 0 and ${items}, got ${describe(offset)}`, ErrorCodes.OUT_OF_RANGE);
  }
  const count = size ?? items - offset;
  if (!Number.isInteger(count) || count < 0 || offset + count > items) {
    throw new ArgumentError(`size must be an integer between 0 and ${items - offset}, got ${describe(size)}`, ErrorCodes.OUT_OF_RANGE);
  }
  return bytes.subarray(offset * itemSize, (offset + count) * itemSize);
}
