// Writes the pool's binary frames (codec-format.ts has the tags and why).
import { dumpsList, dumpsView } from "../transport/serialize.js";
import {
  encoder,
  numberKind,
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
    this.bytes(dumpsView(v, this.transport));
  }

  /**
   * The tagged value of `values.slice(start, end)`, without the slice: numbers as a run, anything
   * else as a list in the message codec (a range of a map's input, or a chunk's results: arrays
   * of our own, whatever their length).
   */
  range(values: readonly unknown[], start: number, end: number): void {
    const kind = numberKind(values, start, end);
    if (kind !== undefined) return this.#numbers(values as readonly number[], start, end, kind);
    this.u8(TAG_V8);
    this.bytes(dumpsList(values, start, end, this.transport));
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
