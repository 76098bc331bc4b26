// A single-producer single-consumer byte ring in shared memory: the transport under Pipe and the
// Pool's task dispatch. One writer and one reader at a time (each may be in any process).
//
// Layout (byte offsets from the ring's base, Int32 words):
//   0    HEAD     bytes consumed (u32, wraps), written by the reader
//   64   TAIL     bytes published (u32, wraps), written by the writer
//   128  RSEQ     reader's doorbell: bumped when there is news for a sleeping reader
//   132  WSEQ     writer's doorbell: bumped when there is news for a sleeping writer
//   136  RSLEEP   1 while the reader sleeps (or is about to)
//   140  WSLEEP   1 while the writer sleeps
//   144  CLOSED   bit 0: writer closed, bit 1: reader closed
//   148  CAPACITY data bytes (a power of two)
//   256  data
// HEAD and TAIL live on their own cache lines. Sleepers wait on a doorbell, never on HEAD/TAIL,
// so a close (which changes no counter) still wakes them: with value-based waits a wake must come
// with a change of the word slept on (docs/design.md).
//
// Frames are 4-byte aligned: a u32 header (length | flags), then the payload. A payload larger
// than half the ring is split into fragments (MORE flag); one of LARGE_MESSAGE bytes or more goes
// through a segment of its own (OUT_OF_LINE flag, payload = its name), so the reader maps it
// instead of copying it through the ring.
//
// Crash safety: a writer that dies mid-frame never published it (TAIL moves after the bytes are
// in place); a reader that dies mid-read never consumed it (HEAD moves after the copy).
import { AbortError } from "../abort.js";
import { corruptData, EOFError, ErrorCodes, ProcessError, TimeoutError } from "../errors.js";
import { Spinner } from "../native/spin.js";
import { waiter } from "../native/wait.js";
import { attachSegment, createSegmentFrom, unlinkSegment } from "../shared/segment.js";

const HEAD = 0;
const TAIL = 16;
const RSEQ = 32;
const WSEQ = 33;
const RSLEEP = 34;
const WSLEEP = 35;
const CLOSED = 36;
const CAPACITY = 37;
export const RING_HEADER_BYTES = 256;

const WRITER_CLOSED = 1;
const READER_CLOSED = 2;
const MORE = 0x40000000;
const OUT_OF_LINE = 0x20000000;
const LENGTH_MASK = 0x1fffffff;
export const LARGE_MESSAGE = 1 << 20;
const SLICE_MS = 100;
/** Payloads up to this many bytes are copied into the ring byte by byte. */
const SMALL_COPY = 64;

/** Bytes a ring of `capacity` data bytes needs in its segment. */
export function ringSize(capacity: number): number {
  return RING_HEADER_BYTES + capacity;
}

/** Prepares a fresh ring at `offset` (zeroed memory). `capacity` must be a power of two >= 64. */
export function initRing(buffer: SharedArrayBuffer, offset: number, capacity: number): void {
  if (capacity < 64 || (capacity & (capacity - 1)) !== 0) throw new RangeError(`ring capacity must be a power of two >= 64, got ${capacity}`);
  new Int32Array(buffer, offset, RING_HEADER_BYTES / 4)[CAPACITY] = capacity;
}

export interface WaitOptions {
  /** Milliseconds; undefined waits as long as the peer lives. */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Whether the pending wait keeps the event loop alive (default true); the Pool's readers use false. */
  ref?: boolean | undefined;
}

/** Says whether the process on the other side is gone (checked every slice while waiting). */
export type PeerGone = () => boolean;

const noPeerCheck: PeerGone = () => false;

function align4(n: number): number {
  return (n + 3) & ~3;
}

class RingBase {
  protected readonly words: Int32Array;
  protected readonly data: Uint8Array;
  protected readonly data32: Int32Array;
  protected readonly capacity: number;
  protected readonly mask: number;
  readonly #spinner = new Spinner();

  constructor(buffer: SharedArrayBuffer, offset: number, protected readonly peerGone: PeerGone = noPeerCheck) {
    this.words = new Int32Array(buffer, offset, RING_HEADER_BYTES / 4);
    this.capacity = this.words[CAPACITY]!;
    const c = this.capacity;
    if (c < 64 || (c & (c - 1)) !== 0 || offset + RING_HEADER_BYTES + c > buffer.byteLength) {
      throw corruptData(`ring header: capacity ${c} is not a power of two >= 64 that fits the segment`);
    }
    this.mask = this.capacity - 1;
    this.data = new Uint8Array(buffer, offset + RING_HEADER_BYTES, this.capacity);
    this.data32 = new Int32Array(buffer, offset + RING_HEADER_BYTES, this.capacity / 4);
  }

  protected closedFlags(): number {
    return Atomics.load(this.words, CLOSED);
  }

  /** Whether either side closed the ring (or someone wrote its close flags). */
  isClosed(): boolean {
    return this.closedFlags() !== 0;
  }

  protected ring(bell: number): void {
    Atomics.add(this.words, bell, 1);
    waiter().wake(this.words, bell, 1);
  }

  /** Closes this side and wakes the other. */
  protected closeSide(flag: number): void {
    Atomics.or(this.words, CLOSED, flag);
    this.ring(RSEQ);
    this.ring(WSEQ);
  }

  /**
   * Sleeps on doorbell `bell` until `ready()` holds. Announces the sleep in `sleepFlag` first and
   * re-checks, so a publisher either sees the flag or we see its update (all Atomics are SC).
   * Returns false on timeout; throws AbortError, or `gone()` when the peer died meanwhile.
   */
  protected waitSync(bell: number, sleepFlag: number, ready: () => boolean, deadline: number, gone: () => Error): boolean {
    if (this.#spinner.spin(ready)) return true;
    for (;;) {
      const seq = Atomics.load(this.words, bell);
      if (ready()) return true;
      const slice = Math.min(SLICE_MS, deadline - performance.now());
      if (slice <= 0) return false;
      Atomics.store(this.words, sleepFlag, 1);
      if (ready()) {
        Atomics.store(this.words, sleepFlag, 0);
        return true;
      }
      const r = waiter().wait(this.words, bell, seq, slice);
      Atomics.store(this.words, sleepFlag, 0);
      if (r === "timed-out" && !ready() && this.peerGone()) throw gone();
    }
  }

  protected async waitAsync(
    bell: number,
    sleepFlag: number,
    ready: () => boolean,
    deadline: number,
    signal: AbortSignal | undefined,
    gone: () => Error,
    ref = true,
  ): Promise<boolean> {
    if (this.#spinner.spin(ready)) return true;
    for (;;) {
      if (signal?.aborted) throw new AbortError(signal.reason);
      const seq = Atomics.load(this.words, bell);
      if (ready()) return true;
      const slice = Math.min(SLICE_MS, deadline - performance.now());
      if (slice <= 0) return false;
      Atomics.store(this.words, sleepFlag, 1);
      if (ready()) {
        Atomics.store(this.words, sleepFlag, 0);
        return true;
      }
      let r;
      try {
        r = await waiter().waitAsync(this.words, bell, seq, { timeout: slice, signal, ref });
      } finally {
        Atomics.store(this.words, sleepFlag, 0);
      }
      if (r === "timed-out" && !ready() && this.peerGone()) throw gone();
    }
  }
}

function deadlineOf(timeout: number | undefined): number {
  return timeout === undefined ? Infinity : performance.now() + timeout;
}

function brokenPipe(): ProcessError {
  return new ProcessError("the reading end is closed or its process died", { code: ErrorCodes.BROKEN_PIPE });
}

/** The writing side of a ring. Not for concurrent use: serialise sends within a process. */
export class RingWriter extends RingBase {
  #tail: number;

  constructor(buffer: SharedArrayBuffer, offset: number, peerGone?: PeerGone) {
    super(buffer, offset, peerGone);
    this.#tail = Atomics.load(this.words, TAIL);
  }

  #free(): number {
    return this.capacity - ((this.#tail - Atomics.load(this.words, HEAD)) >>> 0);
  }

  #checkOpen(): void {
    const flags = this.closedFlags();
    if (flags & WRITER_CLOSED) throw new ProcessError("this end is closed", { code: ErrorCodes.CLOSED });
    if (flags & READER_CLOSED) throw brokenPipe();
  }

  /** Writes one frame if it fits now; the caller guarantees frameBytes <= capacity. */
  #put(header: number, payload: Uint8Array, from: number, length: number): boolean {
    const need = 4 + align4(length);
    if (this.#free() < need) return false;
    const pos = this.#tail & this.mask;
    this.data32[pos >> 2] = header;
    const start = (pos + 4) & this.mask;
    const first = Math.min(length, this.capacity - start);
    if (first === length && length <= SMALL_COPY) {
      // A loop beats a subarray and a set() call for a few bytes (a Pool's reply).
      const data = this.data;
      for (let i = 0; i < length; i++) data[start + i] = payload[from + i]!;
    } else {
      this.data.set(from === 0 && first === payload.length ? payload : payload.subarray(from, from + first), start);
      if (first < length) this.data.set(payload.subarray(from + first, from + length), 0);
    }
    this.#tail = (this.#tail + need) | 0;
    Atomics.store(this.words, TAIL, this.#tail);
    if (Atomics.load(this.words, RSLEEP) !== 0) this.ring(RSEQ);
    return true;
  }

  /** The frames a payload becomes: [header, from, length] each. */
  #frames(payload: Uint8Array): [number, Uint8Array, number, number][] {
    if (payload.length >= LARGE_MESSAGE) {
      const segment = createSegmentFrom(payload, { prefix: "/mp_" });
      const name = new TextEncoder().encode(`${segment}\n${payload.length}`);
      return [[OUT_OF_LINE | name.length, name, 0, name.length]];
    }
    const chunk = this.capacity / 2 - 4;
    const frames: [number, Uint8Array, number, number][] = [];
    for (let from = 0; from < payload.length || frames.length === 0; from += chunk) {
      const length = Math.min(chunk, payload.length - from);
      const more = from + length < payload.length ? MORE : 0;
      frames.push([more | length, payload, from, length]);
    }
    return frames;
  }

  // Another holder of this end may have written since we last did: start from the shared TAIL.
  #sync(): void {
    this.#tail = Atomics.load(this.words, TAIL);
  }

  /** `beforeWait`: as for sendSync. */
  async send(payload: Uint8Array, options: WaitOptions & { beforeWait?: (() => void) | undefined } = {}): Promise<void> {
    this.#checkOpen();
    this.#sync();
    const deadline = deadlineOf(options.timeout);
    for (const [header, bytes, from, length] of this.#frames(payload)) {
      while (!this.#put(header, bytes, from, length)) {
        this.#checkOpen();
        options.beforeWait?.();
        const need = 4 + align4(length);
        const ok = await this.waitAsync(WSEQ, WSLEEP, () => this.#free() >= need || this.closedFlags() !== 0, deadline, options.signal, brokenPipe, options.ref);
        if (!ok) throw new TimeoutError("timed out waiting for room in the pipe");
      }
    }
  }

  /**
   * `beforeWait` runs each time the writer is about to wait for room (a reader that is woken some
   * other way than the doorbell, such as the Pool's parent, learns there of the fragments published).
   */
  sendSync(payload: Uint8Array, options: { timeout?: number | undefined; beforeWait?: (() => void) | undefined } = {}): void {
    this.#checkOpen();
    this.#sync();
    // The common case, one frame with room for it, without building the list of frames.
    if (payload.length <= this.capacity / 2 - 4 && this.#put(payload.length, payload, 0, payload.length)) return;
    const deadline = deadlineOf(options.timeout);
    for (const [header, bytes, from, length] of this.#frames(payload)) {
      while (!this.#put(header, bytes, from, length)) {
        this.#checkOpen();
        options.beforeWait?.();
        const need = 4 + align4(length);
        if (!this.waitSync(WSEQ, WSLEEP, () => this.#free() >= need || this.closedFlags() !== 0, deadline, brokenPipe)) {
          throw new TimeoutError("timed out waiting for room in the pipe");
        }
      }
    }
  }

  /**
   * Writes the whole message if it fits now, else nothing; never waits. For writers that must not
   * block and keep their own queue (the Pool's dispatcher).
   */
  trySend(payload: Uint8Array): boolean {
    this.#checkOpen();
    this.#sync();
    if (payload.length >= LARGE_MESSAGE ? this.#free() < 64 : this.#free() < this.#need(payload.length)) return false;
    for (const [header, bytes, from, length] of this.#frames(payload)) {
      if (!this.#put(header, bytes, from, length)) throw new Error("ring: room vanished during trySend");
    }
    return true;
  }

  /** Ring bytes a message of `length` bytes takes when it goes inline (fragments included). */
  #need(length: number): number {
    const chunk = this.capacity / 2 - 4;
    const full = Math.floor(length / chunk);
    const rest = length - full * chunk;
    return full * (4 + chunk) + (rest > 0 || full === 0 ? 4 + align4(rest) : 0);
  }

  close(): void {
    this.closeSide(WRITER_CLOSED);
  }
}

/** The reading side of a ring. Not for concurrent use: serialise receives within a process. */
export class RingReader extends RingBase {
  #head: number;
  #parts: Uint8Array[] = [];
  #partsBytes = 0;

  constructor(buffer: SharedArrayBuffer, offset: number, peerGone?: PeerGone) {
    super(buffer, offset, peerGone);
    this.#head = Atomics.load(this.words, HEAD);
  }

  /** Whether a frame is waiting. */
  available(): boolean {
    this.#sync();
    return Atomics.load(this.words, TAIL) !== this.#head;
  }

  // Another holder of this end (in another process) may have read since we last did: between
  // messages, start from the shared HEAD. Mid-message (fragments pending) the position is ours.
  #sync(): void {
    if (this.#parts.length === 0) this.#head = Atomics.load(this.words, HEAD);
  }

  #eof(): boolean {
    return (this.closedFlags() & WRITER_CLOSED) !== 0 && !this.available();
  }

  #checkOpen(): void {
    if (this.closedFlags() & READER_CLOSED) throw new ProcessError("this end is closed", { code: ErrorCodes.CLOSED });
  }

  /**
   * Takes one whole message if one is complete, else undefined. A frame no writer of ours could
   * have written (a length past what is published, a fragment too large, ...) throws ERR_CORRUPT
   * after dropping everything published so far, so the next message written is read normally.
   */
  tryRecv(): Uint8Array | undefined {
    this.#sync();
    for (;;) {
      const tail = Atomics.load(this.words, TAIL);
      if (tail === this.#head) return undefined;
      const published = (tail - this.#head) >>> 0;
      if (published > this.capacity || ((this.#head | published) & 3) !== 0) {
        return this.#corrupt(`${published} bytes published from position ${this.#head >>> 0}`);
      }
      const pos = this.#head & this.mask;
      const header = this.data32[pos >> 2]!;
      const length = header & LENGTH_MASK;
      const limit = header & OUT_OF_LINE ? MAX_NAME : this.capacity / 2 - 4;
      if (header < 0 || length > limit || 4 + align4(length) > published || ((header & OUT_OF_LINE) !== 0 && (header & MORE) !== 0)) {
        return this.#corrupt(`frame header 0x${(header >>> 0).toString(16)} with ${published} bytes published`);
      }
      if ((header & MORE) !== 0 && this.#partsBytes + length >= LARGE_MESSAGE) {
        return this.#corrupt(`fragments add up to more than ${LARGE_MESSAGE} bytes (such messages go out of line)`);
      }
      const start = (pos + 4) & this.mask;
      const out = new Uint8Array(length);
      const first = Math.min(length, this.capacity - start);
      out.set(this.data.subarray(start, start + first));
      if (first < length) out.set(this.data.subarray(0, length - first), first);
      this.#head = (this.#head + 4 + align4(length)) | 0;
      Atomics.store(this.words, HEAD, this.#head);
      if (Atomics.load(this.words, WSLEEP) !== 0) this.ring(WSEQ);
      if (header & OUT_OF_LINE) {
        const ref = largeRef(out);
        if (ref === undefined || this.#parts.length > 0) return this.#corrupt(`an out-of-line message named ${JSON.stringify(Buffer.from(out).toString("latin1", 0, 80))}`);
        return adoptLarge(ref);
      }
      if (header & MORE) {
        this.#parts.push(out);
        this.#partsBytes += length;
        continue;
      }
      if (this.#parts.length === 0) return out;
      this.#parts.push(out);
      const whole = Buffer.concat(this.#parts);
      this.#parts = [];
      this.#partsBytes = 0;
      return new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength);
    }
  }

  /**
   * Like tryRecv, but hands the message to `use` as the range `bytes[start..end)`, which lies in
   * the ring itself when the message is one inline frame that does not wrap (no copy, no
   * allocation; shared memory, valid only during the call: the frame is consumed when `use`
   * returns or throws). Returns what `use` returned, or undefined if no message waits.
   */
  tryRecvIn<T>(use: (bytes: Uint8Array, start: number, end: number) => T): T | undefined {
    this.#sync();
    if (this.#parts.length === 0) {
      const tail = Atomics.load(this.words, TAIL);
      if (tail === this.#head) return undefined;
      const published = (tail - this.#head) >>> 0;
      const pos = this.#head & this.mask;
      const header = this.data32[pos >> 2]!;
      const length = header & LENGTH_MASK;
      const start = pos + 4;
      const need = 4 + align4(length);
      // Anything unusual (fragments, out of line, wrapped, corrupt) takes tryRecv's way.
      if (published <= this.capacity && ((this.#head | published) & 3) === 0 && header >= 0 && (header & (MORE | OUT_OF_LINE)) === 0 && length <= this.capacity / 2 - 4 && need <= published && start + length <= this.capacity) {
        try {
          return use(this.data, start, start + length);
        } finally {
          this.#head = (this.#head + need) | 0;
          Atomics.store(this.words, HEAD, this.#head);
          if (Atomics.load(this.words, WSLEEP) !== 0) this.ring(WSEQ);
        }
      }
    }
    const m = this.tryRecv();
    return m === undefined ? undefined : use(m, 0, m.length);
  }

  /** Drops everything published (and any fragments held) and throws ERR_CORRUPT. */
  #corrupt(what: string): never {
    this.#parts = [];
    this.#partsBytes = 0;
    this.#head = Atomics.load(this.words, TAIL);
    Atomics.store(this.words, HEAD, this.#head);
    this.ring(WSEQ);
    throw corruptData(`pipe ring: ${what}; the unread bytes were dropped`);
  }

  /** Waits up to `timeout` ms (0 = just look) for a message or EOF; true if recv won't block. */
  async poll(options: WaitOptions = {}): Promise<boolean> {
    this.#checkOpen();
    if (this.available() || this.#eof()) return true;
    try {
      return await this.waitAsync(RSEQ, RSLEEP, () => this.available() || this.closedFlags() !== 0, deadlineOf(options.timeout ?? 0), options.signal, eof);
    } catch (err) {
      if (err instanceof EOFError) return true;
      throw err;
    }
  }

  /** poll() for code that may block its thread. */
  pollSync(options: { timeout?: number | undefined } = {}): boolean {
    this.#checkOpen();
    if (this.available() || this.#eof()) return true;
    try {
      return this.waitSync(RSEQ, RSLEEP, () => this.available() || this.closedFlags() !== 0, deadlineOf(options.timeout ?? 0), eof);
    } catch (err) {
      if (err instanceof EOFError) return true;
      throw err;
    }
  }

  async recv(options: WaitOptions = {}): Promise<Uint8Array> {
    this.#checkOpen();
    const deadline = deadlineOf(options.timeout);
    for (;;) {
      const message = this.tryRecv();
      if (message !== undefined) return message;
      if (this.#eof()) throw eof();
      this.#checkOpen();
      const ok = await this.waitAsync(RSEQ, RSLEEP, () => this.available() || this.closedFlags() !== 0, deadline, options.signal, eof, options.ref);
      if (!ok) throw new TimeoutError("timed out waiting for a message");
    }
  }

  recvSync(options: { timeout?: number | undefined } = {}): Uint8Array {
    this.#checkOpen();
    const deadline = deadlineOf(options.timeout);
    for (;;) {
      const message = this.tryRecv();
      if (message !== undefined) return message;
      if (this.#eof()) throw eof();
      this.#checkOpen();
      if (!this.waitSync(RSEQ, RSLEEP, () => this.available() || this.closedFlags() !== 0, deadline, eof)) {
        throw new TimeoutError("timed out waiting for a message");
      }
    }
  }

  close(): void {
    this.closeSide(READER_CLOSED);
  }
}

function eof(): EOFError {
  return new EOFError("the writing end is closed or its process died");
}

// Names of out-of-line messages as createSegmentFrom draws them ("/" + tag + "mp_" + 16 hex digits):
// the reader unlinks what it adopts, so a corrupt frame must not make it unlink any other name.
const LARGE_NAME = /^\/[^/\0\n]{0,200}mp_[0-9a-f]{16}$/;
const MAX_NAME = 256;

/** The segment name and length an out-of-line frame carries, or undefined if it is not one. */
function largeRef(bytes: Uint8Array): { name: string; length: number } | undefined {
  const parts = new TextDecoder().decode(bytes).split("\n");
  const name = parts[0] ?? "";
  const length = Number(parts[1]);
  if (parts.length !== 2 || !LARGE_NAME.test(name) || !Number.isSafeInteger(length) || length < LARGE_MESSAGE) return undefined;
  return { name, length };
}

/** Maps an out-of-line message and removes its name: the bytes are ours, with no copy. */
function adoptLarge({ name, length }: { name: string; length: number }): Uint8Array {
  const segment = attachSegment(name);
  if (length > segment.size) throw corruptData(`pipe ring: an out-of-line message of ${length} bytes in a segment of ${segment.size}`);
  unlinkSegment(name);
  return new Uint8Array(segment.buffer, 0, length);
}
