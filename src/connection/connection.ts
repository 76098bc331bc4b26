// Connection: one end of a Pipe (Python's multiprocessing.connection.Connection), over the
// shared-memory rings of a PipeSegment. Objects travel with dumps/loads (structured clone plus
// multiproc handles); bytes travel as they are, and messages of 1 MiB or more through a segment
// of their own that the receiver maps without a copy.
//
// Within one Connection object, receives run one at a time, in call order, and so do sends (a
// message in fragments must not interleave with another). Two objects for the same end used at
// the same time (in one process or several) corrupt each other's messages, as in Python.
import { AbortError } from "../abort.js";
import { ArgumentError, BufferTooShort, EOFError, ErrorCodes, ProcessError, StateError } from "../errors.js";
import { Hold, HolderTable, myPid, releaseWhenCollected, type Transit } from "../shared/holders.js";
import { segmentFromHandle, segmentHandle, type SegmentHandle } from "../shared/segment.js";
import { collectAbandons, kReduce, onAbandon, registerHandleType, type Reduced, type Transport } from "../transport/handles.js";
import { RingReader, RingWriter } from "../transport/ring.js";
import { dumps, loads, loadsAsync } from "../transport/serialize.js";
import { checkInteger, checkOptions, checkSignal, checkTimeout, describe } from "../validate.js";
import { PipeSegment, type End } from "./pipe-segment.js";

/**
 * Options of Connection.recv and recvBytes: a timeout (ms), an AbortSignal, and for bytes a maxLength.
 *
 * @example
 * ```ts
 * import { Pipe } from "multiproc";
 * const [a] = Pipe();
 * await a.recv({ timeout: 1000 }).catch((err) => console.log(err.code)); // "ERR_TIMEOUT"
 * ```
 */
export interface RecvOptions {
  /** Milliseconds to wait for a message; TimeoutError after. Default: as long as a peer lives. */
  timeout?: number;
  signal?: AbortSignal;
}

/**
 * Options of Connection.send and sendBytes (a timeout in ms and an AbortSignal, for when the other end does not read).
 *
 * @example
 * ```ts
 * import { Pipe } from "multiproc";
 * const [, b] = Pipe();
 * await b.send("hi", { timeout: 5000 });
 * ```
 */
export interface SendOptions {
  /** Milliseconds to wait for room in the pipe; TimeoutError after. */
  timeout?: number;
  signal?: AbortSignal;
}

/**
 * Options of Connection.poll: how long to wait (ms) for something to read; 0 (the default) just looks.
 *
 * @example
 * ```ts
 * import { Pipe } from "multiproc";
 * const [a] = Pipe();
 * console.log(await a.poll({ timeout: 100 })); // false: nothing arrived within 100 ms
 * ```
 */
export interface PollOptions {
  /** Milliseconds to wait; default 0 (just look); Infinity waits for a message or EOF. */
  timeout?: number;
  signal?: AbortSignal;
}

interface WaitArgs {
  timeout: number | undefined;
  signal: AbortSignal | undefined;
}

function waitArgs(options: unknown): WaitArgs {
  const opts = checkOptions(options);
  return { timeout: checkTimeout(opts.timeout), signal: checkSignal(opts.signal) };
}

/** Runs promise-returning operations one after the other, in call order. */
class Serial {
  #last: Promise<void> | undefined;

  get busy(): boolean {
    return this.#last !== undefined;
  }

  run<R>(fn: () => Promise<R>): Promise<R> {
    const prev = this.#last;
    const p = prev === undefined ? fn() : prev.then(fn);
    const done = p.then(
      () => undefined,
      () => undefined,
    );
    this.#last = done;
    void done.then(() => {
      if (this.#last === done) this.#last = undefined;
    });
    return p;
  }
}

function asBytes(buf: unknown, name: string): Uint8Array {
  if (buf instanceof Uint8Array) return buf;
  if (ArrayBuffer.isView(buf)) return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf instanceof ArrayBuffer || buf instanceof SharedArrayBuffer) return new Uint8Array(buf);
  throw new ArgumentError(`${name} must be a Buffer, a typed array, a DataView or an ArrayBuffer, got ${describe(buf)}`, ErrorCodes.INVALID_ARG_TYPE);
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

interface ConnectionState {
  segment: SegmentHandle;
  end: End;
  slot: number;
  token: number;
  pid: number;
}

/**
 * One end of a Pipe (Python's `multiprocessing.connection.Connection`): objects with send/recv, bytes with sendBytes/recvBytes, and `for await` until the other end closes.
 *
 * @example
 * ```ts
 * import { Pipe } from "multiproc";
 * const [a, b] = Pipe();
 * await b.send({ hello: "world" });
 * b.close();
 * for await (const message of a) console.log(message); // { hello: 'world' }, then the loop ends
 * ```
 */
export class Connection<T = unknown> implements Disposable, AsyncIterable<T> {
  readonly #pipe: PipeSegment;
  readonly #end: End;
  readonly #hold: Hold;
  readonly #reader: RingReader | undefined;
  readonly #writer: RingWriter | undefined;
  readonly #reads = new Serial();
  readonly #writes = new Serial();
  readonly #closer = new AbortController();

  /** @internal Connections come from Pipe() or arrive in messages. */
  constructor(pipe: PipeSegment, end: End, slot: number) {
    this.#pipe = pipe;
    this.#end = end;
    const other = (1 - end) as End;
    const peerGone = () => pipe.gone(other);
    const r = pipe.readRing(end);
    const w = pipe.writeRing(end);
    this.#reader = r === undefined ? undefined : new RingReader(pipe.segment.buffer, r, peerGone);
    this.#writer = w === undefined ? undefined : new RingWriter(pipe.segment.buffer, w, peerGone);
    // The hold must not reference this object, so that a forgotten Connection can be collected.
    this.#hold = new Hold(pipe.holders[end], slot, () => pipe.settle(end));
    releaseWhenCollected(this, this.#hold);
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#hold.released;
  }

  /** Whether this end can receive (false for the sending end of a one-way pipe). */
  get readable(): boolean {
    return this.#reader !== undefined;
  }

  /** Whether this end can send (false for the receiving end of a one-way pipe). */
  get writable(): boolean {
    return this.#writer !== undefined;
  }

  #checkOpen(): void {
    if (this.#hold.released) throw new StateError("the connection is closed", { code: ErrorCodes.CLOSED });
  }

  #readerOrThrow(): RingReader {
    this.#checkOpen();
    if (this.#reader === undefined) throw new StateError("this end of a one-way pipe only sends", { code: ErrorCodes.NOT_READABLE });
    return this.#reader;
  }

  #writerOrThrow(): RingWriter {
    this.#checkOpen();
    if (this.#writer === undefined) throw new StateError("this end of a one-way pipe only receives", { code: ErrorCodes.NOT_WRITABLE });
    return this.#writer;
  }

  #checkIdle(serial: Serial, what: string): void {
    if (serial.busy) throw new StateError(`a ${what} on this connection is still pending; a synchronous ${what} would interleave with it`, { code: ErrorCodes.BUSY });
  }

  // A close() in this process stops our own pending waits, even when other holders keep the end open.
  #signal(signal: AbortSignal | undefined): AbortSignal {
    return signal === undefined ? this.#closer.signal : AbortSignal.any([signal, this.#closer.signal]);
  }

  #closedWhileWaiting(err: unknown): unknown {
    if (err instanceof AbortError && this.#closer.signal.aborted) {
      return new StateError("the connection was closed while waiting", { code: ErrorCodes.CLOSED });
    }
    return err;
  }

  #dump(obj: unknown): Uint8Array {
    // Multiproc objects inside reserve a holder slot for the receiver; it stays reserved while
    // this process lives (the message may sit unread for a while), as Python's resource sharer.
    return collectAbandons(() => dumps(obj))[0];
  }

  /** A waiting message at once (no promise), or a promise of the next one. */
  #receive(options: unknown): Uint8Array | Promise<Uint8Array> {
    const reader = this.#readerOrThrow();
    const { timeout, signal } = waitArgs(options);
    if (!this.#reads.busy && signal?.aborted !== true) {
      const m = reader.tryRecv();
      if (m !== undefined) return m;
    }
    return this.#reads.run(async () => {
      try {
        return await reader.recv({ timeout, signal: this.#signal(signal) });
      } catch (err) {
        throw this.#closedWhileWaiting(err);
      }
    });
  }

  async #transmit(bytes: Uint8Array, options: unknown): Promise<void> {
    const writer = this.#writerOrThrow();
    const { timeout, signal } = waitArgs(options);
    return this.#writes.run(async () => {
      try {
        await writer.send(bytes, { timeout, signal: this.#signal(signal) });
      } catch (err) {
        throw this.#closedWhileWaiting(err);
      }
    });
  }

  /** Sends an object. An unsendable value (a function, a symbol) throws here; nothing is written. */
  async send(obj: T, options?: SendOptions): Promise<void> {
    const writer = this.#writerOrThrow();
    const { signal } = waitArgs(options);
    const bytes = this.#dump(obj);
    // Fast path: nothing queued before it and room in the ring now.
    if (!this.#writes.busy && signal?.aborted !== true && writer.trySend(bytes)) return;
    await this.#transmit(bytes, options);
  }

  /** Receives the next object; rejects with EOFError once the other end is closed (or dead) and drained. */
  async recv(options?: RecvOptions): Promise<T> {
    const r = this.#receive(options);
    const bytes = r instanceof Uint8Array ? r : await r;
    return (bytes[0] === 1 ? await loadsAsync(bytes) : loads(bytes)) as T;
  }

  /** Sends `size` bytes of `buf` from `offset` (bytes), as one message. Do not change them until this settles. */
  async sendBytes(buf: ArrayBufferView | ArrayBufferLike, offset?: number, size?: number): Promise<void> {
    this.#writerOrThrow();
    await this.#transmit(slice(buf, offset, size), undefined);
  }

  /** Receives one message as bytes (a Buffer; a large one maps shared memory, no copy). */
  async recvBytes(options?: RecvOptions & { maxLength?: number }): Promise<Buffer> {
    const maxLength = maxLengthOf(options);
    return checkLength(toBuffer(await this.#receive(options)), maxLength);
  }

  /** Receives one message into `buf` at byte `offset`; returns its length. BufferTooShort (holding the message) if it does not fit. */
  async recvBytesInto(buf: ArrayBufferView | ArrayBufferLike, offset = 0, options?: RecvOptions): Promise<number> {
    const target = intoTarget(buf, offset);
    return copyInto(await this.#receive(options), target, offset);
  }

  /** Whether a message (or EOF) is waiting; waits up to `timeout` ms (default 0). */
  async poll(options?: PollOptions): Promise<boolean> {
    const reader = this.#readerOrThrow();
    const { timeout, signal } = waitArgs(options);
    try {
      return await reader.poll({ timeout: timeout ?? 0, signal: this.#signal(signal) });
    } catch (err) {
      throw this.#closedWhileWaiting(err);
    }
  }

  /** send() for code that may block its thread (worker code). */
  sendSync(obj: T, options?: { timeout?: number }): void {
    const writer = this.#writerOrThrow();
    this.#checkIdle(this.#writes, "send");
    const { timeout } = waitArgs(options);
    writer.sendSync(this.#dump(obj), { timeout });
  }

  /** recv() for code that may block its thread (worker code). */
  recvSync(options?: { timeout?: number }): T {
    return loads(this.#receiveSync(options)) as T;
  }

  /** sendBytes that blocks this thread while the pipe is full (for workers allowed to block). */
  sendBytesSync(buf: ArrayBufferView | ArrayBufferLike, offset?: number, size?: number): void {
    const writer = this.#writerOrThrow();
    this.#checkIdle(this.#writes, "send");
    writer.sendSync(slice(buf, offset, size));
  }

  /** recvBytes that blocks this thread until a message arrives (for workers allowed to block). */
  recvBytesSync(options?: { timeout?: number; maxLength?: number }): Buffer {
    const maxLength = maxLengthOf(options);
    return checkLength(toBuffer(this.#receiveSync(options)), maxLength);
  }

  /** recvBytesInto that blocks this thread until a message arrives (for workers allowed to block). */
  recvBytesIntoSync(buf: ArrayBufferView | ArrayBufferLike, offset = 0, options?: { timeout?: number }): number {
    const target = intoTarget(buf, offset);
    return copyInto(this.#receiveSync(options), target, offset);
  }

  /** poll() for code that may block its thread. */
  pollSync(options?: { timeout?: number }): boolean {
    const reader = this.#readerOrThrow();
    const { timeout } = waitArgs(options);
    return reader.pollSync({ timeout: timeout ?? 0 });
  }

  #receiveSync(options: unknown): Uint8Array {
    const reader = this.#readerOrThrow();
    this.#checkIdle(this.#reads, "receive");
    const { timeout } = waitArgs(options);
    return reader.recvSync({ timeout });
  }

  /** Closes this end in this process. The peer reads EOF once every holder of this end closed it. */
  close(): void {
    if (this.#hold.released) return;
    this.#closer.abort();
    this.#hold.release();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Yields every message until the other end is closed. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      let item: T;
      try {
        item = await this.recv();
      } catch (err) {
        if (err instanceof EOFError) return;
        throw err;
      }
      yield item;
    }
  }

  [kReduce](transport: Transport): Reduced {
    this.#checkOpen();
    const pipe = this.#pipe;
    const end = this.#end;
    const segment = segmentHandle(pipe.segment, transport === "thread");
    const table: HolderTable = pipe.holders[end];
    const transit: Transit = table.reserve();
    onAbandon(() => {
      if (table.cancel(transit)) pipe.settle(end);
    });
    const state: ConnectionState = { segment, end, slot: transit.slot, token: transit.token, pid: myPid };
    return { type: "Connection", state };
  }

  toString(): string {
    const mode = this.readable && this.writable ? "duplex" : this.readable ? "read-only" : "write-only";
    return `<Connection ${this.#pipe.segment.name}#${this.#end} ${mode}${this.closed ? " closed" : ""}>`;
  }
}

function slice(buf: unknown, offset: unknown, size: unknown): Uint8Array {
  const bytes = asBytes(buf, "buf");
  const from = offset === undefined ? 0 : checkInteger(offset, "offset", 0, bytes.length);
  const length = size === undefined ? bytes.length - from : checkInteger(size, "size", 0, bytes.length - from);
  return bytes.subarray(from, from + length);
}

function maxLengthOf(options: unknown): number | undefined {
  const { maxLength } = checkOptions(options);
  return maxLength === undefined ? undefined : checkInteger(maxLength, "maxLength", 0);
}

function checkLength(bytes: Buffer, maxLength: number | undefined): Buffer {
  if (maxLength !== undefined && bytes.length > maxLength) {
    throw new ProcessError(`the message is ${bytes.length} bytes, more than maxLength ${maxLength}; it was discarded`, {
      code: ErrorCodes.MESSAGE_TOO_LONG,
    });
  }
  return bytes;
}

function intoTarget(buf: unknown, offset: unknown): Uint8Array {
  const target = asBytes(buf, "buf");
  checkInteger(offset, "offset", 0, target.length);
  return target;
}

function copyInto(message: Uint8Array, target: Uint8Array, offset: number): number {
  if (message.length > target.length - offset) {
    throw new BufferTooShort(toBuffer(message), `the message is ${message.length} bytes; the buffer has ${target.length - offset} from offset ${offset}`);
  }
  target.set(message, offset);
  return message.length;
}

registerHandleType("Connection", (raw) => {
  const s = raw as ConnectionState;
  let pipe: PipeSegment;
  try {
    pipe = new PipeSegment(segmentFromHandle(s.segment));
  } catch (err) {
    throw new ProcessError("received a pipe end whose pipe is gone (every holder closed it)", { code: ErrorCodes.CLOSED, cause: err });
  }
  const table = pipe.holders[s.end];
  let slot = table.claim({ slot: s.slot, token: s.token }, s.pid);
  if (slot < 0) slot = table.hold();
  return new Connection(pipe, s.end, slot);
});
