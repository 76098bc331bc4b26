// The byte layout of CPython's ShareableList (multiprocessing/shared_memory.py, 3.8-3.13) and
// the codec for one item; src/shared/shareable-list.ts is the list built on it. The layout, from
// the segment's start, all integers in native byte order (struct without a prefix):
//
//   8 bytes            N, the item count (int64)
//   (N + 1) * 8 bytes  offsets of each item's slot from the data area's start (int64; the last
//                      one is the data area's size)
//   data area          one slot per item: 8 bytes for a number, bigint, boolean or null;
//                      8 * (floor(len / 8) + 1) bytes for a string (len of its UTF-8) or bytes
//   N * 8 bytes        each item's struct format, NUL-padded ASCII: "q" int64, "d" double,
//                      "xxxxxxx?" bool (in the slot's last byte), "xxxxxx?x" None, "<n>s" str/bytes
//   N bytes            each item's type code: 0 number/bool, 1 str (UTF-8), 2 bytes, 3 None
//
// Every slot offset is a multiple of 8 and the data area starts at (N + 2) * 8, so struct's
// native alignment never pads. Slots never grow: an item may change type (CPython allows it) but
// a string or bytes value must fit the slot the list was created with.
import { endianness } from "node:os";
import { ArgumentError, ErrorCodes, SharedMemoryError } from "../errors.js";
import { describe } from "../validate.js";

/**
 * What a ShareableList holds (Python's int/float, int, bool, str, bytes and None).
 *
 * @example
 * ```ts
 * import { ShareableList, type ShareableItem } from "multiproc/shared-memory";
 * const items: ShareableItem[] = [1, 2n, true, "text", new Uint8Array(2), null];
 * const list = new ShareableList(items);
 * ```
 */
export type ShareableItem = number | bigint | boolean | string | Uint8Array | null;

// Struct's native byte order for the numbers; formats are byte strings and read as little-endian
// 32-bit words against the constants below whatever the platform.
export const LE = endianness() === "LE";
export const ALIGN = 8;
export const TWO_32 = 4294967296;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
// A format is at most 8 characters ("<n>s" included), which caps a string or bytes slot.
const MAX_SLOT = 9_999_992;

export const CODE_VALUE = 0;
export const CODE_STR = 1;
export const CODE_BYTES = 2;
export const CODE_NONE = 3;

// The fixed formats as two little-endian words: "q", "d", "xxxxxxx?", "xxxxxx?x".
export const Q0 = 0x71;
export const D0 = 0x64;
export const XXXX = 0x78787878;
export const BOOL1 = 0x3f787878;
export const NONE1 = 0x783f7878;

// A slot's kind decided from its format word pair.
export enum Kind {
  Int,
  Double,
  Bool,
  None,
  Text,
  Unknown,
}

/** Slot size for `length` bytes of string or bytes: CPython's 8 * (length // 8 + 1). */
function slotFor(length: number): number {
  return ALIGN * (Math.floor(length / ALIGN) + 1);
}

function tooLarge(length: number): SharedMemoryError {
  return new SharedMemoryError(
    `a string or bytes item may take at most ${MAX_SLOT - 1} bytes (CPython's 8-character format limit), got ${length}`,
    { code: ErrorCodes.SHM_ITEM_TOO_LARGE },
  );
}

export function badLayout(name: string, why: string): SharedMemoryError {
  return new SharedMemoryError(`'${name}' does not hold a ShareableList: ${why}`, { code: ErrorCodes.SHM_BAD_LAYOUT });
}

export function checkBigInt(value: bigint): bigint {
  if (value < INT64_MIN || value > INT64_MAX) {
    throw new ArgumentError(`value ${value} does not fit a signed 64-bit integer (CPython's "q")`, ErrorCodes.OUT_OF_RANGE);
  }
  return value;
}

export function isIntNumber(value: number): boolean {
  return Number.isSafeInteger(value) && !Object.is(value, -0);
}

export function unsupported(value: unknown): ArgumentError {
  return new ArgumentError(
    `a ShareableList item must be a number, bigint, boolean, string, Uint8Array or null, got ${describe(value)}`,
    ErrorCodes.INVALID_ARG_TYPE,
  );
}

/** The format string and the slot size a new item gets, or a thrown error for an item it cannot hold. */
export function planItem(item: unknown): { format: string; code: number; slot: number; encoded?: Uint8Array } {
  switch (typeof item) {
    case "number":
      return { format: isIntNumber(item) ? "q" : "d", code: CODE_VALUE, slot: ALIGN };
    case "bigint":
      checkBigInt(item);
      return { format: "q", code: CODE_VALUE, slot: ALIGN };
    case "boolean":
      return { format: "xxxxxxx?", code: CODE_VALUE, slot: ALIGN };
    case "string": {
      const encoded = Buffer.from(item, "utf8");
      const slot = slotFor(encoded.length);
      if (slot > MAX_SLOT) throw tooLarge(encoded.length);
      return { format: `${slot}s`, code: CODE_STR, slot, encoded };
    }
    case "object":
      if (item === null) return { format: "xxxxxx?x", code: CODE_NONE, slot: ALIGN };
      if (item instanceof Uint8Array) {
        const slot = slotFor(item.length);
        if (slot > MAX_SLOT) throw tooLarge(item.length);
        return { format: `${slot}s`, code: CODE_BYTES, slot, encoded: item };
      }
      throw unsupported(item);
    default:
      throw unsupported(item);
  }
}

export function equal(a: ShareableItem, b: unknown): boolean {
  if (a instanceof Uint8Array) {
    if (!(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  // 5 and 5n are the same item (a bigint that fits reads back as a number); NaN equals nothing.
  if ((typeof a === "bigint" && typeof b === "number") || (typeof a === "number" && typeof b === "bigint")) return a == b;
  return a === b;
}

export function kindOf(w0: number, w1: number): Kind {
  if (w1 === 0 && w0 === Q0) return Kind.Int;
  if (w1 === 0 && w0 === D0) return Kind.Double;
  if (w0 === XXXX) return w1 === BOOL1 ? Kind.Bool : w1 === NONE1 ? Kind.None : Kind.Unknown;
  const first = w0 & 0xff;
  return first >= 0x30 && first <= 0x39 ? Kind.Text : Kind.Unknown;
}

/** The width in "<n>s" at `formatAt` (digits, 's', NUL padding), or -1 when it is not that. */
export function textWidth(bytes: Uint8Array, formatAt: number): number {
  let width = 0;
  for (let i = 0; i < ALIGN; i++) {
    const c = bytes[formatAt + i]!;
    if (c >= 0x30 && c <= 0x39) {
      width = width * 10 + (c - 0x30);
    } else if (c === 0x73 && i > 0) {
      for (let j = i + 1; j < ALIGN; j++) if (bytes[formatAt + j] !== 0) return -1;
      return width;
    } else {
      return -1;
    }
  }
  return -1;
}

export function setFixed(view: DataView, formatAt: number, w0: number, w1: number): void {
  view.setUint32(formatAt, w0, true);
  view.setUint32(formatAt + 4, w1, true);
}

/** Writes a fresh item into its slot: `width` bytes, NUL-padded like struct.pack. */
export function writeValue(view: DataView, bytes: Buffer, at: number, width: number, item: ShareableItem, encoded: Uint8Array | undefined): void {
  if (encoded !== undefined) {
    bytes.set(encoded, at);
    bytes.fill(0, at + encoded.length, at + width);
    return;
  }
  switch (typeof item) {
    case "number":
      if (isIntNumber(item)) view.setBigInt64(at, BigInt(item), LE);
      else view.setFloat64(at, item, LE);
      return;
    case "bigint":
      view.setBigInt64(at, item, LE);
      return;
    case "boolean":
      bytes.fill(0, at, at + 7);
      bytes[at + 7] = item ? 1 : 0;
      return;
    default:
      bytes.fill(0, at, at + ALIGN);
  }
}

/** Strings up to this many bytes are encoded and decoded in JS, longer ones by Buffer (C++). */
export const SHORT = 32;

export function isAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** UTF-8 bytes [start, end) as a string; short ASCII runs are decoded by hand. */
export function decodeUtf8(u8: Uint8Array, bytes: Buffer, start: number, end: number): string {
  if (end - start > SHORT) return bytes.toString("utf8", start, end);
  let out = "";
  for (let i = start; i < end; i++) {
    const c = u8[i]!;
    if (c >= 0x80) return bytes.toString("utf8", start, end);
    out += String.fromCharCode(c);
  }
  return out;
}
