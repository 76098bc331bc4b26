// The server side of SyncManager.Value and SyncManager.Array. As in CPython's managers, Value is
// a plain holder (its typecode is informational: any value may be stored), while Array keeps
// numbers of its typecode in a typed array (Python's array.array), so writes wrap or round the
// way the typecode says.
import { ArgumentError, ErrorCodes } from "../../errors.js";
import { describe } from "../../validate.js";

type NumericArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Float32Array | Float64Array;
type ArrayCtor = new (length: number) => NumericArray;

/** Python's typecodes (and their names) for Array; 64-bit integers are BigInt. */
const TYPECODES: Record<string, ArrayCtor> = {
  b: Int8Array, B: Uint8Array, c: Uint8Array, h: Int16Array, H: Uint16Array, i: Int32Array, I: Uint32Array,
  l: BigInt64Array, L: BigUint64Array, q: BigInt64Array, Q: BigUint64Array, f: Float32Array, d: Float64Array,
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array,
  uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array, float32: Float32Array, float64: Float64Array,
};

export function arrayCtor(typecode: unknown): ArrayCtor {
  const ctor = typeof typecode === "string" ? TYPECODES[typecode] : undefined;
  if (ctor === undefined) {
    throw new ArgumentError(`typecode must be one of ${Object.keys(TYPECODES).join(" ")}, got ${describe(typecode)}`, ErrorCodes.INVALID_ARG_VALUE);
  }
  return ctor;
}

export class ServerValue {
  readonly typecode: string;
  #value: unknown;

  constructor(typecode: unknown, value: unknown) {
    if (typeof typecode !== "string") throw new ArgumentError(`typecode must be a string, got ${describe(typecode)}`, ErrorCodes.INVALID_ARG_TYPE);
    this.typecode = typecode;
    this.#value = value;
  }

  get(): unknown {
    return this.#value;
  }

  set(value: unknown): void {
    this.#value = value;
  }
}

export class ServerArray {
  readonly typecode: string;
  readonly #items: NumericArray;

  constructor(typecode: unknown, init: unknown) {
    const Ctor = arrayCtor(typecode);
    this.typecode = typecode as string;
    if (typeof init === "number") {
      if (!Number.isInteger(init) || init < 0) throw new ArgumentError(`size must be an integer >= 0, got ${init}`, ErrorCodes.OUT_OF_RANGE);
      this.#items = new Ctor(init);
    } else if (Array.isArray(init) || ArrayBuffer.isView(init)) {
      const values = [...(init as ArrayLike<unknown> & Iterable<unknown>)];
      this.#items = new Ctor(values.length);
      values.forEach((v, i) => this.#put(i, v));
    } else {
      throw new ArgumentError(`Array takes a size or a sequence, got ${describe(init)}`, ErrorCodes.INVALID_ARG_TYPE);
    }
  }

  #put(i: number, value: unknown): void {
    const big = this.#items instanceof BigInt64Array || this.#items instanceof BigUint64Array;
    if (big ? typeof value !== "bigint" && typeof value !== "number" : typeof value !== "number") {
      throw new ArgumentError(`Array('${this.typecode}') holds ${big ? "bigints" : "numbers"}, got ${describe(value)}`, ErrorCodes.INVALID_ARG_TYPE);
    }
    (this.#items as unknown as (number | bigint)[])[i] = big ? BigInt(value as number) : (value as number);
  }

  #index(i: unknown): number {
    const n = this.#items.length;
    if (typeof i !== "number" || !Number.isInteger(i)) throw new ArgumentError(`indices must be integers, got ${describe(i)}`, ErrorCodes.INVALID_ARG_TYPE);
    const j = i < 0 ? i + n : i;
    if (j < 0 || j >= n) throw new ArgumentError(`array index ${i} out of range (length ${n})`, ErrorCodes.OUT_OF_RANGE);
    return j;
  }

  get(i: number): number | bigint {
    return this.#items[this.#index(i)]!;
  }

  set(i: number, value: number | bigint): void {
    this.#put(this.#index(i), value);
  }

  length(): number {
    return this.#items.length;
  }

  toArray(): (number | bigint)[] {
    return [...this.#items];
  }

  slice(start?: number, end?: number): (number | bigint)[] {
    return [...this.#items.slice(start, end)];
  }
}
