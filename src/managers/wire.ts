// The manager protocol's compact form (docs/protocol.md, "Compact frames"): a `call` whose
// arguments are all primitives, and an `ok` whose value is one, skip V8's serializer, which costs
// ~2-4 us per message here and was a quarter of a dict operation's round trip. Everything else
// (proxies, objects, errors, tables) goes through transport/serialize.ts as before.
//
//   flag 3 (serialize.ts uses 0, 1, 2), then a kind byte, then fields, little-endian:
//   call: 3, 1, id u32, oid u32, method (u8 byte length + UTF-8), argc u8, argc values
//   ok:   3, 2, id u32, value
//   value: tag u8, then 0 undefined | 1 null | 2 true | 3 false | 4 int32 (4 bytes)
//          | 5 float64 (8 bytes) | 6 string (u32 byte length + UTF-8)
// The decoder checks every length against the frame and accepts nothing else: bytes that do not
// parse are ERR_CORRUPT, and the server drops the client, as for any malformed request.
import { corruptData } from "../errors.js";
import { loads } from "../transport/serialize.js";
import type { CallRequest, OkResponse } from "./messages.js";

export const FLAG_COMPACT = 3;
const K_CALL = 1;
const K_OK = 2;

const T_UNDEFINED = 0;
const T_NULL = 1;
const T_TRUE = 2;
const T_FALSE = 3;
const T_INT32 = 4;
const T_FLOAT64 = 5;
const T_STRING = 6;

const MAX_U32 = 0xffff_ffff;

/** Bytes `value` takes in compact form, or -1 if it has none (not a primitive, a lone surrogate). */
function sizeOf(value: unknown): number {
  switch (typeof value) {
    case "number":
      return (value | 0) === value && !Object.is(value, -0) ? 5 : 9;
    case "string":
      return (value as string & { isWellFormed(): boolean }).isWellFormed() ? 5 + Buffer.byteLength(value) : -1;
    case "boolean":
    case "undefined":
      return 1;
    case "object":
      return value === null ? 1 : -1;
    default:
      return -1;
  }
}

function writeValue(out: Buffer, at: number, value: unknown): number {
  switch (typeof value) {
    case "number":
      if ((value | 0) === value && !Object.is(value, -0)) {
        out[at] = T_INT32;
        out.writeInt32LE(value, at + 1);
        return at + 5;
      }
      out[at] = T_FLOAT64;
      out.writeDoubleLE(value, at + 1);
      return at + 9;
    case "string": {
      out[at] = T_STRING;
      const n = out.write(value, at + 5, "utf8");
      out.writeUInt32LE(n, at + 1);
      return at + 5 + n;
    }
    case "boolean":
      out[at] = value ? T_TRUE : T_FALSE;
      return at + 1;
    case "undefined":
      out[at] = T_UNDEFINED;
      return at + 1;
    default:
      out[at] = T_NULL;
      return at + 1;
  }
}

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= MAX_U32;
}

/** A call in compact form, or undefined when it needs the general format. */
export function encodeCall(id: number, oid: number, method: string, args: readonly unknown[]): Buffer | undefined {
  if (!isU32(id) || !isU32(oid) || args.length > 255) return undefined;
  const methodBytes = Buffer.byteLength(method);
  if (methodBytes > 255 || !(method as string & { isWellFormed(): boolean }).isWellFormed()) return undefined;
  let size = 2 + 4 + 4 + 1 + methodBytes + 1;
  for (const arg of args) {
    const n = sizeOf(arg);
    if (n < 0) return undefined;
    size += n;
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = FLAG_COMPACT;
  out[1] = K_CALL;
  out.writeUInt32LE(id, 2);
  out.writeUInt32LE(oid, 6);
  out[10] = methodBytes;
  out.write(method, 11, "utf8");
  let at = 11 + methodBytes;
  out[at++] = args.length;
  for (const arg of args) at = writeValue(out, at, arg);
  return out;
}

/** An ok reply in compact form, or undefined when its value needs the general format. */
export function encodeOk(id: number, value: unknown): Buffer | undefined {
  if (!isU32(id)) return undefined;
  const n = sizeOf(value);
  if (n < 0) return undefined;
  const out = Buffer.allocUnsafe(6 + n);
  out[0] = FLAG_COMPACT;
  out[1] = K_OK;
  out.writeUInt32LE(id, 2);
  writeValue(out, 6, value);
  return out;
}

class Reader {
  at = 0;
  constructor(readonly bytes: Buffer) {}

  need(n: number, what: string): number {
    const start = this.at;
    if (start + n > this.bytes.length) throw corruptData(`a compact manager frame ends inside its ${what}`);
    this.at += n;
    return start;
  }

  u8(what: string): number {
    return this.bytes[this.need(1, what)]!;
  }

  u32(what: string): number {
    return this.bytes.readUInt32LE(this.need(4, what));
  }

  utf8(n: number, what: string): string {
    const start = this.need(n, what);
    return this.bytes.toString("utf8", start, start + n);
  }

  value(): unknown {
    const tag = this.u8("value tag");
    switch (tag) {
      case T_UNDEFINED:
        return undefined;
      case T_NULL:
        return null;
      case T_TRUE:
        return true;
      case T_FALSE:
        return false;
      case T_INT32:
        return this.bytes.readInt32LE(this.need(4, "int32"));
      case T_FLOAT64:
        return this.bytes.readDoubleLE(this.need(8, "float64"));
      case T_STRING:
        return this.utf8(this.u32("string length"), "string");
      default:
        throw corruptData(`unknown value tag ${tag} in a compact manager frame`);
    }
  }
}

/** Decodes a compact frame (flag 3). Throws ERR_CORRUPT for anything malformed or left over. */
export function decodeCompact(bytes: Uint8Array): CallRequest | OkResponse {
  const r = new Reader(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (r.u8("flag") !== FLAG_COMPACT) throw corruptData("not a compact manager frame");
  const kind = r.u8("kind");
  let out: CallRequest | OkResponse;
  if (kind === K_CALL) {
    const id = r.u32("id");
    const oid = r.u32("oid");
    const method = r.utf8(r.u8("method length"), "method");
    const argc = r.u8("argument count");
    const args: unknown[] = [];
    for (let i = 0; i < argc; i++) args.push(r.value());
    out = { kind: "call", id, oid, method, args };
  } else if (kind === K_OK) {
    const id = r.u32("id");
    out = { kind: "ok", id, value: r.value() };
  } else {
    throw corruptData(`unknown kind ${kind} in a compact manager frame`);
  }
  if (r.at !== r.bytes.length) throw corruptData(`${r.bytes.length - r.at} bytes after a compact manager frame`);
  return out;
}

/** A manager frame as a message: the compact form, or the general one (serialize.ts loads). */
export function decodeFrame(bytes: Uint8Array): unknown {
  return bytes[0] === FLAG_COMPACT ? decodeCompact(bytes) : loads(bytes);
}
