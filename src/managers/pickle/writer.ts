// Writes JS values as protocol-4 pickles (what CPython 3.8+ sends by default; opcodes in
// opcodes.ts), for the value set of SPEC.md "Talking to CPython managers": null/undefined ->
// None, boolean, number (int when integral and safe, else float), bigint -> int, string,
// Uint8Array -> bytes, Array -> list, PyTuple -> tuple, Map and plain objects -> dict, Set -> set,
// and the manager protocol's PyToken and PyException. Anything else is ERR_UNSERIALIZABLE before
// a byte is sent. Containers are memoized (MEMOIZE/BINGET), as CPython does, so shared and cyclic
// values are written once and the output stays linear in the value's size.
import { ErrorCodes, ProcessError } from "../../errors.js";
import { describe } from "../../validate.js";
import { DEFAULT_LIMITS, Op, WRITE_PROTOCOL } from "./opcodes.js";
import { pythonTuples, PyException, PySlice, PyToken, PyTuple } from "./values.js";

const BATCH = 1000; // items per APPENDS/SETITEMS/ADDITEMS, as CPython's _BATCHSIZE

function unsupported(value: unknown, path: string): ProcessError {
  return new ProcessError(
    `cannot pickle ${describe(value)} at ${path}: a CPython peer takes None, bool, int, float, str, bytes, list, tuple, dict and set (null, boolean, number, bigint, string, Uint8Array, Array, Map or plain object, Set)`,
    { code: ErrorCodes.UNSERIALIZABLE },
  );
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === Object.prototype || proto === null;
}

class Writer {
  #buf = Buffer.allocUnsafe(256);
  #at = 0;
  readonly #memo = new Map<object, number>();
  readonly #maxDepth = DEFAULT_LIMITS.maxDepth;

  #room(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#at + n));
    this.#buf.copy(next, 0, 0, this.#at);
    this.#buf = next;
  }

  op(code: number): void {
    this.#room(1);
    this.#buf[this.#at++] = code;
  }

  #opU8(code: number, n: number): void {
    this.#room(2);
    this.#buf[this.#at++] = code;
    this.#buf[this.#at++] = n;
  }

  #opU32(code: number, n: number): void {
    this.#room(5);
    this.#buf[this.#at++] = code;
    this.#buf.writeUInt32LE(n, this.#at);
    this.#at += 4;
  }

  #opU64(code: number, n: number): void {
    this.#room(9);
    this.#buf[this.#at++] = code;
    this.#buf.writeBigUInt64LE(BigInt(n), this.#at);
    this.#at += 8;
  }

  #raw(bytes: Uint8Array): void {
    this.#room(bytes.length);
    this.#buf.set(bytes, this.#at);
    this.#at += bytes.length;
  }

  done(): Buffer {
    return this.#buf.subarray(0, this.#at);
  }

  /** Sized opcodes: the 1-byte, 4-byte or 8-byte length form. */
  #sized(short: number | undefined, long: number, huge: number, bytes: Uint8Array): void {
    if (short !== undefined && bytes.length < 256) this.#opU8(short, bytes.length);
    else if (bytes.length <= 0xffff_ffff) this.#opU32(long, bytes.length);
    else this.#opU64(huge, bytes.length);
    this.#raw(bytes);
  }

  string(s: string, path: string): void {
    if (!(s as string & { isWellFormed(): boolean }).isWellFormed()) throw unsupported("a string with a lone surrogate", path);
    this.#sized(Op.SHORT_BINUNICODE, Op.BINUNICODE, Op.BINUNICODE8, Buffer.from(s, "utf8"));
  }

  int(n: bigint): void {
    if (n >= 0n && n < 256n) return this.#opU8(Op.BININT1, Number(n));
    if (n >= 0n && n < 65536n) {
      this.#room(3);
      this.#buf[this.#at++] = Op.BININT2;
      this.#buf.writeUInt16LE(Number(n), this.#at);
      this.#at += 2;
      return;
    }
    if (n >= -0x8000_0000n && n <= 0x7fff_ffffn) {
      this.#room(5);
      this.#buf[this.#at++] = Op.BININT;
      this.#buf.writeInt32LE(Number(n), this.#at);
      this.#at += 4;
      return;
    }
    // Little-endian two's complement in as few bytes as keep the sign (Python's encode_long).
    let hex = (n < 0n ? -n : n).toString(16);
    if (hex.length % 2 !== 0) hex = `0${hex}`;
    let size = hex.length / 2;
    if (n >= 0n ? (parseInt(hex.slice(0, 2), 16) & 0x80) !== 0 : -n > 1n << BigInt(size * 8 - 1)) size++;
    const bytes = Buffer.from(BigInt.asUintN(size * 8, n).toString(16).padStart(size * 2, "0"), "hex").reverse();
    if (size < 256) this.#opU8(Op.LONG1, size);
    else this.#opU32(Op.LONG4, size);
    this.#raw(bytes);
  }

  float(n: number): void {
    this.#room(9);
    this.#buf[this.#at++] = Op.BINFLOAT;
    this.#buf.writeDoubleBE(n, this.#at);
    this.#at += 8;
  }

  global(module: string, name: string): void {
    this.string(module, module);
    this.string(name, name);
    this.op(Op.STACK_GLOBAL);
  }

  /** An already written container is fetched from the memo (sharing, cycles). */
  #fromMemo(obj: object): boolean {
    const index = this.#memo.get(obj);
    if (index === undefined) return false;
    if (index < 256) this.#opU8(Op.BINGET, index);
    else this.#opU32(Op.LONG_BINGET, index);
    return true;
  }

  #memoize(obj: object): void {
    this.#memo.set(obj, this.#memo.size);
    this.op(Op.MEMOIZE);
  }

  #batches(items: readonly unknown[], each: (item: unknown, i: number) => void, closer: number, step = 1): void {
    for (let start = 0; start < items.length; start += BATCH * step) {
      const end = Math.min(items.length, start + BATCH * step);
      if (end - start === step && closer !== Op.ADDITEMS) {
        for (let i = start; i < end; i++) each(items[i], i);
        this.op(closer === Op.APPENDS ? Op.APPEND : Op.SETITEM);
        continue;
      }
      this.op(Op.MARK);
      for (let i = start; i < end; i++) each(items[i], i);
      this.op(closer);
    }
  }

  tuple(items: readonly unknown[], path: string, depth: number, asKey = false): void {
    const w = (v: unknown, i: number) => this.value(v, `${path}[${i}]`, depth + 1, asKey);
    if (items.length === 0) return this.op(Op.EMPTY_TUPLE);
    if (items.length <= 3) {
      items.forEach(w);
      return this.op(Op.TUPLE1 + items.length - 1);
    }
    this.op(Op.MARK);
    items.forEach(w);
    this.op(Op.TUPLE);
  }

  #dict(entries: [unknown, unknown][], path: string, depth: number): void {
    const flat = entries.flat();
    this.#batches(flat, (v, i) => this.value(v, i % 2 === 0 ? `${path} key` : `${path}[${String(flat[i - 1])}]`, depth + 1, i % 2 === 0), Op.SETITEMS, 2);
  }

  /** `asKey`: inside a dict key or a set item, where Python needs hashable values (arrays -> tuples). */
  value(v: unknown, path: string, depth: number, asKey = false): void {
    if (depth > this.#maxDepth) throw unsupported(`a value nested deeper than ${this.#maxDepth}`, path);
    switch (typeof v) {
      case "undefined":
        return this.op(Op.NONE);
      case "boolean":
        return this.op(v ? Op.NEWTRUE : Op.NEWFALSE);
      case "number":
        if (Number.isSafeInteger(v) && !Object.is(v, -0)) return this.int(BigInt(v));
        return this.float(v);
      case "bigint":
        return this.int(v);
      case "string":
        return this.string(v, path);
      case "object":
        break;
      default:
        throw unsupported(v, path);
    }
    if (v === null) return this.op(Op.NONE);
    if (v instanceof Uint8Array) return this.#sized(Op.SHORT_BINBYTES, Op.BINBYTES, Op.BINBYTES8, v);
    if (v instanceof PyTuple) return this.tuple(v.items, path, depth, asKey);
    if (v instanceof PyToken) {
      this.global("multiprocessing.managers", "Token");
      this.op(Op.EMPTY_TUPLE);
      this.op(Op.NEWOBJ);
      this.tuple([v.typeid, typeof v.address === "string" ? v.address : new PyTuple(v.address), v.id], path, depth);
      return this.op(Op.BUILD);
    }
    if (v instanceof PySlice) {
      this.global("builtins", "slice");
      this.tuple([v.start, v.stop, v.step], path, depth);
      return this.op(Op.REDUCE);
    }
    if (v instanceof PyException) {
      this.global(v.module, v.name);
      this.tuple(v.args, path, depth);
      return this.op(Op.REDUCE);
    }
    if (Array.isArray(v)) {
      if (asKey || pythonTuples.has(v)) return this.tuple(v, path, depth, asKey);
      if (this.#fromMemo(v)) return;
      this.op(Op.EMPTY_LIST);
      this.#memoize(v);
      return this.#batches(v, (item, i) => this.value(item, `${path}[${i}]`, depth + 1), Op.APPENDS);
    }
    if (this.#fromMemo(v)) return;
    if (v instanceof Map) {
      this.op(Op.EMPTY_DICT);
      this.#memoize(v);
      return this.#dict([...(v as Map<unknown, unknown>)], path, depth);
    }
    if (v instanceof Set) {
      this.op(Op.EMPTY_SET);
      this.#memoize(v);
      return this.#batches([...(v as Set<unknown>)], (item, i) => this.value(item, `${path} item ${i}`, depth + 1, true), Op.ADDITEMS);
    }
    if (isPlainObject(v)) {
      this.op(Op.EMPTY_DICT);
      this.#memoize(v);
      return this.#dict(Object.entries(v), path, depth);
    }
    throw unsupported(v, path);
  }
}

/** Writes `value` as one protocol-4 pickle; ERR_UNSERIALIZABLE (naming where) for anything outside the value set. */
export function pickle(value: unknown, name = "the value"): Buffer {
  const w = new Writer();
  w.op(Op.PROTO);
  w.op(WRITE_PROTOCOL);
  w.value(value, name, 0);
  w.op(Op.STOP);
  return w.done();
}
