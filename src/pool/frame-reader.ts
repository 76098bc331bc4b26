// Reads the pool's binary frames (codec-format.ts has the tags and why).
import { corruptData } from "../errors.js";
import { isCodec, loads } from "../transport/serialize.js";
import {
  copyRun,
  decoder,
  EMPTY,
  EMPTY_VIEW,
  PREALLOCATE_MAX,
  SHORT_RUN,
  TAG_F64_ARRAY,
  TAG_FALSE,
  TAG_I32_ARRAY,
  TAG_NULL,
  TAG_NUMBER,
  TAG_STRING,
  TAG_TRUE,
  TAG_UNDEFINED,
  TAG_V8,
} from "./codec-format.js";

// Every read is bounds-checked: a frame another process corrupted throws ERR_CORRUPT, never reads
// past its end or allocates by a length it names.
export class FrameReader {
  /** The whole buffer the frame lies in (positions are absolute): one view serves every frame in it. */
  #bytes: Uint8Array;
  #view: DataView;
  #start = 0;
  #pos = 0;
  #end = 0;
  /** The bytes lie in shared memory: TextDecoder and V8's deserializer take copies of them. */
  #shared = false;

  constructor(bytes: Uint8Array) {
    this.#bytes = EMPTY;
    this.#view = EMPTY_VIEW;
    this.reset(bytes);
  }

  /**
   * Reads `bytes[start..end)` next. A reader kept for many frames (read in place from a ring, or
   * a batch's task payloads) allocates nothing while they lie in the same buffer.
   */
  reset(bytes: Uint8Array, start = 0, end = bytes.length): this {
    const buffer = bytes.buffer;
    if (buffer !== this.#bytes.buffer) {
      this.#bytes = new Uint8Array(buffer);
      this.#view = new DataView(buffer);
      this.#shared = !(buffer instanceof ArrayBuffer);
    }
    this.#start = bytes.byteOffset + start;
    this.#pos = this.#start;
    this.#end = bytes.byteOffset + end;
    return this;
  }

  get done(): boolean {
    return this.#pos >= this.#end;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.#end - this.#pos;
  }

  #need(n: number): void {
    if (n > this.#end - this.#pos) throw corruptData(`a pool frame of ${this.#end - this.#start} bytes ends before a field of ${n} bytes at ${this.#pos - this.#start}`);
  }

  u8(): number {
    this.#need(1);
    return this.#bytes[this.#pos++]!;
  }

  u32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.#pos, true);
    this.#pos += 4;
    return v;
  }

  f64(): number {
    this.#need(8);
    const v = this.#view.getFloat64(this.#pos, true);
    this.#pos += 8;
    return v;
  }

  bytes(): Uint8Array {
    const n = this.u32();
    this.#need(n);
    const out = this.#bytes.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** bytes(), copied out of shared memory if they lie there. */
  #ownBytes(): Uint8Array {
    const b = this.bytes();
    return this.#shared ? b.slice() : b;
  }

  /** Skips an array's alignment pad and checks its `n` values of `width` bytes are there. */
  #arrayStart(n: number, width: number): number {
    const pad = this.u8();
    this.#need(pad);
    this.#pos += pad;
    this.#need(n * width);
    return this.#pos;
  }

  /** Steps over a tagged value without decoding it and returns its bytes (tag included). */
  rawValue(): Uint8Array {
    const start = this.#pos;
    const tag = this.u8();
    switch (tag) {
      case TAG_NUMBER:
        this.#need(8);
        this.#pos += 8;
        break;
      case TAG_STRING:
      case TAG_V8:
        this.bytes();
        break;
      case TAG_I32_ARRAY:
      case TAG_F64_ARRAY: {
        const n = this.u32();
        const width = tag === TAG_I32_ARRAY ? 4 : 8;
        this.#pos = this.#arrayStart(n, width) + n * width;
        break;
      }
      default:
        if (tag > TAG_V8) throw corruptData(`unknown value tag ${tag} in a pool frame`);
    }
    return this.#shared ? this.#bytes.slice(start, this.#pos) : this.#bytes.subarray(start, this.#pos);
  }

  value(): unknown {
    const tag = this.u8();
    switch (tag) {
      case TAG_UNDEFINED:
        return undefined;
      case TAG_NULL:
        return null;
      case TAG_TRUE:
        return true;
      case TAG_FALSE:
        return false;
      case TAG_NUMBER:
        return this.f64();
      case TAG_STRING: {
        return decoder.decode(this.#ownBytes());
      }
      case TAG_I32_ARRAY:
      case TAG_F64_ARRAY: {
        const n = this.u32();
        const width = tag === TAG_I32_ARRAY ? 4 : 8;
        const start = this.#arrayStart(n, width);
        this.#pos = start + n * width;
        return this.#numbers(start, n, width);
      }
      case TAG_V8: {
        // The message codec reads in place (it copies what it keeps); V8's reader needs a copy.
        const b = this.bytes();
        return loads(this.#shared && !isCodec(b) ? b.slice() : b);
      }
      default:
        throw corruptData(`unknown value tag ${tag} in a pool frame`);
    }
  }

  /**
   * If the next value is a run of exactly `n` numbers, writes them to out[at..at+n) and returns
   * true (a map's chunk goes straight into the map's result, with no array of its own); otherwise
   * reads nothing and returns false.
   */
  numbersInto(out: unknown[], at: number, n: number): boolean {
    if (this.#end - this.#pos < 5) return false;
    const tag = this.#bytes[this.#pos];
    if (tag !== TAG_I32_ARRAY && tag !== TAG_F64_ARRAY) return false;
    if (this.#view.getUint32(this.#pos + 1, true) !== n) return false;
    this.#pos += 5;
    const width = tag === TAG_I32_ARRAY ? 4 : 8;
    const start = this.#arrayStart(n, width);
    this.#pos = start + n * width;
    this.#copyNumbers(start, n, width, out, at);
    return true;
  }

  #numbers(start: number, n: number, width: number): number[] {
    const out = n > PREALLOCATE_MAX ? [] : new Array<number>(n);
    this.#copyNumbers(start, n, width, out, 0);
    return out;
  }

  #copyNumbers(start: number, n: number, width: number, out: unknown[], at: number): void {
    if (n <= SHORT_RUN) {
      // A view over a few numbers costs more than reading them one by one.
      const view = this.#view;
      if (width === 4) for (let i = 0; i < n; i++) out[at + i] = view.getInt32(start + 4 * i, true);
      else for (let i = 0; i < n; i++) out[at + i] = view.getFloat64(start + 8 * i, true);
      return;
    }
    let offset = start;
    let buffer: ArrayBufferLike = this.#bytes.buffer;
    // Alignment holds relative to the frame's start; a frame copied to an odd place is realigned.
    if (offset % width !== 0) {
      buffer = this.#bytes.slice(start, start + n * width).buffer;
      offset = 0;
    }
    copyRun(width === 4 ? new Int32Array(buffer, offset, n) : new Float64Array(buffer, offset, n), out, at);
  }

}
