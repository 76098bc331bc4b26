// Writes the message codec (codec-format.ts has the format and why). `encode` returns undefined
// for a value outside the codec's set, having written nothing anyone sees: the caller then uses
// V8's format for the whole message.
import { kReduce } from "./handles.js";
import { LARGE_BINARY } from "./binary.js";
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
  VIEW_KINDS,
} from "./codec-format.js";

/**
 * Thrown inside the writer when a value is outside the codec's set; never escapes encode(). One
 * object made once: giving up costs no stack trace.
 */
const GIVE_UP = new Error("outside the message codec's set");

/** Arrays up to this length are checked for holes and extra keys (Object.keys costs ~60 ns an item). */
const CHECKED_ARRAY_MAX = 64;
/** A scratch buffer larger than this is dropped after its message. */
const MAX_KEPT_BUFFER = 4 << 20;
/** Objects of a message looked up by a linear search before a Set takes over. */
const SMALL_OBJECTS = 8;

const viewKinds = new Map<object, number>(VIEW_KINDS.map((ctor, i) => [ctor.prototype as object, i]));

/** A record's key list as the writer knows it: its encoded region, and its index in the message. */
interface Shape {
  keys: string[];
  region: Uint8Array;
  epoch: number;
  index: number;
}

interface ShapeNode {
  next: Map<string, ShapeNode> | undefined;
  shape: Shape | undefined;
}

/** Distinct key lists remembered before the tree starts over (objects used as dictionaries would grow it forever). */
const MAX_SHAPE_NODES = 4096;

export class CodecWriter {
  #bytes = new Uint8Array(256);
  #buf = Buffer.from(this.#bytes.buffer);
  #view = new DataView(this.#bytes.buffer);
  #pos = 0;
  // Objects met in this message, for REFs, in order: the first SMALL_OBJECTS found by a linear
  // search (a record is an object and an array: hashing them cost more than writing them), the
  // others by a Set (add and compare its size: one hash lookup, 40% cheaper than a Map's get and
  // set here). A REF's index comes from a Map built at the first repeat only.
  #list: object[] = [];
  #set = new Set<object>();
  #index: Map<object, number> | undefined;
  #count = 0;
  #refs = false;
  #bigInline = false;
  #busy = false;
  // Shapes: a tree keyed by key, one node per distinct key list seen; `epoch` numbers messages so
  // a shape's index is valid in the message that defined it only.
  #root: ShapeNode = { next: undefined, shape: undefined };
  #nodes = 0;
  #epoch = 0;
  #shapes = 0;
  #last: Shape | undefined;

  /**
   * The message for `value` (FLAG_CODEC then the value), or undefined if the value needs V8's
   * format. The bytes are a view into the writer's buffer, valid until its next call.
   * `bigInline`: binaries of LARGE_BINARY bytes and more are written inline (the socket transport)
   * rather than left to the segment hand-over of the bytes transport.
   */
  encode(value: unknown, bigInline: boolean): Uint8Array | undefined {
    return this.#encode(value, undefined, 0, 0, bigInline);
  }

  /** encode() of a list whose items are `items[start..end)` (the pool's chunks and results: arrays of our own). */
  encodeList(items: readonly unknown[], start: number, end: number, bigInline: boolean): Uint8Array | undefined {
    return this.#encode(undefined, items, start, end, bigInline);
  }

  #encode(value: unknown, items: readonly unknown[] | undefined, start: number, end: number, bigInline: boolean): Uint8Array | undefined {
    this.#busy = true;
    this.#bigInline = bigInline;
    this.#epoch++;
    this.#shapes = 0;
    this.#pos = 1;
    this.#refs = false;
    try {
      if (items === undefined) {
        this.value(value, 0);
      } else {
        this.#tagCount(T_ARRAY, end - start);
        this.#list[0] = items; // object 0: nothing inside refers to it, but the reader counts it
        this.#count++;
        for (let i = start; i < end; i++) this.value(items[i], 1);
      }
      this.#bytes[0] = this.#refs ? FLAG_CODEC_REFS : FLAG_CODEC;
      return this.#bytes.subarray(0, this.#pos);
    } catch (err) {
      if (err === GIVE_UP) return undefined;
      throw err;
    } finally {
      if (this.#count > 0) {
        // Emptied, not shrunk (regrowing it each message cost more than the rest of #seen), and
        // dropped when large, so a big message's objects are not kept alive by the writer.
        if (this.#count > 1 << 16) this.#list = [];
        else this.#list.fill(undefined as unknown as object, 0, this.#count);
        if (this.#count > SMALL_OBJECTS) this.#set.clear();
        this.#index = undefined;
        this.#count = 0;
      }
      // The message was copied out by the caller before the next call; a scratch buffer grown by
      // a big one is not kept for the life of the process.
      if (this.#bytes.length > MAX_KEPT_BUFFER) this.#setBuffer(new Uint8Array(256));
      this.#busy = false;
    }
  }

  /** True while encoding: a getter that sends a message from inside the writer needs a writer of its own. */
  get busy(): boolean {
    return this.#busy;
  }

  #room(n: number): void {
    if (this.#pos + n <= this.#bytes.length) return;
    let size = this.#bytes.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#bytes.subarray(0, this.#pos));
    this.#setBuffer(next);
  }

  #setBuffer(bytes: Uint8Array<ArrayBuffer>): void {
    this.#bytes = bytes;
    this.#buf = Buffer.from(bytes.buffer);
    this.#view = new DataView(bytes.buffer);
  }

  #varint(n: number): void {
    this.#room(5);
    const b = this.#bytes;
    while (n >= 0x80) {
      b[this.#pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    b[this.#pos++] = n;
  }

  #tagCount(tag: number, n: number): void {
    this.#room(6);
    this.#bytes[this.#pos++] = tag;
    this.#varint(n);
  }

  value(v: unknown, depth: number): void {
    switch (typeof v) {
      case "number":
        return this.#number(v);
      case "string":
        return this.#string(v);
      case "boolean":
        this.#room(1);
        this.#bytes[this.#pos++] = v ? T_TRUE : T_FALSE;
        return;
      case "undefined":
        this.#room(1);
        this.#bytes[this.#pos++] = T_UNDEFINED;
        return;
      case "object":
        if (v === null) {
          this.#room(1);
          this.#bytes[this.#pos++] = T_NULL;
          return;
        }
        return this.#object(v, depth);
      case "bigint":
        return this.#bigint(v);
      default:
        // Functions and symbols: V8's format refuses them with the error the caller reports.
        throw GIVE_UP;
    }
  }

  #number(v: number): void {
    this.#room(9);
    if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
      if (v >= 0 && v <= 0x7f) {
        this.#bytes[this.#pos++] = v;
        return;
      }
      this.#bytes[this.#pos] = T_INT32;
      this.#view.setInt32(this.#pos + 1, v, true);
      this.#pos += 5;
      return;
    }
    this.#bytes[this.#pos] = T_FLOAT64;
    this.#view.setFloat64(this.#pos + 1, v, true);
    this.#pos += 9;
  }

  #string(s: string): void {
    const n = s.length;
    if (n <= FIXSTR_MAX) {
      this.#room(1 + n);
      const b = this.#bytes;
      const start = this.#pos;
      let at = start + 1;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) return this.#longString(s);
        b[at++] = c;
      }
      b[start] = T_FIXSTR + n;
      this.#pos = at;
      return;
    }
    this.#longString(s);
  }

  #longString(s: string): void {
    const n = s.length;
    this.#room(5 + 3 * n);
    const start = this.#pos;
    const written = n === 0 ? 0 : this.#buf.write(s, start + 5, "utf8");
    if (written === n) {
      this.#bytes[start] = T_ASCII;
    } else if ((s as string & { isWellFormed(): boolean }).isWellFormed()) {
      this.#bytes[start] = T_UTF8;
    } else {
      // A lone surrogate would not survive UTF-8: its code units go as they are.
      this.#bytes[start] = T_UTF16;
      this.#view.setUint32(start + 1, n, true);
      this.#room(5 + 2 * n);
      const b = this.#bytes;
      let at = start + 5;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        b[at++] = c & 0xff;
        b[at++] = c >>> 8;
      }
      this.#pos = at;
      return;
    }
    this.#view.setUint32(start + 1, written, true);
    this.#pos = start + 5 + written;
  }

  #bigint(v: bigint): void {
    const negative = v < 0n;
    let magnitude = negative ? -v : v;
    const digits: number[] = [];
    while (magnitude > 0n) {
      digits.push(Number(magnitude & 0xffn));
      magnitude >>= 8n;
    }
    this.#room(2);
    this.#bytes[this.#pos++] = T_BIGINT;
    this.#bytes[this.#pos++] = negative ? 1 : 0;
    this.#varint(digits.length);
    this.#room(digits.length);
    for (const d of digits) this.#bytes[this.#pos++] = d;
  }

  /** Writes a REF if `o` was met before in this message, else numbers it and returns false. */
  #seen(o: object): boolean {
    const list = this.#list;
    if (this.#count < SMALL_OBJECTS) {
      for (let i = 0; i < this.#count; i++) if (list[i] === o) return this.#ref(i);
      list[this.#count] = o;
      if (++this.#count === SMALL_OBJECTS) for (let i = 0; i < SMALL_OBJECTS; i++) this.#set.add(list[i]!);
      return false;
    }
    const size = this.#set.size;
    this.#set.add(o);
    if (this.#set.size === size) return this.#ref(this.#indexOf(o));
    list[this.#count] = o;
    this.#index?.set(o, this.#count);
    this.#count++;
    return false;
  }

  #ref(index: number): true {
    this.#refs = true;
    this.#tagCount(T_REF, index);
    return true;
  }

  #indexOf(o: object): number {
    if (this.#index === undefined) {
      this.#index = new Map();
      for (let i = 0; i < this.#count; i++) this.#index.set(this.#list[i]!, i);
    }
    return this.#index.get(o)!;
  }

  #object(o: object, depth: number): void {
    if (depth >= MAX_DEPTH) throw GIVE_UP;
    const proto = Object.getPrototypeOf(o) as unknown;
    if (proto === Object.prototype || proto === null) {
      // A plain object that takes part in multiproc's handles (a [kReduce] of its own) is not data.
      if ((o as { [kReduce]?: unknown })[kReduce] !== undefined) throw GIVE_UP;
      if (this.#seen(o)) return;
      return this.#record(o as Record<string, unknown>, depth + 1);
    }
    if (proto === Array.prototype) {
      if (this.#seen(o)) return;
      return this.#array(o as unknown[], depth + 1);
    }
    const kind = viewKinds.get(proto as object);
    if (kind !== undefined) return this.#binaryView(o as ArrayBufferView, kind);
    if (proto === Map.prototype) {
      if (this.#seen(o)) return;
      const m = o as Map<unknown, unknown>;
      this.#tagCount(T_MAP, m.size);
      for (const [k, v] of m) {
        this.value(k, depth + 1);
        this.value(v, depth + 1);
      }
      return;
    }
    if (proto === Set.prototype) {
      if (this.#seen(o)) return;
      const s = o as Set<unknown>;
      this.#tagCount(T_SET, s.size);
      for (const v of s) this.value(v, depth + 1);
      return;
    }
    if (proto === Date.prototype) {
      if (this.#seen(o)) return;
      this.#room(9);
      this.#bytes[this.#pos] = T_DATE;
      this.#view.setFloat64(this.#pos + 1, (o as Date).getTime(), true);
      this.#pos += 9;
      return;
    }
    if (proto === RegExp.prototype) {
      if (this.#seen(o)) return;
      this.#room(1);
      this.#bytes[this.#pos++] = T_REGEXP;
      this.#string((o as RegExp).source);
      this.#string((o as RegExp).flags);
      return;
    }
    if (proto === ArrayBuffer.prototype) {
      const ab = o as ArrayBuffer & { resizable?: boolean; detached?: boolean };
      if (ab.resizable === true || ab.detached === true || (!this.#bigInline && ab.byteLength >= LARGE_BINARY)) throw GIVE_UP;
      if (this.#seen(o)) return;
      this.#tagCount(T_ARRAY_BUFFER, ab.byteLength);
      this.#raw(new Uint8Array(ab));
      return;
    }
    // Errors, class instances, multiproc objects, boxed primitives, proxies of functions, ...
    throw GIVE_UP;
  }

  #binaryView(v: ArrayBufferView, kind: number): void {
    const buffer = v.buffer as ArrayBuffer & { resizable?: boolean };
    // Shared memory (a segment's name travels instead) and large arrays (handed over through a
    // segment) are serialize.ts's business; a length-tracking view of a resizable buffer is V8's.
    if (!(buffer instanceof ArrayBuffer) || buffer.resizable === true || (!this.#bigInline && v.byteLength >= LARGE_BINARY)) throw GIVE_UP;
    if (this.#seen(v)) return;
    this.#room(2);
    this.#bytes[this.#pos++] = T_VIEW;
    this.#bytes[this.#pos++] = kind;
    this.#varint(v.byteLength);
    this.#raw(new Uint8Array(buffer, v.byteOffset, v.byteLength));
  }

  #raw(b: Uint8Array): void {
    this.#room(b.length);
    this.#bytes.set(b, this.#pos);
    this.#pos += b.length;
  }

  #array(a: unknown[], depth: number): void {
    const n = a.length;
    // Holes and keys other than indices are kept by V8's format only (checking costs O(n) key
    // strings, so long arrays go there too unless they are lists of our own: encodeList).
    if (n > CHECKED_ARRAY_MAX || Object.keys(a).length !== n) throw GIVE_UP;
    this.#tagCount(T_ARRAY, n);
    for (let i = 0; i < n; i++) this.value(a[i], depth);
  }

  #record(o: Record<string, unknown>, depth: number): void {
    const keys = Object.keys(o);
    const k = keys.length;
    if (k > MAX_SHAPE_KEYS) {
      this.#tagCount(T_DICT, k);
      for (let i = 0; i < k; i++) {
        const key = keys[i]!;
        this.#string(key);
        this.value(o[key], depth);
      }
      return;
    }
    const shape = this.#shapeOf(keys);
    if (shape.epoch === this.#epoch) {
      this.#tagCount(T_OBJECT, shape.index);
    } else {
      shape.epoch = this.#epoch;
      shape.index = this.#shapes++;
      this.#room(1);
      this.#bytes[this.#pos++] = T_SHAPE;
      this.#varint(shape.region.length);
      this.#raw(shape.region);
    }
    for (let i = 0; i < k; i++) this.value(o[keys[i]!], depth);
  }

  #shapeOf(keys: string[]): Shape {
    const last = this.#last;
    if (last !== undefined && sameKeys(last.keys, keys)) return last;
    let node = this.#root;
    for (const key of keys) {
      let next = node.next?.get(key);
      if (next === undefined) {
        if (++this.#nodes > MAX_SHAPE_NODES) {
          this.#root = { next: undefined, shape: undefined };
          this.#nodes = 0;
          return this.#shapeOf(keys);
        }
        next = { next: undefined, shape: undefined };
        (node.next ??= new Map()).set(key, next);
      }
      node = next;
    }
    node.shape ??= { keys, region: this.#region(keys), epoch: 0, index: 0 };
    this.#last = node.shape;
    return node.shape;
  }

  /** The encoded key list of a shape (varint count, then the keys as strings), made once per shape. */
  #region(keys: string[]): Uint8Array {
    const writer = new CodecWriter();
    writer.#varint(keys.length);
    for (const key of keys) writer.#string(key);
    return writer.#bytes.slice(0, writer.#pos);
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
