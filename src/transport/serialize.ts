// The wire format for objects between processes: one flag byte, then either our own codec
// (flag 4, codec-format.ts: records, arrays, strings, Maps, typed arrays, ... written and read in
// JS) or V8's structured-clone serialization (node:v8; flag 1 when the payload holds multiproc
// handles to rebuild), which carries everything else the structured-clone algorithm does.
import { DefaultDeserializer, DefaultSerializer } from "node:v8";
import { ArgumentError, corruptData, ErrorCodes, ProcessError } from "../errors.js";
import { FLAG_CODEC, FLAG_CODEC_REFS } from "./codec-format.js";
import { CodecReader } from "./codec-reader.js";
import { CodecWriter } from "./codec-writer.js";
import { loadHandleTypes, ModuleNeeded, reduce, revive } from "./handles.js";

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
  const encoded = codecWriter().encode(value, transport === "socket");
  return encoded !== undefined ? Buffer.from(encoded) : dumpsV8(value, transport);
}

/**
 * dumps() into a scratch buffer, for senders that copy the message at once (into a ring, a
 * queue's memory, a pool frame): a view valid until the next call of this module.
 */
export function dumpsView(value: unknown, transport: "bytes" | "socket" = "bytes"): Uint8Array {
  if (typeof value === "object" && value !== null) {
    const encoded = codecWriter().encode(value, transport === "socket");
    if (encoded !== undefined) return encoded;
  }
  return dumps(value, transport);
}

/**
 * dumps() of the list `items[start..end)`, an array multiproc made (a pool's chunk or its
 * results): it has no holes or extra keys to look for, so lists of any length take the codec.
 */
export function dumpsList(items: readonly unknown[], start: number, end: number, transport: "bytes" | "socket" = "bytes"): Uint8Array {
  return codecWriter().encodeList(items, start, end, transport === "socket") ?? dumpsV8(items.slice(start, end), transport);
}

/** True when `bytes` is a message in our own codec (read in place: its reader copies what it keeps). */
export function isCodec(bytes: Uint8Array): boolean {
  return bytes[0] === FLAG_CODEC || bytes[0] === FLAG_CODEC_REFS;
}

const sharedWriter = new CodecWriter();
const codecReader = new CodecReader();

/** The shared writer, or a fresh one if a getter sends a message while the shared one writes. */
function codecWriter(): CodecWriter {
  return sharedWriter.busy ? new CodecWriter() : sharedWriter;
}

/** V8's format (with multiproc handles reduced): every value of the structured-clone set. */
export function dumpsV8(value: unknown, transport: "bytes" | "socket" = "bytes"): Buffer {
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

/** dumps() for async senders: imports the module a foreign type needs (apache-arrow's Table) first. */
export async function dumpsAsync(value: unknown, transport: "bytes" | "socket" = "bytes"): Promise<Buffer> {
  const loaded = new Set<string>();
  for (;;) {
    try {
      return dumps(value, transport);
    } catch (err) {
      if (!(err instanceof ModuleNeeded) || loaded.has(err.type)) throw err;
      loaded.add(err.type);
      await err.load();
    }
  }
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

// Bytes each primitive needs (flag, tag, value); a shorter message is corrupt.
const PRIMITIVE_BYTES = [2, 2, 2, 2, 6, 10, 2];

function loadsPrimitive(bytes: Uint8Array): unknown {
  const need = PRIMITIVE_BYTES[bytes[1] ?? 255];
  if (need !== undefined && bytes.length < need) throw corruptData(`a ${bytes.length}-byte message is too short for its primitive tag ${bytes[1]}`);
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
      throw corruptData(`unknown primitive tag ${bytes[1]} in a message`);
  }
}

function open(bytes: Uint8Array): { deserializer: DefaultDeserializer; types: string[] | undefined } {
  const flag = bytes[0];
  if (flag !== 0 && flag !== 1) throw corruptData(bytes.length === 0 ? "an empty message" : `unknown message flag ${flag}`);
  const deserializer = new DefaultDeserializer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  let types: string[] | undefined;
  try {
    deserializer.readRawBytes(1);
    if (flag === 1) {
      const length = deserializer.readRawBytes(2).readUInt16LE(0);
      types = parseTypes(deserializer.readRawBytes(length));
    }
    deserializer.readHeader();
  } catch (err) {
    throw err instanceof ProcessError ? err : corruptData("the message's header does not parse", err);
  }
  return { deserializer, types };
}

function parseTypes(json: Buffer): string[] {
  let types: unknown;
  try {
    types = JSON.parse(json.toString());
  } catch (err) {
    throw corruptData("the list of handle types is not JSON", err);
  }
  if (!Array.isArray(types) || !types.every((t) => typeof t === "string")) throw corruptData("the list of handle types is not a list of names");
  return types;
}

/** V8's reader throws plain Errors on bad bytes. */
function readValue(deserializer: DefaultDeserializer): unknown {
  try {
    return deserializer.readValue() as unknown;
  } catch (err) {
    throw corruptData("the message's body does not parse", err);
  }
}

/** A reviver may trip on a malformed handle: that is corrupt data too, unless it said why itself. */
function reviveChecked(value: unknown): unknown {
  try {
    return revive(value);
  } catch (err) {
    throw err instanceof ProcessError ? err : corruptData("a multiproc object in the message is malformed", err);
  }
}

/**
 * The handle types a dumps() payload names (for loadHandleTypes before a synchronous loads). A
 * corrupt list gives [] here; loads() then reports it.
 */
export function handleTypesOf(bytes: Uint8Array): string[] {
  if (bytes[0] !== 1 || bytes.length < 3) return [];
  const length = bytes[1]! | (bytes[2]! << 8);
  try {
    return parseTypes(Buffer.from(bytes.buffer, bytes.byteOffset + 3, Math.min(length, bytes.length - 3)));
  } catch {
    return [];
  }
}

/**
 * The inverse of dumps, for synchronous receivers (handle types must already be loaded). Bytes
 * that do not parse throw ERR_CORRUPT.
 */
export function loads(bytes: Uint8Array): unknown {
  if (bytes[0] === FLAG_CODEC || bytes[0] === FLAG_CODEC_REFS) return codecReader.decode(bytes);
  if (bytes[0] === FLAG_PRIMITIVE) return loadsPrimitive(bytes);
  const { deserializer, types } = open(bytes);
  const value = readValue(deserializer);
  return types !== undefined ? reviveChecked(value) : value;
}

/** The inverse of dumps for async receivers: first loads the modules of lazy handle types. */
export async function loadsAsync(bytes: Uint8Array): Promise<unknown> {
  if (bytes[0] === FLAG_CODEC || bytes[0] === FLAG_CODEC_REFS) return codecReader.decode(bytes);
  if (bytes[0] === FLAG_PRIMITIVE) return loadsPrimitive(bytes);
  const { deserializer, types } = open(bytes);
  const value = readValue(deserializer);
  if (types === undefined) return value;
  await loadHandleTypes(types);
  return reviveChecked(value);
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
