// Binary frames for the pool's rings: a growable writer and a reader of fixed-width fields and
// tagged values. Values that are common in pool traffic take a fast path that never touches V8's
// serializer (whose fixed cost, 1.5–3.5 us a call here, would dominate tiny tasks): undefined,
// null, booleans, numbers, strings, and arrays of numbers (as Int32 or Float64 runs). Anything else
// goes through serialize.ts (structured clone plus multiproc handles).
import { corruptData } from "../errors.js";
import { dumps, loads } from "../transport/serialize.js";

const TAG_UNDEFINED = 0;
const TAG_NULL = 1;
const TAG_TRUE = 2;
const TAG_FALSE = 3;
const TAG_NUMBER = 4;
const TAG_STRING = 5;
const TAG_F64_ARRAY = 6;
const TAG_I32_ARRAY = 7;
const TAG_V8 = 8;

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);
const decoder = new TextDecoder();

/** How an array of numbers can travel: as Int32 values, as Float64 values, or not as numbers. */
function numberKind(values: readonly unknown[], start: number, end: number): "i32" | "f64" | undefined {
  let ints = true;
  for (let i = start; i < end; i++) {
    const v = values[i];
    if (typeof v !== "number") return undefined;
    if (ints && ((v | 0) !== v || (v === 0 && 1 / v < 0))) ints = false;
  }
  // An array with holes reads `undefined` above; one with extra own keys is rare enough to ignore.
  return ints ? "i32" : "f64";
}

/** Number runs up to this length are read one number at a time (no typed array view). */
const SHORT_RUN = 16;
/** Arrays up to this length are made at their full size at once (V8 keeps them fast up to 32 Mi elements). */
const PREALLOCATE_MAX = 1 << 24;

/**
 * Copies a typed array's values into out[at..]. Filling an array made at its size costs a third of
 * growing one by push (8 vs 20 ns an item here, measured with 25,000 items).
 */
function copyRun(src: Int32Array | Float64Array, out: unknown[], at: number): void {
  const n = src.length;
  for (let i = 0; i < n; i++) out[at + i] = src[i]!;
}

export class FrameWriter {
  #bytes: Uint8Array;
  #view: DataView;
  #pos = 0;

  /**
   * `transport` is how values outside the fast path are serialised (serialize.ts): "bytes" hands
   * large binaries over through a segment (same machine), "socket" keeps them inline (the reader
   * may be on another machine, as a ClusterPool's worker nodes are).
   */
  constructor(
    initial = 4096,
    private readonly transport: "bytes" | "socket" = "bytes",
  ) {
    this.#bytes = new Uint8Array(initial);
    this.#view = new DataView(this.#bytes.buffer);
  }

  get length(): number {
    return this.#pos;
  }

  reset(): void {
    this.#pos = 0;
  }

  /** Forgets what was written after `mark` (a length read earlier). */
  truncate(mark: number): void {
    this.#pos = mark;
  }

  #room(n: number): void {
    const need = this.#pos + n;
    if (need <= this.#bytes.length) return;
    let size = this.#bytes.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#bytes.subarray(0, this.#pos));
    this.#bytes = next;
    this.#view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.#room(1);
    this.#bytes[this.#pos++] = v;
  }

  u32(v: number): void {
    this.#room(4);
    this.#view.setUint32(this.#pos, v, true);
    this.#pos += 4;
  }

  /** Writes a u32 placeholder and returns where, for `patchU32`. */
  reserveU32(): number {
    this.u32(0);
    return this.#pos - 4;
  }

  patchU32(at: number, v: number): void {
    this.#view.setUint32(at, v, true);
  }

  f64(v: number): void {
    this.#room(8);
    this.#view.setFloat64(this.#pos, v, true);
    this.#pos += 8;
  }

  /** A length-prefixed run of bytes. */
  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.#room(b.length);
    this.#bytes.set(b, this.#pos);
    this.#pos += b.length;
  }

  /** Pads to a multiple of n from the frame's start, writing the pad's length first (so a value copied elsewhere still decodes). */
  #align(n: number): void {
    const pad = (n - ((this.#pos + 1) % n)) % n;
    this.u8(pad);
    this.#room(pad);
    this.#bytes.fill(0, this.#pos, this.#pos + pad);
    this.#pos += pad;
  }

  /**
   * A tagged value. Throws ERR_UNSERIALIZABLE for values that cannot travel; the writer then holds
   * a partial value: truncate() back to a mark taken before.
   */
  value(v: unknown): void {
    switch (typeof v) {
      case "undefined":
        return this.u8(TAG_UNDEFINED);
      case "boolean":
        return this.u8(v ? TAG_TRUE : TAG_FALSE);
      case "number":
        this.u8(TAG_NUMBER);
        return this.f64(v);
      case "string": {
        this.u8(TAG_STRING);
        const at = this.reserveU32();
        this.#room(v.length * 3);
        const { written } = encoder.encodeInto(v, this.#bytes.subarray(this.#pos));
        this.patchU32(at, written);
        this.#pos += written;
        return;
      }
      case "object":
        if (v === null) return this.u8(TAG_NULL);
        if (Array.isArray(v) && Object.getPrototypeOf(v) === Array.prototype) {
          const kind = numberKind(v, 0, v.length);
          if (kind !== undefined) return this.#numbers(v as number[], 0, v.length, kind);
        }
        break;
      default:
        break;
    }
    this.u8(TAG_V8);
    this.bytes(dumps(v, this.transport));
  }

  /** The tagged value of `values.slice(start, end)`, without the slice when the items are numbers. */
  range(values: readonly unknown[], start: number, end: number): void {
    const kind = numberKind(values, start, end);
    if (kind !== undefined) this.#numbers(values as readonly number[], start, end, kind);
    else this.value(values.slice(start, end));
  }

  #numbers(values: readonly number[], start: number, end: number, kind: "i32" | "f64"): void {
    const n = end - start;
    this.u8(kind === "i32" ? TAG_I32_ARRAY : TAG_F64_ARRAY);
    this.u32(n);
    const width = kind === "i32" ? 4 : 8;
    this.#align(width);
    this.#room(n * width);
    const offset = this.#bytes.byteOffset + this.#pos;
    if (n <= SHORT_RUN) {
      // A view over a few numbers costs more than writing them one by one.
      const view = this.#view;
      const at = this.#pos;
      if (kind === "i32") for (let i = 0; i < n; i++) view.setInt32(at + 4 * i, values[start + i]!, true);
      else for (let i = 0; i < n; i++) view.setFloat64(at + 8 * i, values[start + i]!, true);
    } else if (kind === "i32") {
      const out = new Int32Array(this.#bytes.buffer, offset, n);
      for (let i = 0; i < n; i++) out[i] = values[start + i]!;
    } else {
      const out = new Float64Array(this.#bytes.buffer, offset, n);
      for (let i = 0; i < n; i++) out[i] = values[start + i]!;
    }
    this.#pos += n * width;
  }

  /** Raw bytes already holding a tagged value (a payload encoded ahead of time). */
  raw(b: Uint8Array): void {
    this.#room(b.length);
    this.#bytes.set(b, this.#pos);
    this.#pos += b.length;
  }

  /** The frame so far: a view into the writer's buffer, valid until the next write. */
  view(): Uint8Array {
    return this.#bytes.subarray(0, this.#pos);
  }

  /** A copy of the frame so far. */
  copy(): Uint8Array {
    return this.#bytes.slice(0, this.#pos);
  }
}

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
        return loads(this.#ownBytes());
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
