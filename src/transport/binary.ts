// Big binary data between processes without copies through the transport (issue 7).
//
// When a message goes to another process (the "bytes" transport):
//  - a typed array, DataView or SharedArrayBuffer over a segment multiproc made or attached is
//    sent as the segment's name, offset and length: the receiver maps the same memory, so writes
//    on either side are seen by the other (shared, like SharedMemory itself);
//  - any other ArrayBuffer, typed array or Buffer of LARGE_BINARY bytes or more is copied once
//    into a fresh segment that the receiver adopts (it maps it and removes the name): the bytes
//    then belong to the receiver, and the sender's array stays its own (a hand-over by copy; the
//    receiver's view is backed by a SharedArrayBuffer);
//  - smaller data is serialised inline by V8.
// Thread transports need none of this: postMessage shares SharedArrayBuffers by itself.
import { ArgumentError, ErrorCodes } from "../errors.js";
import { attachSegment, attachShared, createSegmentFrom, isUnnamedSegment, segmentOf, unlinkSegment } from "../shared/segment.js";

export const LARGE_BINARY = 1 << 20;

type Binary = ArrayBufferView | ArrayBuffer | SharedArrayBuffer;

export interface BinaryState {
  name: string;
  byteOffset: number;
  byteLength: number;
  kind: string;
  /** True when the segment was made for this message: the receiver removes its name. */
  owned: boolean;
}

const constructors: Record<string, new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayBufferView> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
};

export function isBinary(value: object): value is Binary {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer;
}

function kindOf(value: Binary): string {
  if (value instanceof ArrayBuffer) return "ArrayBuffer";
  if (value instanceof SharedArrayBuffer) return "SharedArrayBuffer";
  if (Buffer.isBuffer(value)) return "Buffer";
  return value.constructor.name;
}

/**
 * What `value` becomes on the wire: a handle state, a plain copy V8 can serialise inline (for a
 * small array over shared memory whose name is gone), or undefined to serialise it as it is.
 */
export function reduceBinary(value: Binary): { state: BinaryState } | { copy: Binary } | undefined {
  const buffer = ArrayBuffer.isView(value) ? value.buffer : value;
  const byteOffset = ArrayBuffer.isView(value) ? value.byteOffset : 0;
  const byteLength = value.byteLength;
  const kind = kindOf(value);
  if (kind !== "ArrayBuffer" && kind !== "SharedArrayBuffer" && kind !== "Buffer" && constructors[kind] === undefined) return undefined;
  const shared = segmentOf(buffer);
  if (shared !== undefined && !shared.local) return { state: { name: shared.name, byteOffset, byteLength, kind, owned: false } };
  const unnamed = isUnnamedSegment(buffer);
  if (buffer instanceof SharedArrayBuffer && !unnamed) {
    throw new ArgumentError(
      "a SharedArrayBuffer that multiproc did not allocate cannot be shared with another process; " +
        "allocate it with new SharedMemory({ create: true, size }) and use its .buffer",
      ErrorCodes.UNSERIALIZABLE,
    );
  }
  if (byteLength < LARGE_BINARY) return unnamed ? { copy: plainCopy(value, kind) } : undefined;
  if ((buffer as ArrayBuffer & { detached?: boolean }).detached === true) {
    throw new ArgumentError("a detached ArrayBuffer cannot be sent", ErrorCodes.UNSERIALIZABLE);
  }
  const name = createSegmentFrom(new Uint8Array(buffer, byteOffset, byteLength), { prefix: "/mp_" });
  return { state: { name, byteOffset: 0, byteLength, kind, owned: true } };
}

function plainCopy(value: Binary, kind: string): Binary {
  const bytes = ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(value);
  const copy = bytes.slice();
  switch (kind) {
    case "ArrayBuffer":
    case "SharedArrayBuffer":
      return copy.buffer;
    case "Buffer":
      return Buffer.from(copy.buffer);
    default: {
      const Ctor = constructors[kind]!;
      const width = kind === "DataView" ? 1 : (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      return new Ctor(copy.buffer, 0, copy.byteLength / width);
    }
  }
}

export function reviveBinary(raw: unknown): Binary {
  const state = raw as BinaryState;
  let segment;
  if (state.owned) {
    segment = attachSegment(state.name);
    unlinkSegment(state.name);
  } else {
    segment = attachShared(state.name);
  }
  const { buffer } = segment;
  switch (state.kind) {
    case "SharedArrayBuffer":
    case "ArrayBuffer":
      return state.byteOffset === 0 && state.byteLength === buffer.byteLength ? buffer : buffer.slice(state.byteOffset, state.byteOffset + state.byteLength);
    case "Buffer":
      return Buffer.from(buffer, state.byteOffset, state.byteLength);
    default: {
      const Ctor = constructors[state.kind]!;
      const width = state.kind === "DataView" ? 1 : (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      return new Ctor(buffer, state.byteOffset, state.byteLength / width);
    }
  }
}
