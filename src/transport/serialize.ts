// The wire format for objects between processes: one flag byte (1 = the payload holds multiproc
// handles to rebuild), then V8's structured-clone serialization (node:v8), which carries Map, Set,
// Date, RegExp, BigInt, typed arrays and Buffers.
import { DefaultDeserializer, DefaultSerializer } from "node:v8";
import { ArgumentError, ErrorCodes } from "../errors.js";
import { reduce, revive } from "./handles.js";

export function unsendable(err: unknown): ArgumentError {
  const detail = err instanceof Error ? err.message : String(err);
  return new ArgumentError(
    `this value cannot be sent to another process (${detail}); functions, symbols and class instances with private state cannot cross processes`,
    ErrorCodes.UNSERIALIZABLE,
    err,
  );
}

/** Serialises `value` for another process. Throws ERR_UNSERIALIZABLE before anything is written. */
export function dumps(value: unknown): Buffer {
  const { value: reduced, found } = reduce(value, "bytes");
  const serializer = new DefaultSerializer();
  serializer.writeRawBytes(found ? FLAG_HANDLES : FLAG_PLAIN);
  serializer.writeHeader();
  try {
    serializer.writeValue(reduced);
  } catch (err) {
    throw unsendable(err);
  }
  return serializer.releaseBuffer();
}

const FLAG_PLAIN = Buffer.from([0]);
const FLAG_HANDLES = Buffer.from([1]);

/** The inverse of dumps. */
export function loads(bytes: Uint8Array): unknown {
  const deserializer = new DefaultDeserializer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const flag = deserializer.readRawBytes(1)[0];
  deserializer.readHeader();
  const value: unknown = deserializer.readValue();
  return flag === 1 ? revive(value) : value;
}

/** For postMessage to a worker thread: handles reduced for the thread transport (SABs shared). */
export function toThread(value: unknown): { value: unknown; found: boolean } {
  try {
    return reduce(value, "thread");
  } catch (err) {
    throw unsendable(err);
  }
}

export function fromThread(value: unknown, found: boolean): unknown {
  return found ? revive(value) : value;
}
