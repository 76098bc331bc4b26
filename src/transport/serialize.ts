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
 * Layout: a flag byte (0 plain, 1 with handles); with handles, the handle types as a JSON list
 * (u16 length + UTF-8) so the receiver can load their modules first; then V8's format.
 * The "socket" transport (multiproc/connection, managers) may reach another machine, so large
 * binaries are serialised inline instead of being handed over through a segment.
 */
export function dumps(value: unknown, transport: "bytes" | "socket" = "bytes"): Buffer {
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
  const { deserializer, types } = open(bytes);
  const value: unknown = deserializer.readValue();
  return types !== undefined ? revive(value) : value;
}

/** The inverse of dumps for async receivers: first loads the modules of lazy handle types. */
export async function loadsAsync(bytes: Uint8Array): Promise<unknown> {
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
