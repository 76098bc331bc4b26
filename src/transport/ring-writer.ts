// The writing side of a shared-memory ring (ring-base.ts has the layout and the frame format).
import { ErrorCodes, ProcessError, TimeoutError } from "../errors.js";
import { createSegmentFrom } from "../shared/segment.js";
import {
  align4,
  brokenPipe,
  deadlineOf,
  HEAD,
  LARGE_MESSAGE,
  MORE,
  OUT_OF_LINE,
  READER_CLOSED,
  RingBase,
  RSEQ,
  RSLEEP,
  SMALL_COPY,
  TAIL,
  WRITER_CLOSED,
  WSEQ,
  WSLEEP,
  type PeerGone,
  type WaitOptions,
} from "./ring-base.js";

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
