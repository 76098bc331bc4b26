// Python's typecodes for Value and SharedArray (array module / ctypes letters) and readable names,
// with their sizes, typed-array views and the checks a value must pass before it is stored.
// On Linux (LP64) C's long is 64 bits, so 'l' and 'L' are 64-bit like 'q' and 'Q'; every 64-bit
// integer is a bigint. 'c' is one byte, read and written as a one-character string (Python's b'x').
import { ArgumentError, ErrorCodes } from "../errors.js";
import { describe } from "../validate.js";

export type IntegerTypecode = "b" | "B" | "h" | "H" | "i" | "I" | "int8" | "uint8" | "int16" | "uint16" | "int32" | "uint32";
export type BigIntTypecode = "l" | "L" | "q" | "Q" | "int64" | "uint64";
export type FloatTypecode = "f" | "d" | "float32" | "float64";
export type CharTypecode = "c";
/**
 * A typecode: Python's `b B h H i I l L q Q f d c`, or a name from `int8` to `float64`. `l`, `L`, `q` and `Q` are 64-bit: their values are bigint.
 *
 * @example
 * ```ts
 * import { SharedArray, type Typecode } from "multiproc";
 * const code: Typecode = "d"; // or "float64"; Python's b B h H i I l L q Q f d c
 * const arr = new SharedArray(code, 4);
 * ```
 */
export type Typecode = IntegerTypecode | BigIntTypecode | FloatTypecode | CharTypecode;
/**
 * The typecodes with lock-free add / sub / compareExchange.
 *
 * @example
 * ```ts
 * import { Value, type AtomicTypecode } from "multiproc";
 * const code: AtomicTypecode = "i";
 * const v = new Value(code, 0);
 * v.compareExchange(0, 5); // lock-free
 * ```
 */
export type AtomicTypecode = IntegerTypecode | BigIntTypecode;

/**
 * What `.value`, `get(i)` and friends hold for a typecode.
 *
 * @example
 * ```ts
 * import type { ValueType } from "multiproc";
 * const small: ValueType<"i"> = 1;    // number
 * const wide: ValueType<"q"> = 1n;    // bigint: 'l', 'L', 'q', 'Q' are 64-bit
 * ```
 */
export type ValueType<T extends Typecode> = T extends BigIntTypecode ? bigint : T extends CharTypecode ? string : number;

/**
 * The typed array `.view` gives for a typecode.
 *
 * @example
 * ```ts
 * import { SharedArray, type ViewType } from "multiproc";
 * const view: ViewType<"d"> = new SharedArray("d", 4).view; // a Float64Array
 * ```
 */
export type ViewType<T extends Typecode> = T extends "b" | "int8"
  ? Int8Array
  : T extends "B" | "uint8" | "c"
    ? Uint8Array
    : T extends "h" | "int16"
      ? Int16Array
      : T extends "H" | "uint16"
        ? Uint16Array
        : T extends "i" | "int32"
          ? Int32Array
          : T extends "I" | "uint32"
            ? Uint32Array
            : T extends "l" | "q" | "int64"
              ? BigInt64Array
              : T extends "L" | "Q" | "uint64"
                ? BigUint64Array
                : T extends "f" | "float32"
                  ? Float32Array
                  : T extends "d" | "float64"
                    ? Float64Array
                    : never;

export type AnyView =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

type ViewConstructor = new (buffer: SharedArrayBuffer, byteOffset: number, length: number) => AnyView;

export interface TypeInfo {
  /** The Python letter. */
  readonly code: string;
  readonly name: string;
  readonly bytes: number;
  readonly View: ViewConstructor;
  readonly kind: "int" | "bigint" | "float" | "char";
  readonly min: number | bigint;
  readonly max: number | bigint;
}

function info(code: string, name: string, View: ViewConstructor, bytes: number, kind: TypeInfo["kind"], min: number | bigint, max: number | bigint): TypeInfo {
  return Object.freeze({ code, name, View, bytes, kind, min, max });
}

const I64 = 1n << 63n;
const TABLE: readonly TypeInfo[] = [
  info("b", "int8", Int8Array, 1, "int", -128, 127),
  info("B", "uint8", Uint8Array, 1, "int", 0, 255),
  info("h", "int16", Int16Array, 2, "int", -32768, 32767),
  info("H", "uint16", Uint16Array, 2, "int", 0, 65535),
  info("i", "int32", Int32Array, 4, "int", -2147483648, 2147483647),
  info("I", "uint32", Uint32Array, 4, "int", 0, 4294967295),
  info("q", "int64", BigInt64Array, 8, "bigint", -I64, I64 - 1n),
  info("Q", "uint64", BigUint64Array, 8, "bigint", 0n, 2n * I64 - 1n),
  info("f", "float32", Float32Array, 4, "float", -Infinity, Infinity),
  info("d", "float64", Float64Array, 8, "float", -Infinity, Infinity),
  info("c", "char", Uint8Array, 1, "char", 0, 255),
];

const byCode = new Map<string, TypeInfo>();
for (const t of TABLE) {
  byCode.set(t.code, t);
  if (t.code !== "c") byCode.set(t.name, t);
}
byCode.set("l", byCode.get("q")!);
byCode.set("L", byCode.get("Q")!);

const KNOWN = "b B h H i I l L q Q f d c, or int8 uint8 int16 uint16 int32 uint32 int64 uint64 float32 float64";

export function typeInfo(typecode: unknown): TypeInfo {
  const t = typeof typecode === "string" ? byCode.get(typecode) : undefined;
  if (t === undefined) {
    throw new ArgumentError(`typecode must be one of ${KNOWN}; got ${describe(typecode)}`, ErrorCodes.INVALID_TYPECODE);
  }
  return t;
}

/** Checks `value` against the type and returns what the view stores (number or bigint). */
export function encode(t: TypeInfo, value: unknown, what: string): number | bigint {
  switch (t.kind) {
    case "int":
      if (typeof value !== "number" || !Number.isInteger(value)) {
        throw new ArgumentError(`${what} must be an integer for typecode '${t.code}' (${t.name}), got ${describe(value)}`, ErrorCodes.INVALID_ARG_TYPE);
      }
      if (value < (t.min as number) || value > (t.max as number)) {
        throw new ArgumentError(`${what} must be between ${t.min} and ${t.max} for typecode '${t.code}' (${t.name}), got ${value}`, ErrorCodes.OUT_OF_RANGE);
      }
      return value;
    case "bigint":
      if (typeof value !== "bigint") {
        throw new ArgumentError(`${what} must be a bigint for typecode '${t.code}' (${t.name}), got ${describe(value)}`, ErrorCodes.INVALID_ARG_TYPE);
      }
      if (value < (t.min as bigint) || value > (t.max as bigint)) {
        throw new ArgumentError(`${what} must be between ${t.min} and ${t.max} for typecode '${t.code}' (${t.name}), got ${value}`, ErrorCodes.OUT_OF_RANGE);
      }
      return value;
    case "float":
      if (typeof value !== "number") {
        throw new ArgumentError(`${what} must be a number for typecode '${t.code}' (${t.name}), got ${describe(value)}`, ErrorCodes.INVALID_ARG_TYPE);
      }
      return value;
    case "char":
      if (typeof value !== "string" || value.length !== 1 || value.charCodeAt(0) > 255) {
        throw new ArgumentError(`${what} must be a one-character string (code 0 to 255) for typecode 'c', got ${describe(value)}`, ErrorCodes.INVALID_ARG_TYPE);
      }
      return value.charCodeAt(0);
  }
}

/** What a stored element reads as. */
export function decode(t: TypeInfo, raw: number | bigint): number | bigint | string {
  return t.kind === "char" ? String.fromCharCode(raw as number) : raw;
}

/** The zero of a type, as `.value` reads it. */
export function zero(t: TypeInfo): number | bigint | string {
  return t.kind === "bigint" ? 0n : t.kind === "char" ? "\0" : 0;
}

/** Whether lock-free Atomics work on the type (every integer type, not floats or chars). */
export function isAtomic(t: TypeInfo): boolean {
  return t.kind === "int" || t.kind === "bigint";
}

export function checkAtomic(t: TypeInfo, op: string): void {
  if (!isAtomic(t)) {
    throw new ArgumentError(`${op} needs an integer typecode; this one is '${t.code}' (${t.name})`, ErrorCodes.INVALID_TYPECODE);
  }
}

export function formatItem(t: TypeInfo, v: number | bigint | string): string {
  if (t.kind === "char") return JSON.stringify(v);
  if (t.kind === "bigint") return `${v}n`;
  return String(v);
}
