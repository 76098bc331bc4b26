// The wire format for objects between processes: one flag byte (1 = the payload holds multiproc
// handles to rebuild), then V8's structured-clone serialization (node:v8), which carries Map, Set,
// Date, RegExp, BigInt, typed arrays and Buffers.
import { DefaultDeserializer, DefaultSerializer } from "node:v8";
import { ArgumentError, ErrorCodes } from "../errors.js";
import { loadHandleTypes, reduce, revive } from "./handles.js";

export function unsendable(err: unknown): ArgumentError {
  const detail = err instanceof Error ? err.message : String(err);
  return new ArgumentError(
    `this value cannot be sent to another process (${detail}); functions, symbols and class instances with private state cannot cross processes`,
    ErrorCodes.UNSERIALIZABLE,
    err,
  );
}

/**
 * Serialises `value` for another process. Throws ERR_UNSERIALIZABLE before anything is written.
 * Layout: a flag byte (0 plain, 1 with handles, 2 a primitive in our own short form); with handles, the handle types as a JSON list
 * (u16 length + UTF-8) so the receiver can load their modules first; then V8's format.
 * The "socket" transport (multiproc/connection, managers) may reach another machine, so large
 * binaries are serialised inline instead of being handed over through a segment.
 */
export function dumps(value: unknown, transport: "bytes" | "socket" = "bytes"): Buffer {
  const fast = dumpsPrimitive(value);
  if (fast !== undefined) return fast;
  const { value: reduced, found, types } = reduce(value, transport);
  const serializer = new DefaultSerializer();
  if (found) {
    const list = Buffer.from(JSON.stringify(types));
    const head = Buffer.allocUnsafe(3);
    head[0] = 1;
    head.writeUInt16LE(list.length, 1);
    serializer.writeRawBytes(head);
    serializer.writeRawBytes(list);
  } else {
    serializer.writeRawBytes(FLAG_PLAIN);
  }
  serializer.writeHeader();
  try {
    serializer.writeValue(reduced);
  } catch (err) {
    throw unsendable(err);
  }
  return serializer.releaseBuffer();
}

const FLAG_PLAIN = Buffer.from([0]);

// Primitives skip V8's serializer, whose fixed cost (~1 us to write, ~1 us to read) would dominate
// small queue items and pipe messages: flag byte FLAG_PRIMITIVE, a tag, then the value.
const FLAG_PRIMITIVE = 2;
const P_UNDEFINED = 0;
const P_NULL = 1;
const P_TRUE = 2;
const P_FALSE = 3;
const P_INT32 = 4;
const P_FLOAT64 = 5;
const P_STRING = 6;

function primitive(tag: number, extra: number): Buffer {
  const out = Buffer.allocUnsafe(2 + extra);
  out[0] = FLAG_PRIMITIVE;
  out[1] = tag;
  return out;
}

function dumpsPrimitive(value: unknown): Buffer | undefined {
  switch (typeof value) {
    case "number": {
      if ((value | 0) === value && !(value === 0 && 1 / value < 0)) {
        const out = primitive(P_INT32, 4);
        out.writeInt32LE(value, 2);
        return out;
      }
      const out = primitive(P_FLOAT64, 8);
      out.writeDoubleLE(value, 2);
      return out;
    }
    case "string": {
      // A lone surrogate would not survive UTF-8: V8's serializer keeps it.
      if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) return undefined;
      const out = primitive(P_STRING, Buffer.byteLength(value));
      out.write(value, 2, "utf8");
      return out;
    }
    case "boolean":
      return primitive(value ? P_TRUE : P_FALSE, 0);
    case "undefined":
      return primitive(P_UNDEFINED, 0);
    case "object":
      return value === null ? primitive(P_NULL, 0) : undefined;
    default:
      return undefined;
  }
}

const f64 = new Float64Array(1);
const f64bytes = new Uint8Array(f64.buffer);
const utf8 = new TextDecoder();

function loadsPrimitive(bytes: Uint8Array): unknown {
  switch (bytes[1]) {
    case P_UNDEFINED:
      return undefined;
    case P_NULL:
      return null;
    case P_TRUE:
      return true;
    case P_FALSE:
      return false;
    case P_INT32:
      return bytes[2]! | (bytes[3]! << 8) | (bytes[4]! << 16) | (bytes[5]! << 24);
    case P_FLOAT64:
      for (let i = 0; i < 8; i++) f64bytes[i] = bytes[2 + i]!;
      return f64[0];
    case P_STRING:
      return utf8.decode(bytes.subarray(2));
    default:
      throw new ArgumentError(`unknown primitive tag ${bytes[1]} in a message`, ErrorCodes.UNSERIALIZABLE);
  }
}

function open(bytes: Uint8Array): { deserializer: DefaultDeserializer; types: string[] | undefined } {
  const deserializer = new DefaultDeserializer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const flag = deserializer.readRawBytes(1)[0];
  let types: string[] | undefined;
  if (flag === 1) {
    const length = deserializer.readRawBytes(2).readUInt16LE(0);
    types = JSON.parse(deserializer.readRawBytes(length).toString()) as string[];
  }
  deserializer.readHeader();
  return { deserializer, types };
}

/** The handle types a dumps() payload names (for loadHandleTypes before a synchronous loads). */
export function handleTypesOf(bytes: Uint8Array): string[] {
  if (bytes[0] !== 1) return [];
  const length = bytes[1]! | (bytes[2]! << 8);
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 3, length).toString()) as string[];
}

/** The inverse of dumps, for synchronous receivers (handle types must already be loaded). */
export function loads(bytes: Uint8Array): unknown {
  if (bytes[0] === FLAG_PRIMITIVE) return loadsPrimitive(bytes);
  const { deserializer, types } = open(bytes);
  const value: unknown = deserializer.readValue();
  return types !== undefined ? revive(value) : value;
}

/** The inverse of dumps for async receivers: first loads the modules of lazy handle types. */
export async function loadsAsync(bytes: Uint8Array): Promise<unknown> {
  if (bytes[0] === FLAG_PRIMITIVE) return loadsPrimitive(bytes);
  const { deserializer, types } = open(bytes);
  const value: unknown = deserializer.readValue();
  if (types === undefined) return value;
  await loadHandleTypes(types);
  return revive(value);
}

/** For postMessage to a worker thread: handles reduced for the thread transport (SABs shared). */
export function toThread(value: unknown): { value: unknown; found: boolean; types: string[] } {
  try {
    return reduce(value, "thread");
  } catch (err) {
    throw unsendable(err);
  }
}

export async function fromThread(value: unknown, found: boolean, types: string[] = []): Promise<unknown> {
  if (!found) return value;
  await loadHandleTypes(types);
  return revive(value);
}
