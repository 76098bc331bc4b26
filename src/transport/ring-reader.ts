// The reading side of a shared-memory ring (ring-base.ts has the layout and the frame format).
import { corruptData, EOFError, ErrorCodes, ProcessError, TimeoutError } from "../errors.js";
import { attachSegment, unlinkSegment } from "../shared/segment.js";
import {
  align4,
  deadlineOf,
  HEAD,
  LARGE_MESSAGE,
  LENGTH_MASK,
  MORE,
  OUT_OF_LINE,
  READER_CLOSED,
  RingBase,
  RSEQ,
  RSLEEP,
  TAIL,
  WRITER_CLOSED,
  WSEQ,
  WSLEEP,
  type PeerGone,
  type WaitOptions,
} from "./ring-base.js";

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
