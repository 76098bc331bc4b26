// Reads the message codec (codec-format.ts has the format). Bytes come from other processes:
// every length is checked against what is left before it is used, nesting is bounded, and
// anything that does not parse throws ERR_CORRUPT (never a RangeError, never an allocation by a
// length the bytes name).
import { corruptData } from "../errors.js";
import {
  FIXSTR_MAX,
  FLAG_CODEC,
  FLAG_CODEC_REFS,
  MAX_DEPTH,
  MAX_SHAPE_KEYS,
  T_ARRAY,
  T_ARRAY_BUFFER,
  T_ASCII,
  T_BIGINT,
  T_DATE,
  T_DICT,
  T_FALSE,
  T_FIXINT_MAX,
  T_FIXSTR,
  T_FLOAT64,
  T_INT32,
  T_MAP,
  T_NULL,
  T_OBJECT,
  T_REF,
  T_REGEXP,
  T_SET,
  T_SHAPE,
  T_TRUE,
  T_UNDEFINED,
  T_UTF16,
  T_UTF8,
  T_VIEW,
  VIEW_BUFFER,
  VIEW_DATAVIEW,
  VIEW_KINDS,
} from "./codec-format.js";

/** A key list read before, and how to build its objects. */
interface ReadShape {
  region: Uint8Array;
  keys: string[];
  uses: number;
  build: ((r: CodecReader) => Record<string, unknown>) | undefined;
}

// Shapes seen in any message, by a hash of their encoded key list: a stream of records pays for
// decoding its keys (and compiling their builder) once. Bounded, since the keys come from others.
const shapeCache = new Map<number, ReadShape[]>();
let cachedShapes = 0;
const MAX_CACHED_SHAPES = 2048;
/** A shape read this often gets a builder compiled for it (an object literal with its keys). */
const COMPILE_AFTER = 4;

const EMPTY = new Uint8Array(0);

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

export class CodecReader {
  #bytes: Uint8Array = EMPTY;
  /** A Buffer over #bytes, made when a long string needs one. */
  #buf: Buffer | undefined;
  #pos = 0;
  #end = 0;
  #depth = 0;
  /** Objects of this message by index (REF), kept only if it has REFs (`track`); its shapes by index (OBJECT). */
  objects: unknown[] = [];
  track = false;
  #shapes: ReadShape[] = [];

  /** Decodes the message in `bytes` (FLAG_CODEC first); it must fill `bytes` exactly. */
  decode(bytes: Uint8Array): unknown {
    this.#bytes = bytes;
    this.#buf = undefined;
    this.#pos = 0;
    this.#end = bytes.length;
    this.#depth = 0;
    try {
      const flag = this.#u8();
      if (flag !== FLAG_CODEC && flag !== FLAG_CODEC_REFS) throw corruptData("not a codec message");
      this.track = flag === FLAG_CODEC_REFS;
      const value = this.value();
      if (this.#pos !== this.#end) throw corruptData(`${this.#end - this.#pos} bytes after a message's value`);
      return value;
    } finally {
      if (this.objects.length > 0) this.objects = [];
      if (this.#shapes.length > 0) this.#shapes = [];
      this.#bytes = EMPTY;
      this.#buf = undefined;
    }
  }

  #buffer(): Buffer {
    const b = this.#bytes;
    return (this.#buf ??= Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }

  #int32(): number {
    const at = this.#need(4, "int32");
    const b = this.#bytes;
    return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
  }

  #u32(what: string): number {
    const at = this.#need(4, what);
    const b = this.#bytes;
    return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
  }

  #f64(what: string): number {
    const at = this.#need(8, what);
    const b = this.#bytes;
    for (let i = 0; i < 8; i++) f64Bytes[i] = b[at + i]!;
    return f64[0]!;
  }

  #need(n: number, what: string): number {
    const at = this.#pos;
    if (n > this.#end - at) throw corruptData(`a message ends inside its ${what}`);
    this.#pos = at + n;
    return at;
  }

  #u8(): number {
    if (this.#pos >= this.#end) throw corruptData("a message ends before a value");
    return this.#bytes[this.#pos++]!;
  }

  #varint(): number {
    let n = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.#u8();
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return n;
    }
    throw corruptData("a length of more than 5 bytes");
  }

  /** A count of items that take at least `width` bytes each: never more than the bytes left allow. */
  #count(width: number, what: string): number {
    const n = this.#varint();
    if (n * width > this.#end - this.#pos) throw corruptData(`a ${what} of ${n} items in ${this.#end - this.#pos} bytes`);
    return n;
  }

  value(): unknown {
    const tag = this.#u8();
    if (tag <= T_FIXINT_MAX) return tag;
    if (tag >= T_FIXSTR && tag <= T_FIXSTR + FIXSTR_MAX) return this.#ascii(tag - T_FIXSTR);
    switch (tag) {
      case T_UNDEFINED:
        return undefined;
      case T_NULL:
        return null;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_INT32:
        return this.#int32();
      case T_FLOAT64:
        return this.#f64("float64");
      case T_ASCII:
        return this.#ascii(this.#u32("string length"));
      case T_UTF8: {
        const n = this.#u32("string length");
        const at = this.#need(n, "string");
        return this.#buffer().toString("utf8", at, at + n);
      }
      case T_UTF16:
        return this.#utf16();
      case T_BIGINT:
        return this.#bigint();
      default:
        return this.#object(tag);
    }
  }

  #ascii(n: number): string {
    const at = this.#need(n, "string");
    const b = this.#bytes;
    if (n <= 12) {
      let s = "";
      for (let i = at; i < at + n; i++) {
        const c = b[i]!;
        if (c >= 0x80) throw corruptData("a byte over 0x7f in an ASCII string");
        s += String.fromCharCode(c);
      }
      return s;
    }
    for (let i = at; i < at + n; i++) if (b[i]! >= 0x80) throw corruptData("a byte over 0x7f in an ASCII string");
    return this.#buffer().toString("latin1", at, at + n);
  }

  #utf16(): string {
    const n = this.#u32("string length");
    const at = this.#need(2 * n, "string");
    const b = this.#bytes;
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(b[at + 2 * i]! | (b[at + 2 * i + 1]! << 8));
    return s;
  }

  #bigint(): bigint {
    const sign = this.#u8();
    if (sign > 1) throw corruptData(`a bigint's sign byte is ${sign}`);
    const n = this.#count(1, "bigint");
    const at = this.#need(n, "bigint");
    let v = 0n;
    for (let i = at + n - 1; i >= at; i--) v = (v << 8n) | BigInt(this.#bytes[i]!);
    return sign === 1 ? -v : v;
  }

  /** Starts an object: registers it (REF indexes) and checks nesting. */
  #enter<T>(o: T): T {
    if (this.track) this.objects.push(o);
    if (++this.#depth > MAX_DEPTH) throw corruptData(`values nested more than ${MAX_DEPTH} deep`);
    return o;
  }

  #object(tag: number): unknown {
    switch (tag) {
      case T_SHAPE:
        return this.#shapeObject(this.#defineShape());
      case T_OBJECT: {
        const index = this.#varint();
        const shape = this.#shapes[index];
        if (shape === undefined) throw corruptData(`an object of shape ${index} before the shape was defined`);
        return this.#shapeObject(shape);
      }
      case T_ARRAY: {
        const n = this.#count(1, "array");
        // Grown by push, not made at its size: V8 keeps it a packed array, as its own reader does.
        const out = this.#enter<unknown[]>([]);
        for (let i = 0; i < n; i++) out.push(this.value());
        this.#depth--;
        return out;
      }
      case T_DICT: {
        const n = this.#count(2, "object");
        const out = this.#enter<Record<string, unknown>>({});
        for (let i = 0; i < n; i++) {
          const key = this.value();
          if (typeof key !== "string") throw corruptData("an object's key is not a string");
          setKey(out, key, this.value());
        }
        this.#depth--;
        return out;
      }
      case T_MAP: {
        const n = this.#count(2, "Map");
        const out = this.#enter(new Map<unknown, unknown>());
        for (let i = 0; i < n; i++) {
          const k = this.value();
          out.set(k, this.value());
        }
        this.#depth--;
        return out;
      }
      case T_SET: {
        const n = this.#count(1, "Set");
        const out = this.#enter(new Set<unknown>());
        for (let i = 0; i < n; i++) out.add(this.value());
        this.#depth--;
        return out;
      }
      case T_DATE: {
        const out = new Date(this.#f64("date"));
        if (this.track) this.objects.push(out);
        return out;
      }
      case T_REGEXP: {
        const index = this.objects.length;
        if (this.track) this.objects.push(undefined);
        const source = this.value();
        const flags = this.value();
        if (typeof source !== "string" || typeof flags !== "string") throw corruptData("a RegExp's source or flags is not a string");
        let out: RegExp;
        try {
          out = new RegExp(source, flags);
        } catch (err) {
          throw corruptData("a RegExp that does not compile", err);
        }
        if (this.track) this.objects[index] = out;
        return out;
      }
      case T_ARRAY_BUFFER: {
        const n = this.#count(1, "ArrayBuffer");
        const at = this.#need(n, "ArrayBuffer");
        const out = copyOf(this.#bytes, at, n).buffer;
        if (this.track) this.objects.push(out);
        return out;
      }
      case T_VIEW:
        return this.#view_();
      case T_REF: {
        const index = this.#varint();
        if (index >= this.objects.length) throw corruptData(`a reference to object ${index} of ${this.objects.length}`);
        return this.objects[index];
      }
      default:
        throw corruptData(`unknown value tag ${tag}`);
    }
  }

  #view_(): ArrayBufferView {
    const kind = this.#u8();
    const ctor = VIEW_KINDS[kind];
    if (ctor === undefined) throw corruptData(`unknown typed array kind ${kind}`);
    const n = this.#count(1, "typed array");
    const at = this.#need(n, "typed array");
    const width = kind === VIEW_DATAVIEW || kind === VIEW_BUFFER ? 1 : (ctor as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    if (n % width !== 0) throw corruptData(`a typed array of ${n} bytes with ${width}-byte items`);
    const bytes = copyOf(this.#bytes, at, n);
    let out: ArrayBufferView;
    if (kind === VIEW_BUFFER) out = Buffer.from(bytes.buffer, 0, n);
    else if (kind === VIEW_DATAVIEW) out = new DataView(bytes.buffer);
    else out = new (ctor as Int8ArrayConstructor)(bytes.buffer, 0, n / width);
    if (this.track) this.objects.push(out);
    return out;
  }

  #defineShape(): ReadShape {
    const length = this.#count(1, "shape");
    const at = this.#need(length, "shape");
    const b = this.#bytes;
    let hash = 0x811c9dc5;
    for (let i = at; i < at + length; i++) hash = Math.imul(hash ^ b[i]!, 0x01000193);
    const bucket = shapeCache.get(hash);
    if (bucket !== undefined) {
      for (const shape of bucket) {
        if (sameBytes(shape.region, b, at, length)) {
          this.#shapes.push(shape);
          return shape;
        }
      }
    }
    const shape = this.#readKeys(at, length);
    if (++cachedShapes > MAX_CACHED_SHAPES) {
      shapeCache.clear();
      cachedShapes = 1;
    }
    const list = shapeCache.get(hash);
    if (list === undefined) shapeCache.set(hash, [shape]);
    else list.push(shape);
    this.#shapes.push(shape);
    return shape;
  }

  /** Parses a shape's key list, which lies in `[at, at + length)`. */
  #readKeys(at: number, length: number): ReadShape {
    const end = this.#end;
    const pos = this.#pos;
    this.#pos = at;
    this.#end = at + length;
    try {
      const k = this.#count(1, "shape");
      if (k > MAX_SHAPE_KEYS) throw corruptData(`a shape of ${k} keys`);
      const keys: string[] = [];
      for (let i = 0; i < k; i++) {
        const key = this.value();
        if (typeof key !== "string") throw corruptData("a shape's key is not a string");
        keys.push(key);
      }
      if (this.#pos !== this.#end) throw corruptData("bytes after a shape's keys");
      return { region: copyOf(this.#bytes, at, length), keys, uses: 0, build: undefined };
    } finally {
      this.#pos = pos;
      this.#end = end;
    }
  }

  #shapeObject(shape: ReadShape): Record<string, unknown> {
    if (++this.#depth > MAX_DEPTH) throw corruptData(`values nested more than ${MAX_DEPTH} deep`);
    let out: Record<string, unknown>;
    if (shape.build !== undefined) {
      out = shape.build(this);
    } else {
      if (++shape.uses >= COMPILE_AFTER) shape.build = compile(shape.keys);
      out = {};
      if (this.track) this.objects.push(out);
      for (const key of shape.keys) setKey(out, key, this.value());
    }
    this.#depth--;
    return out;
  }
}

/** `o[key] = value` as a data property of its own, even for "__proto__" (as V8's reader does). */
function setKey(o: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
  else o[key] = value;
}

/**
 * A builder for objects of one shape: an object literal with the shape's keys (V8 gives them one
 * hidden class and named stores), registered before its values are read so that cycles resolve.
 * Keys are embedded with JSON.stringify, so no key can inject code; "__proto__" is not compiled
 * (a literal would set the prototype).
 */
function compile(keys: readonly string[]): ((r: CodecReader) => Record<string, unknown>) | undefined {
  if (keys.includes("__proto__")) return undefined;
  const literal = keys.map((k) => `${JSON.stringify(k)}: undefined`).join(", ");
  const stores = keys.map((k) => `o[${JSON.stringify(k)}] = r.value();`).join(" ");
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the keys are JSON string literals (see above)
  return new Function("r", `const o = { ${literal} }; if (r.track) r.objects.push(o); ${stores} return o;`) as (r: CodecReader) => Record<string, unknown>;
}

/** A copy of `n` bytes at `at` (Buffer's slice() would share them). */
function copyOf(b: Uint8Array, at: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  out.set(b.subarray(at, at + n));
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array, at: number, length: number): boolean {
  if (a.length !== length) return false;
  for (let i = 0; i < length; i++) if (a[i] !== b[at + i]) return false;
  return true;
}
