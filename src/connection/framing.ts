// CPython's framing for multiprocessing.connection (Lib/multiprocessing/connection.py,
// Connection._send_bytes/_recv_bytes): every message is a 4-byte big-endian signed length, then
// the bytes. A message longer than 0x7fffffff is announced by a length of -1 followed by an 8-byte
// big-endian unsigned length. Frames are decoded incrementally from socket chunks; a frame larger
// than the decoder's limit is an error *before* its body is read or buffered.
import { ErrorCodes, ProcessError } from "../errors.js";

/** Largest length that fits the short header (CPython switches to the 8-byte form above it). */
export const SHORT_FRAME_MAX = 0x7fffffff;

/** Builds the header for a message of `size` bytes. */
export function frameHeader(size: number): Buffer {
  if (size <= SHORT_FRAME_MAX) {
    const h = Buffer.allocUnsafe(4);
    h.writeInt32BE(size, 0);
    return h;
  }
  const h = Buffer.allocUnsafe(12);
  h.writeInt32BE(-1, 0);
  h.writeBigUInt64BE(BigInt(size), 4);
  return h;
}

/** Header and body in one buffer: one write() for the small messages that dominate. */
export function frameSmall(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + body.byteLength);
  out.writeInt32BE(body.byteLength, 0);
  out.set(body, 4);
  return out;
}

export function badLength(size: number | bigint, limit: number): ProcessError {
  return new ProcessError(`bad message length: ${size} bytes (this connection accepts at most ${limit})`, {
    code: ErrorCodes.BAD_MESSAGE_LENGTH,
  });
}

/**
 * Incremental decoder. `push` appends complete frames to `out`; a frame that arrives whole in
 * one chunk is a view of that chunk (no copy), a frame split across chunks is assembled in a
 * buffer of exactly its size. Throws a BAD_MESSAGE_LENGTH error for a frame over `maxFrame`
 * (the caller then drops the connection).
 */
export class FrameDecoder {
  maxFrame: number;
  readonly #header = Buffer.alloc(12);
  #headerHave = 0;
  #headerNeed = 4;
  #body: Buffer | undefined;
  #bodyHave = 0;

  constructor(maxFrame: number) {
    this.maxFrame = maxFrame;
  }

  /** Bytes of a partial frame held right now (for memory accounting). */
  get pending(): number {
    return this.#headerHave + this.#bodyHave;
  }

  /**
   * Decodes `chunk`, appending complete frames to `out`. With `one`, stops after the first
   * complete frame and returns how many bytes it consumed (the caller keeps the rest); otherwise
   * consumes everything.
   */
  push(chunk: Buffer, out: Buffer[], one = false): number {
    let pos = 0;
    const end = chunk.length;
    const start = out.length;
    while (pos < end) {
      if (one && out.length > start) return pos;
      if (this.#body !== undefined) {
        const take = Math.min(this.#body.length - this.#bodyHave, end - pos);
        chunk.copy(this.#body, this.#bodyHave, pos, pos + take);
        pos += take;
        this.#bodyHave += take;
        if (this.#bodyHave === this.#body.length) {
          out.push(this.#body);
          this.#body = undefined;
          this.#bodyHave = 0;
        }
        continue;
      }
      // Fast path: a whole short frame inside this chunk.
      if (this.#headerHave === 0 && end - pos >= 4) {
        const n = chunk.readInt32BE(pos);
        if (n >= 0 && end - pos - 4 >= n) {
          if (n > this.maxFrame) throw badLength(n, this.maxFrame);
          out.push(chunk.subarray(pos + 4, pos + 4 + n));
          pos += 4 + n;
          continue;
        }
      }
      const take = Math.min(this.#headerNeed - this.#headerHave, end - pos);
      chunk.copy(this.#header, this.#headerHave, pos, pos + take);
      pos += take;
      this.#headerHave += take;
      if (this.#headerHave < this.#headerNeed) return pos;
      let size: number;
      if (this.#headerNeed === 4) {
        const n = this.#header.readInt32BE(0);
        if (n === -1) {
          this.#headerNeed = 12;
          continue;
        }
        if (n < 0) throw badLength(n, this.maxFrame);
        size = n;
      } else {
        const big = this.#header.readBigUInt64BE(4);
        if (big > BigInt(this.maxFrame)) throw badLength(big, this.maxFrame);
        size = Number(big);
      }
      if (size > this.maxFrame) throw badLength(size, this.maxFrame);
      this.#headerHave = 0;
      this.#headerNeed = 4;
      if (size === 0) {
        out.push(Buffer.alloc(0));
      } else {
        this.#body = Buffer.allocUnsafe(size);
        this.#bodyHave = 0;
      }
    }
    return pos;
  }
}
