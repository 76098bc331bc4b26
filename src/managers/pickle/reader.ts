// Reads pickles of protocols 2 to 5 (CPython Lib/pickle.py's _Unpickler; opcodes in opcodes.ts)
// into JS values, for the value set of SPEC.md "Talking to CPython managers". Safe by
// construction: a global is only a name looked up in GLOBALS (never code), REDUCE/NEWOBJ/BUILD
// only build the data shapes listed there, and every length is checked against the bytes left
// before anything is allocated. Malformed input is ERR_CORRUPT; a well-formed pickle of something
// outside the value set (a datetime, a class instance) is ERR_PICKLE_REFUSED, naming it.
//
// While reading, a dict is a Map and a tuple is an array listed in `tuples`; at STOP, `finish`
// turns each Map whose keys are all strings into a plain object (one walk, sharing and cycles
// kept, depth bounded).
import { ErrorCodes, ProcessError, corruptData } from "../../errors.js";
import { DEFAULT_LIMITS, GLOBALS, MAX_READ_PROTOCOL, MIN_READ_PROTOCOL, Op, OP_NAMES, type GlobalKind, type PickleLimits } from "./opcodes.js";
import { pythonTuples, PyException, PyProxyRef, PySlice, PyToken } from "./values.js";

/** A global the reader accepted, waiting for REDUCE/NEWOBJ. */
class GlobalRef {
  constructor(
    readonly kind: GlobalKind,
    readonly module: string,
    readonly name: string,
  ) {}
}

function refused(what: string): ProcessError {
  return new ProcessError(
    `cannot unpickle ${what}: multiproc reads only None, bool, int, float, str, bytes, list, tuple, dict, set and the manager protocol's own types`,
    { code: ErrorCodes.PICKLE_REFUSED },
  );
}

const MAX_GLOBAL_NAME = 256;

class Reader {
  readonly buf: Buffer;
  at = 0;
  readonly stack: unknown[] = [];
  readonly marks: number[] = [];
  readonly memo = new Map<number, unknown>();
  readonly tuples = pythonTuples;
  readonly frozen = new WeakSet<object>();
  readonly limits: PickleLimits;

  constructor(buf: Buffer, limits: PickleLimits) {
    this.buf = buf;
    this.limits = limits;
  }

  need(n: number, what: string): number {
    const start = this.at;
    if (n > this.buf.length - start) throw corruptData(`a pickle ends inside its ${what}`);
    this.at += n;
    return start;
  }

  u8(what: string): number {
    return this.buf[this.need(1, what)]!;
  }

  u32(what: string): number {
    return this.buf.readUInt32LE(this.need(4, what));
  }

  /** A u64 length; anything beyond the bytes left is corrupt (so the high word must be 0). */
  u64(what: string): number {
    const at = this.need(8, what);
    const low = this.buf.readUInt32LE(at);
    const high = this.buf.readUInt32LE(at + 4);
    if (high !== 0) throw corruptData(`a pickle's ${what} is beyond its end`);
    return low;
  }

  bytes(n: number, what: string): Buffer {
    const start = this.need(n, what);
    return Buffer.from(this.buf.subarray(start, start + n));
  }

  text(n: number, what: string): string {
    const start = this.need(n, what);
    return this.buf.toString("utf8", start, start + n);
  }

  /** A protocol-0 argument line (GLOBAL's module and name). */
  line(what: string): string {
    const end = this.buf.indexOf(0x0a, this.at);
    if (end < 0 || end - this.at > MAX_GLOBAL_NAME) throw corruptData(`a pickle's ${what} has no end of line`);
    const s = this.buf.toString("utf8", this.at, end);
    this.at = end + 1;
    return s;
  }

  push(value: unknown): void {
    this.stack.push(value);
  }

  pop(what: string): unknown {
    if (this.stack.length <= (this.marks.at(-1) ?? 0)) throw corruptData(`${what} on an empty pickle stack`);
    return this.stack.pop();
  }

  top(what: string): unknown {
    if (this.stack.length <= (this.marks.at(-1) ?? 0)) throw corruptData(`${what} on an empty pickle stack`);
    return this.stack[this.stack.length - 1];
  }

  popMark(what: string): unknown[] {
    const mark = this.marks.pop();
    if (mark === undefined) throw corruptData(`${what} without a MARK`);
    return this.stack.splice(mark);
  }

  tuple(items: unknown[]): unknown[] {
    this.tuples.add(items);
    return items;
  }

  isTuple(value: unknown): value is unknown[] {
    return Array.isArray(value) && this.tuples.has(value);
  }

  put(index: number): void {
    if (!this.memo.has(index) && this.memo.size >= this.limits.maxMemo) throw corruptData(`a pickle's memo is larger than ${this.limits.maxMemo} entries`);
    this.memo.set(index, this.top("PUT"));
  }

  get(index: number): void {
    if (!this.memo.has(index)) throw corruptData(`a pickle reads memo entry ${index}, never stored`);
    this.push(this.memo.get(index));
  }

  int(n: number): number | bigint {
    if (n > this.limits.maxIntBytes) throw corruptData(`a pickled int of ${n} bytes (the limit is ${this.limits.maxIntBytes})`);
    const start = this.need(n, "int");
    if (n === 0) return 0;
    if (n <= 6) return this.buf.readIntLE(start, n);
    const hex = Buffer.from(this.buf.subarray(start, start + n)).reverse().toString("hex");
    const big = BigInt.asIntN(n * 8, BigInt(`0x${hex}`));
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }

  global(module: string, name: string): GlobalRef {
    const kind = GLOBALS.get(`${module}\n${name}`);
    if (kind === undefined) throw refused(`${module}.${name}`);
    return new GlobalRef(kind, module, name);
  }

  items(value: unknown, what: string): unknown[] {
    if (Array.isArray(value)) return value;
    if (value instanceof Set) return [...(value as Set<unknown>)];
    throw corruptData(`${what} of something that is not a list, tuple or set`);
  }

  reduce(fn: unknown, args: unknown): unknown {
    if (!(fn instanceof GlobalRef)) throw refused("a REDUCE of something that is not an accepted global");
    if (!this.isTuple(args)) throw corruptData("REDUCE arguments that are not a tuple");
    switch (fn.kind) {
      case "set":
      case "frozenset": {
        const set = new Set(args.length === 0 ? [] : this.items(args[0], fn.name));
        if (fn.kind === "frozenset") this.frozen.add(set);
        return set;
      }
      case "bytes":
      case "bytearray":
        if (args.length === 0) return Buffer.alloc(0);
        if (args.length === 1 && Buffer.isBuffer(args[0])) return args[0];
        throw refused(`${fn.name}() of anything but bytes`);
      case "latin1-bytes":
        if (args.length === 2 && typeof args[0] === "string" && (args[1] === "latin1" || args[1] === "latin-1")) return Buffer.from(args[0], "latin1");
        throw refused("_codecs.encode() of anything but a latin1 str");
      case "ordered-dict":
        if (args.length === 0) return new Map();
        throw refused("OrderedDict() with arguments");
      case "exception":
        return new PyException(fn.module, fn.name, args);
      case "list":
        return args.length === 0 ? [] : [...this.items(args[0], "list()")];
      case "slice":
        if (args.length === 3) return new PySlice(args[0], args[1], args[2]);
        throw corruptData("a slice without (start, stop, step)");
      case "rebuild-proxy": {
        const [func, token, , kwds] = args;
        if (!(func instanceof GlobalRef) || func.kind !== "proxy-type" || !(token instanceof PyToken)) throw refused("a RebuildProxy of something but a proxy type and a Token");
        const exposed: unknown = kwds instanceof Map ? (kwds as Map<unknown, unknown>).get("exposed") : undefined;
        const names = Array.isArray(exposed) && exposed.every((m) => typeof m === "string") ? exposed : undefined;
        return new PyProxyRef(func.name, token, names);
      }
      default:
        throw refused(`a REDUCE of ${fn.module}.${fn.name}`);
    }
  }

  newobj(cls: unknown, args: unknown): unknown {
    if (!(cls instanceof GlobalRef)) throw refused("a NEWOBJ of something that is not an accepted global");
    if (!this.isTuple(args)) throw corruptData("NEWOBJ arguments that are not a tuple");
    if (cls.kind === "token" && args.length === 0) return new PyToken("", "", "");
    if (cls.kind === "exception") return new PyException(cls.module, cls.name, args);
    if ((cls.kind === "set" || cls.kind === "frozenset") && args.length === 0) return this.reduce(cls, args);
    throw refused(`a NEWOBJ of ${cls.module}.${cls.name}`);
  }

  build(obj: unknown, state: unknown): void {
    if (obj instanceof PyToken) {
      const [typeid, address, id] = this.isTuple(state) && state.length === 3 ? state : [];
      const addr = typeof address === "string" ? address : this.isTuple(address) && address.length === 2 && typeof address[0] === "string" && typeof address[1] === "number" ? ([address[0], address[1]] as const) : undefined;
      if (typeof typeid !== "string" || addr === undefined || (typeof id !== "string" && typeof id !== "number")) throw corruptData("a Token whose state is not (typeid, address, id)");
      obj.typeid = typeid;
      obj.address = addr;
      obj.id = String(id);
      return;
    }
    if (obj instanceof PyException) {
      // An exception's __dict__, or (dict, slots) when it has __slots__: kept as attributes.
      const dict: unknown = this.isTuple(state) && state.length === 2 ? state[0] : state;
      if (dict instanceof Map) {
        const attributes: Record<string, unknown> = {};
        for (const [k, v] of dict as Map<unknown, unknown>) {
          if (typeof k === "string") Object.defineProperty(attributes, k, { value: v, enumerable: true, writable: true, configurable: true });
        }
        obj.attributes = attributes;
      }
      else if (dict !== null) throw corruptData("an exception whose state is not a dict");
      return;
    }
    throw refused("a BUILD of anything but a Token or an exception");
  }

  setItems(target: unknown, items: unknown[]): void {
    if (!(target instanceof Map)) throw corruptData("SETITEMS on something that is not a dict");
    if (items.length % 2 !== 0) throw corruptData("SETITEMS with an odd number of items");
    for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
  }

  appendTo(target: unknown, items: unknown[]): void {
    if (!Array.isArray(target) || this.tuples.has(target)) throw corruptData("APPEND on something that is not a list");
    for (const item of items) target.push(item);
  }

  /** Runs the opcodes up to STOP; returns the value on top of the stack. */
  run(): unknown {
    if (this.buf.length > this.limits.maxBytes) throw corruptData(`a pickle of ${this.buf.length} bytes (the limit is ${this.limits.maxBytes})`);
    if (this.u8("opcode") !== Op.PROTO) throw corruptData("not a pickle of protocol 2 or later (no PROTO)");
    const protocol = this.u8("protocol");
    if (protocol < MIN_READ_PROTOCOL || protocol > MAX_READ_PROTOCOL) throw corruptData(`pickle protocol ${protocol} (2 to 5 are read)`);
    for (;;) {
      const op = this.u8("opcode");
      switch (op) {
        case Op.STOP: {
          const value = this.pop("STOP");
          if (this.at !== this.buf.length) throw corruptData(`${this.buf.length - this.at} bytes after a pickle's STOP`);
          return value;
        }
        case Op.PROTO:
          this.u8("protocol");
          break;
        case Op.FRAME: {
          const n = this.u64("frame length");
          if (n > this.buf.length - this.at) throw corruptData("a pickle frame longer than the pickle");
          break;
        }
        case Op.MARK:
          this.marks.push(this.stack.length);
          break;
        case Op.POP:
          this.pop("POP");
          break;
        case Op.POP_MARK:
          this.popMark("POP_MARK");
          break;
        case Op.DUP:
          this.push(this.top("DUP"));
          break;
        case Op.NONE:
          this.push(null);
          break;
        case Op.NEWTRUE:
          this.push(true);
          break;
        case Op.NEWFALSE:
          this.push(false);
          break;
        case Op.BININT:
          this.push(this.buf.readInt32LE(this.need(4, "int")));
          break;
        case Op.BININT1:
          this.push(this.u8("int"));
          break;
        case Op.BININT2:
          this.push(this.buf.readUInt16LE(this.need(2, "int")));
          break;
        case Op.LONG1:
          this.push(this.int(this.u8("int length")));
          break;
        case Op.LONG4: {
          const n = this.buf.readInt32LE(this.need(4, "int length"));
          if (n < 0) throw corruptData("a negative int length");
          this.push(this.int(n));
          break;
        }
        case Op.BINFLOAT:
          this.push(this.buf.readDoubleBE(this.need(8, "float")));
          break;
        case Op.SHORT_BINUNICODE:
          this.push(this.text(this.u8("str length"), "str"));
          break;
        case Op.BINUNICODE:
          this.push(this.text(this.u32("str length"), "str"));
          break;
        case Op.BINUNICODE8:
          this.push(this.text(this.u64("str length"), "str"));
          break;
        case Op.SHORT_BINBYTES:
          this.push(this.bytes(this.u8("bytes length"), "bytes"));
          break;
        case Op.BINBYTES:
          this.push(this.bytes(this.u32("bytes length"), "bytes"));
          break;
        case Op.BINBYTES8:
        case Op.BYTEARRAY8:
          this.push(this.bytes(this.u64("bytes length"), "bytes"));
          break;
        case Op.READONLY_BUFFER:
          if (!Buffer.isBuffer(this.top("READONLY_BUFFER"))) throw corruptData("READONLY_BUFFER on something that is not bytes");
          break;
        case Op.EMPTY_TUPLE:
          this.push(this.tuple([]));
          break;
        case Op.TUPLE1:
        case Op.TUPLE2:
        case Op.TUPLE3: {
          const n = op - Op.TUPLE1 + 1;
          const items: unknown[] = [];
          for (let i = 0; i < n; i++) items.unshift(this.pop("TUPLE"));
          this.push(this.tuple(items));
          break;
        }
        case Op.TUPLE:
          this.push(this.tuple(this.popMark("TUPLE")));
          break;
        case Op.EMPTY_LIST:
          this.push([]);
          break;
        case Op.APPEND: {
          const item = this.pop("APPEND");
          this.appendTo(this.top("APPEND"), [item]);
          break;
        }
        case Op.APPENDS: {
          const items = this.popMark("APPENDS");
          this.appendTo(this.top("APPENDS"), items);
          break;
        }
        case Op.EMPTY_DICT:
          this.push(new Map());
          break;
        case Op.SETITEM: {
          const value = this.pop("SETITEM");
          const key = this.pop("SETITEM");
          this.setItems(this.top("SETITEM"), [key, value]);
          break;
        }
        case Op.SETITEMS: {
          const items = this.popMark("SETITEMS");
          this.setItems(this.top("SETITEMS"), items);
          break;
        }
        case Op.EMPTY_SET:
          this.push(new Set());
          break;
        case Op.ADDITEMS: {
          const items = this.popMark("ADDITEMS");
          const set = this.top("ADDITEMS");
          if (!(set instanceof Set) || this.frozen.has(set)) throw corruptData("ADDITEMS on something that is not a set");
          for (const item of items) set.add(item);
          break;
        }
        case Op.FROZENSET: {
          const set = new Set(this.popMark("FROZENSET"));
          this.frozen.add(set);
          this.push(set);
          break;
        }
        case Op.MEMOIZE:
          this.put(this.memo.size);
          break;
        case Op.BINPUT:
          this.put(this.u8("memo index"));
          break;
        case Op.LONG_BINPUT:
          this.put(this.u32("memo index"));
          break;
        case Op.BINGET:
          this.get(this.u8("memo index"));
          break;
        case Op.LONG_BINGET:
          this.get(this.u32("memo index"));
          break;
        case Op.GLOBAL: {
          const module = this.line("GLOBAL module");
          this.push(this.global(module, this.line("GLOBAL name")));
          break;
        }
        case Op.STACK_GLOBAL: {
          const name = this.pop("STACK_GLOBAL");
          const module = this.pop("STACK_GLOBAL");
          if (typeof module !== "string" || typeof name !== "string") throw corruptData("STACK_GLOBAL of something that is not two strs");
          this.push(this.global(module, name));
          break;
        }
        case Op.REDUCE: {
          const args = this.pop("REDUCE");
          const fn = this.pop("REDUCE");
          this.push(this.reduce(fn, args));
          break;
        }
        case Op.NEWOBJ: {
          const args = this.pop("NEWOBJ");
          const cls = this.pop("NEWOBJ");
          this.push(this.newobj(cls, args));
          break;
        }
        case Op.BUILD: {
          const state = this.pop("BUILD");
          this.build(this.top("BUILD"), state);
          break;
        }
        default: {
          const name = OP_NAMES.get(op);
          throw name === undefined ? corruptData(`unknown pickle opcode 0x${op.toString(16)}`) : refused(`the opcode ${name}`);
        }
      }
    }
  }

  /** The value as JS sees it: dicts with only str keys become plain objects; no GlobalRef left. */
  finish(root: unknown): unknown {
    const seen = new Map<object, unknown>();
    const max = this.limits.maxDepth;
    const walk = (value: unknown, depth: number): unknown => {
      if (typeof value !== "object" || value === null || Buffer.isBuffer(value)) return value;
      const done = seen.get(value);
      if (done !== undefined) return done;
      if (depth > max) throw corruptData(`a pickled value nested deeper than ${max}`);
      if (value instanceof GlobalRef) throw refused(`a bare global ${value.module}.${value.name}`);
      if (Array.isArray(value)) {
        seen.set(value, value);
        for (let i = 0; i < value.length; i++) value[i] = walk(value[i], depth + 1);
        return value;
      }
      if (value instanceof Map) {
        const entries = [...(value as Map<unknown, unknown>)];
        if (entries.every(([k]) => typeof k === "string")) {
          const obj: Record<string, unknown> = {};
          seen.set(value, obj);
          for (const [k, v] of entries) Object.defineProperty(obj, k as string, { value: walk(v, depth + 1), enumerable: true, writable: true, configurable: true });
          return obj;
        }
        const map = new Map<unknown, unknown>();
        seen.set(value, map);
        for (const [k, v] of entries) map.set(walk(k, depth + 1), walk(v, depth + 1));
        return map;
      }
      if (value instanceof Set) {
        const set = new Set<unknown>();
        seen.set(value, set);
        for (const item of value as Set<unknown>) set.add(walk(item, depth + 1));
        return set;
      }
      if (value instanceof PyException) {
        seen.set(value, value);
        value.args = value.args.map((a) => walk(a, depth + 1));
        return value;
      }
      return value; // PyToken, PyProxyRef: plain fields only
    };
    return walk(root, 0);
  }
}

/**
 * Reads one pickle (protocols 2 to 5). Throws ERR_CORRUPT for bytes that are not a well-formed
 * pickle or exceed `limits`, ERR_PICKLE_REFUSED for a value outside the supported set.
 */
export function unpickle(bytes: Uint8Array, limits: PickleLimits = DEFAULT_LIMITS): unknown {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = new Reader(buf, limits);
  return reader.finish(reader.run());
}
