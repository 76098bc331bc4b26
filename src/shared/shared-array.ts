// SharedArray and RawArray: a fixed-length array of one typecode in shared memory (Python's
// multiprocessing.Array, renamed so it does not shadow the global Array, and RawArray).
// Indices may be negative (from the end, as in Python); `slice(a, b)` follows Array#slice;
// `set(values, offset)` writes a range, like TypedArray#set. SharedArray takes its lock (an RLock
// unless told otherwise) for each get/set/slice and for iteration, which walks a snapshot.
import { ArgumentError, ErrorCodes } from "../errors.js";
import type { Lock } from "../sync/lock.js";
import type { RLock } from "../sync/rlock.js";
import { kReduce, registerHandleType, type Reduced, type Transport } from "../transport/handles.js";
import { checkInteger, describe } from "../validate.js";
import { Block, closedError, kBlock, keepAlive, type BlockHandle } from "./block.js";
import { checkLockOption, LOCK_SLOT, locked, makeLock, noLock, type SynchronizedOptions } from "./synchronized.js";
import { decode, encode, formatItem, typeInfo, type AnyView, type TypeInfo, type Typecode, type ValueType, type ViewType } from "./typecodes.js";

const inspect = Symbol.for("nodejs.util.inspect.custom");
const MAX_LENGTH = 2 ** 32;

/**
 * What SharedArray and RawArray are made from: a length (zero-filled) or the initial items.
 *
 * @example
 * ```ts
 * import { SharedArray, type SizeOrSequence } from "multiproc";
 * const init: SizeOrSequence<"d"> = [1.5, 2.5];
 * const arr = new SharedArray("d", init);
 * const zeros = new SharedArray("d", 10);
 * ```
 */
export type SizeOrSequence<T extends Typecode> = number | Iterable<ValueType<T>> | ArrayLike<ValueType<T>>;

interface RawArrayState {
  block: BlockHandle;
  typecode: Typecode;
  length: number;
  /** Byte offset of the elements in the block (LOCK_SLOT when the block also holds its lock). */
  offset: number;
}

interface SharedArrayState {
  raw: RawArray;
  lock: Lock | RLock | null;
}

let adoptingRaw: { block: Block; length: number; offset: number } | undefined;
// Set by SharedArray just before it makes its RawArray: leave room for the default lock.
let reserving = false;
let adoptingShared: SharedArrayState | undefined;

function toItems(sizeOrSequence: unknown): { length: number; items: unknown[] | undefined } {
  if (typeof sizeOrSequence === "number") {
    return { length: checkInteger(sizeOrSequence, "size", 0, MAX_LENGTH), items: undefined };
  }
  if (typeof sizeOrSequence === "string") return { length: sizeOrSequence.length, items: [...sizeOrSequence] };
  if (typeof sizeOrSequence === "object" && sizeOrSequence !== null) {
    if (Symbol.iterator in sizeOrSequence) {
      const items = [...(sizeOrSequence as Iterable<unknown>)];
      return { length: items.length, items };
    }
    if ("length" in sizeOrSequence) {
      const items = Array.from(sizeOrSequence as ArrayLike<unknown>);
      return { length: items.length, items };
    }
  }
  throw new ArgumentError(`sizeOrSequence must be a length or a sequence of values, got ${describe(sizeOrSequence)}`, ErrorCodes.INVALID_ARG_TYPE);
}

/**
 * A shared array without a lock (Python's RawArray).
 *
 * @example
 * ```ts
 * import { RawArray } from "multiproc";
 * const samples = new RawArray("d", 1024); // 1024 zeros, no lock
 * samples.view.fill(1.5);
 * ```
 */
export class RawArray<T extends Typecode = Typecode> implements Disposable, Iterable<ValueType<T>> {
  /** The typecode it was made with. */
  readonly typecode: T;
  /** How many items. */
  readonly length: number;
  readonly #type: TypeInfo;
  readonly #block: Block;
  readonly #offset: number;
  readonly #view: AnyView;
  #userView: AnyView | undefined;
  #closed = false;

  constructor(typecode: T, sizeOrSequence: SizeOrSequence<T>) {
    this.#type = typeInfo(typecode);
    this.typecode = typecode;
    const received = adoptingRaw;
    adoptingRaw = undefined;
    const reserve = reserving;
    reserving = false;
    if (received !== undefined) {
      this.#block = received.block;
      this.length = received.length;
      this.#offset = received.offset;
      this.#view = new this.#type.View(this.#block.buffer, this.#block.byteOffset + this.#offset, this.length);
      return;
    }
    const { length, items } = toItems(sizeOrSequence);
    const stored = items?.map((v, i) => encode(this.#type, v, `sizeOrSequence[${i}]`));
    this.length = length;
    this.#offset = reserve ? LOCK_SLOT : 0;
    this.#block = Block.create(this.#offset + length * this.#type.bytes, this);
    this.#view = new this.#type.View(this.#block.buffer, this.#block.byteOffset + this.#offset, length);
    if (stored !== undefined) (this.#view as { set(a: ArrayLike<number | bigint>): void }).set(stored);
  }

  #check(): void {
    if (this.#closed) throw closedError("RawArray");
  }

  #index(i: unknown): number {
    const n = this.length;
    if (typeof i !== "number" || !Number.isInteger(i)) {
      throw new ArgumentError(`index must be an integer, got ${describe(i)}`, ErrorCodes.INVALID_ARG_TYPE);
    }
    const at = i < 0 ? i + n : i;
    if (at < 0 || at >= n) throw new ArgumentError(`index ${i} is out of range for an array of length ${n}`, ErrorCodes.OUT_OF_RANGE);
    return at;
  }

  /** The element at `i` (negative counts from the end). */
  get(i: number): ValueType<T> {
    this.#check();
    return decode(this.#type, this.#view[this.#index(i)]!) as ValueType<T>;
  }

  /** Sets one element, or with an array-like first, a range starting at `offset` (like TypedArray#set). */
  set(i: number, value: ValueType<T>): void;
  /** Sets item `i` (`a[i] = v`), or, given an array, items from `i` on. */
  set(values: Iterable<ValueType<T>> | ArrayLike<ValueType<T>>, offset?: number): void;
  set(a: unknown, b?: unknown): void {
    this.#check();
    if (typeof a === "number") {
      const at = this.#index(a);
      this.#view[at] = encode(this.#type, b, "value");
      return;
    }
    const offset = b === undefined ? 0 : checkInteger(b, "offset", 0, this.length);
    const { items } = toItems(a);
    if (items === undefined || offset + items.length > this.length) {
      throw new ArgumentError(
        `${items?.length ?? 0} values do not fit at offset ${offset} of an array of length ${this.length}`,
        ErrorCodes.OUT_OF_RANGE,
      );
    }
    const stored = items.map((v, k) => encode(this.#type, v, `values[${k}]`));
    (this.#view as { set(a: ArrayLike<number | bigint>, offset: number): void }).set(stored, offset);
  }

  /** A copy of elements [start, end) as a plain array (Array#slice's rules for the bounds). */
  slice(start?: number, end?: number): ValueType<T>[] {
    this.#check();
    if (start !== undefined) checkInteger(start, "start");
    if (end !== undefined) checkInteger(end, "end");
    const part = Array.from(this.#view.subarray(start ?? 0, end ?? this.length) as ArrayLike<number | bigint>);
    return (this.#type.kind === "char" ? part.map((c) => decode(this.#type, c)) : part) as ValueType<T>[];
  }

  /** A typed array over the shared memory itself (no copy, no lock; valid until the array is closed). */
  get view(): ViewType<T> {
    this.#check();
    // Its own array, holding the block: the block is not freed while the view is reachable.
    this.#userView ??= keepAlive(new this.#type.View(this.#block.buffer, this.#view.byteOffset, this.length), this.#block);
    return this.#userView as ViewType<T>;
  }

  *[Symbol.iterator](): Iterator<ValueType<T>> {
    yield* this.slice();
  }

  /** Stops using it here; the last holder in any process frees its memory (see shared/block.ts). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#block.release();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [kReduce](transport: Transport): Reduced {
    this.#check();
    const state: RawArrayState = { block: this.#block.handle(transport), typecode: this.typecode, length: this.length, offset: this.#offset };
    return { type: "RawArray", state };
  }

  toString(): string {
    return `RawArray('${this.typecode}', [${this.slice().map((v) => formatItem(this.#type, v)).join(", ")}])`;
  }

  [inspect](): string {
    return this.toString();
  }

  /** @internal */
  get [kBlock](): Block {
    return this.#block;
  }

  /** @internal */
  static adopt(block: Block, length: number, offset: number): void {
    adoptingRaw = { block, length, offset };
  }
}

/**
 * A shared array guarded by a lock (Python's multiprocessing.Array).
 *
 * @example
 * ```ts
 * import { isMainProcess, Process, SharedArray } from "multiproc";
 *
 * export function negate(arr: SharedArray<"i">) {
 *   for (let i = 0; i < arr.length; i++) arr.set(i, -arr.get(i));
 * }
 *
 * if (isMainProcess()) {
 *   const arr = new SharedArray("i", [0, 1, 2, 3]); // Python's Array('i', range(4))
 *   const p = new Process({ target: negate, args: [arr] });
 *   p.start();
 *   await p.join();
 *   console.log([...arr]); // [ 0, -1, -2, -3 ]
 *   console.log(arr.view); // Int32Array over the shared memory
 * }
 * ```
 */
export class SharedArray<T extends Typecode = Typecode> implements Disposable, Iterable<ValueType<T>> {
  readonly #raw: RawArray<T>;
  readonly #lock: Lock | RLock | null;
  readonly #ownLock: boolean;

  constructor(typecode: T, sizeOrSequence: SizeOrSequence<T>, options?: SynchronizedOptions) {
    const received = adoptingShared;
    adoptingShared = undefined;
    if (received !== undefined) {
      this.#raw = received.raw as RawArray<T>;
      this.#lock = received.lock;
      this.#ownLock = false;
    } else {
      const option = checkLockOption(options);
      reserving = option === true;
      this.#raw = new RawArray(typecode, sizeOrSequence);
      this.#lock = makeLock(option, this.#raw[kBlock]);
      this.#ownLock = option === true;
    }
  }

  /** The typecode it was made with. */
  get typecode(): T {
    return this.#raw.typecode;
  }

  /** How many items. */
  get length(): number {
    return this.#raw.length;
  }

  /** Item `i` (Python's `a[i]`), read under the lock. */
  get(i: number): ValueType<T> {
    return locked(this.#lock, () => this.#raw.get(i));
  }

  /** Sets item `i` (`a[i] = v`), or, given an array, items from `offset` on; under the lock. */
  set(i: number, value: ValueType<T>): void;
  set(values: Iterable<ValueType<T>> | ArrayLike<ValueType<T>>, offset?: number): void;
  set(a: unknown, b?: unknown): void {
    locked(this.#lock, () => (this.#raw.set as (a: unknown, b?: unknown) => void)(a, b));
  }

  /** Items `start` to `end` as a plain array (`a[start:end]`). */
  slice(start?: number, end?: number): ValueType<T>[] {
    return locked(this.#lock, () => this.#raw.slice(start, end));
  }

  /** A typed array over the shared memory itself: no lock; hold getLock() around compound use. */
  get view(): ViewType<T> {
    return this.#raw.view;
  }

  /** Iterates over a snapshot taken under the lock. */
  *[Symbol.iterator](): Iterator<ValueType<T>> {
    yield* this.slice();
  }

  /** The lock that guards the array (Python's get_lock()). */
  getLock(): Lock | RLock {
    if (this.#lock === null) throw noLock("SharedArray");
    return this.#lock;
  }

  /** The same array without its lock (Python's get_obj()). */
  getObj(): RawArray<T> {
    return this.#raw;
  }

  /** Unmaps this process's view of the array. */
  close(): void {
    this.#raw.close();
    if (this.#ownLock) this.#lock?.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [kReduce](): Reduced {
    return { type: "SharedArray", state: { raw: this.#raw, lock: this.#lock } satisfies SharedArrayState };
  }

  toString(): string {
    const t = typeInfo(this.typecode);
    return `SharedArray('${this.typecode}', [${this.slice().map((v) => formatItem(t, v)).join(", ")}])`;
  }

  [inspect](): string {
    return this.toString();
  }

  /** @internal */
  static adopt(state: SharedArrayState): void {
    adoptingShared = state;
  }
}

registerHandleType("RawArray", (state) => {
  const s = state as Partial<RawArrayState> | null;
  if (s?.block === undefined || s.typecode === undefined || typeof s.length !== "number") {
    throw new ArgumentError("malformed RawArray handle", ErrorCodes.UNSERIALIZABLE);
  }
  RawArray.adopt(Block.fromHandle(s.block), s.length, s.offset ?? 0);
  return new RawArray(s.typecode, 0);
});

registerHandleType("SharedArray", (state) => {
  const s = state as Partial<SharedArrayState> | null;
  if (!(s?.raw instanceof RawArray)) throw new ArgumentError("malformed SharedArray handle", ErrorCodes.UNSERIALIZABLE);
  SharedArray.adopt({ raw: s.raw, lock: s.lock ?? null });
  return new SharedArray(s.raw.typecode, 0);
});
