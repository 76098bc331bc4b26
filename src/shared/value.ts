// Value and RawValue: one number, bigint or byte in shared memory (Python's multiprocessing.Value
// and RawValue). `new Value("d", 0)` guards every access with its lock (an RLock unless told
// otherwise); RawValue has none. Integer types also have lock-free atomic add, sub and
// compareExchange (beyond Python), which ignore the lock and are exact across processes.
import { ArgumentError, ErrorCodes } from "../errors.js";
import type { Lock } from "../sync/lock.js";
import type { RLock } from "../sync/rlock.js";
import { kReduce, registerHandleType, type Reduced, type Transport } from "../transport/handles.js";
import { Block, closedError, kBlock, keepAlive, type BlockHandle } from "./block.js";
import { kEnter, kExit, kOwned } from "../sync/hold.js";
import { checkLockOption, LOCK_SLOT, makeLock, noLock, type SynchronizedOptions } from "./synchronized.js";
import {
  checkAtomic,
  decode,
  encode,
  formatItem,
  isAtomic,
  typeInfo,
  type AnyView,
  type AtomicTypecode,
  type TypeInfo,
  type Typecode,
  type ValueType,
} from "./typecodes.js";

const inspect = Symbol.for("nodejs.util.inspect.custom");

interface RawValueState {
  block: BlockHandle;
  typecode: Typecode;
  /** Byte offset of the value in the block (LOCK_SLOT when the block also holds its lock). */
  offset: number;
}

interface ValueState {
  raw: RawValue;
  lock: Lock | RLock | null;
}

let adoptingRaw: { block: Block; offset: number } | undefined;
// Set by Value just before it makes its RawValue: leave room for the default lock in the block.
let reserving = false;
let adoptingValue: ValueState | undefined;

/**
 * A shared value without a lock (Python's RawValue).
 *
 * @example
 * ```ts
 * import { RawValue } from "multiproc";
 * const flag = new RawValue("b", 0);
 * flag.value = 1; // no lock: use it for values one process writes
 * ```
 */
export class RawValue<T extends Typecode = Typecode> implements Disposable {
  readonly typecode: T;
  readonly #type: TypeInfo;
  readonly #block: Block;
  readonly #offset: number;
  readonly #view: AnyView;
  // Fast paths: Int8..Uint32 views read and write through Atomics on numbers, checked inline.
  readonly #small: Int32Array | undefined;
  readonly #min: number;
  readonly #max: number;
  #userView: AnyView | undefined;
  #closed = false;

  constructor(typecode: T, initial?: ValueType<T>) {
    this.#type = typeInfo(typecode);
    this.typecode = typecode;
    const stored = initial === undefined ? undefined : encode(this.#type, initial, "initial");
    const received = adoptingRaw;
    adoptingRaw = undefined;
    const reserve = reserving;
    reserving = false;
    this.#offset = received?.offset ?? (reserve ? LOCK_SLOT : 0);
    this.#block = received?.block ?? Block.create(this.#offset + 8, this);
    this.#view = new this.#type.View(this.#block.buffer, this.#block.byteOffset + this.#offset, 1);
    const small = this.#type.kind === "int";
    this.#small = small ? (this.#view as Int32Array) : undefined;
    this.#min = small ? (this.#type.min as number) : 0;
    this.#max = small ? (this.#type.max as number) : 0;
    if (stored !== undefined) this.#view[0] = stored;
  }

  #check(): void {
    if (this.#closed) throw closedError("RawValue");
  }

  /** The value (a bigint for the 64-bit typecodes 'l', 'L', 'q', 'Q'). */
  get value(): ValueType<T> {
    this.#check();
    if (this.#small !== undefined) return Atomics.load(this.#small, 0) as ValueType<T>;
    const t = this.#type;
    const raw = isAtomic(t) ? Atomics.load(this.#view as Int32Array, 0) : this.#view[0]!;
    return decode(t, raw) as ValueType<T>;
  }

  set value(v: ValueType<T>) {
    this.#check();
    const small = this.#small;
    if (small !== undefined && typeof v === "number" && Number.isInteger(v) && v >= this.#min && v <= this.#max) {
      small[0] = v; // a plain store: ordered by the lock when there is one, atomic (aligned) anyway
      return;
    }
    const stored = encode(this.#type, v, "value");
    if (isAtomic(this.#type)) Atomics.store(this.#view as Int32Array, 0, stored as number);
    else this.#view[0] = stored;
  }

  /** A one-element typed array over the shared memory (valid until the value is closed). */
  get view(): AnyView {
    this.#check();
    // Its own array, holding the block: the block is not freed while the view is reachable.
    this.#userView ??= keepAlive(new this.#type.View(this.#block.buffer, this.#view.byteOffset, 1), this.#block);
    return this.#userView;
  }

  #atomic(op: string, n: unknown): number | bigint {
    this.#check();
    checkAtomic(this.#type, op);
    return encodeOperand(this.#type, n, op);
  }

  /** Atomically adds `n`; returns the value before (like Atomics.add), wrapping at the type's size. */
  add(this: RawValue<AtomicTypecode>, n: ValueType<T>): ValueType<T> {
    const v = this.#atomic("add", n);
    return Atomics.add(this.#view as Int32Array, 0, v as number) as ValueType<T>;
  }

  /** Atomically subtracts `n`; returns the value before. */
  sub(this: RawValue<AtomicTypecode>, n: ValueType<T>): ValueType<T> {
    const v = this.#atomic("sub", n);
    return Atomics.sub(this.#view as Int32Array, 0, v as number) as ValueType<T>;
  }

  /** Stores `replacement` if the value is `expected`; returns the value found (like Atomics). */
  compareExchange(this: RawValue<AtomicTypecode>, expected: ValueType<T>, replacement: ValueType<T>): ValueType<T> {
    const e = this.#atomic("compareExchange", expected);
    const r = encode(this.#type, replacement, "replacement");
    return Atomics.compareExchange(this.#view as Int32Array, 0, e as number, r as number) as ValueType<T>;
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
    const state: RawValueState = { block: this.#block.handle(transport), typecode: this.typecode, offset: this.#offset };
    return { type: "RawValue", state };
  }

  toString(): string {
    return `RawValue('${this.typecode}', ${formatItem(this.#type, this.value)})`;
  }

  [inspect](): string {
    return this.toString();
  }

  /** @internal */
  get [kBlock](): Block {
    return this.#block;
  }

  /** @internal */
  static adopt(block: Block, offset: number): void {
    adoptingRaw = { block, offset };
  }
}

/** An operand of add/sub: in the type, though unsigned types may subtract like Atomics does. */
function encodeOperand(t: TypeInfo, n: unknown, op: string): number | bigint {
  if (t.kind === "bigint" ? typeof n !== "bigint" : typeof n !== "number" || !Number.isInteger(n)) {
    throw new ArgumentError(`the operand of ${op} must be ${t.kind === "bigint" ? "a bigint" : "an integer"} for typecode '${t.code}', got ${String(n)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  return n as number | bigint;
}

/**
 * Options of `new Value(typecode, initial, {...})`: `lock: true` (default, a new RLock), `false` (none) or a Lock to share.
 *
 * @example
 * ```ts
 * import { Lock, Value } from "multiproc";
 * const lock = new Lock();
 * const a = new Value("d", 0, { lock });
 * const b = new Value("d", 0, { lock }); // a and b are guarded together
 * ```
 */
export type ValueOptions = SynchronizedOptions;

/**
 * A shared value guarded by a lock (Python's multiprocessing.Value): `.value` reads and writes
 * under the lock; hold `getLock()` to make a read-modify-write like `v.value += 1` exact.
 *
 * @example
 * ```ts
 * import { isMainProcess, Process, Value } from "multiproc";
 *
 * export function bump(counter: Value<"i">) {
 *   for (let i = 0; i < 1000; i++) counter.add(1); // atomic, no lock needed
 * }
 *
 * if (isMainProcess()) {
 *   const counter = new Value("i", 0);
 *   const ps = [1, 2].map(() => new Process({ target: bump, args: [counter] }));
 *   ps.forEach((p) => p.start());
 *   for (const p of ps) await p.join();
 *   console.log(counter.value); // 2000
 *   const big = new Value("q", 0n); // 'l' and 'q' are 64-bit: their values are bigint
 * }
 * ```
 */
export class Value<T extends Typecode = Typecode> implements Disposable {
  readonly #raw: RawValue<T>;
  readonly #lock: Lock | RLock | null;
  readonly #ownLock: boolean;

  constructor(typecode: T, initial?: ValueType<T>, options?: ValueOptions) {
    const received = adoptingValue;
    adoptingValue = undefined;
    if (received !== undefined) {
      this.#raw = received.raw as RawValue<T>;
      this.#lock = received.lock;
      this.#ownLock = false;
    } else {
      const option = checkLockOption(options);
      reserving = option === true;
      this.#raw = new RawValue(typecode, initial);
      this.#lock = makeLock(option, this.#raw[kBlock]);
      this.#ownLock = option === true;
    }
  }

  /** The typecode it was made with. */
  get typecode(): T {
    return this.#raw.typecode;
  }

  /** The value (a bigint for the 64-bit typecodes 'l', 'L', 'q', 'Q'); reads and writes take the lock. */
  get value(): ValueType<T> {
    const lock = this.#lock;
    if (lock === null || lock[kOwned]()) return this.#raw.value;
    lock[kEnter]();
    try {
      return this.#raw.value;
    } finally {
      lock[kExit]();
    }
  }

  set value(v: ValueType<T>) {
    const lock = this.#lock;
    if (lock === null || lock[kOwned]()) {
      this.#raw.value = v;
      return;
    }
    lock[kEnter]();
    try {
      this.#raw.value = v;
    } finally {
      lock[kExit]();
    }
  }

  /** The lock guarding `.value`; throws ERR_NO_LOCK for { lock: false }. */
  getLock(): Lock | RLock {
    if (this.#lock === null) throw noLock("Value");
    return this.#lock;
  }

  /** The unsynchronized RawValue underneath. */
  getObj(): RawValue<T> {
    return this.#raw;
  }

  /** Lock-free atomic add (integer types); returns the value before. */
  add(this: Value<AtomicTypecode>, n: ValueType<T>): ValueType<T> {
    return this.#raw.add(n as never) as ValueType<T>;
  }

  /** Lock-free atomic subtract (integer types); returns the value before. */
  sub(this: Value<AtomicTypecode>, n: ValueType<T>): ValueType<T> {
    return this.#raw.sub(n as never) as ValueType<T>;
  }

  /** Lock-free compare-and-exchange (integer types); returns the value found. */
  compareExchange(this: Value<AtomicTypecode>, expected: ValueType<T>, replacement: ValueType<T>): ValueType<T> {
    return this.#raw.compareExchange(expected as never, replacement as never) as ValueType<T>;
  }

  /** Stops using it here; the creator unlinks its memory's name and closes a lock it made. */
  close(): void {
    this.#raw.close();
    if (this.#ownLock) this.#lock?.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [kReduce](): Reduced {
    return { type: "Value", state: { raw: this.#raw, lock: this.#lock } satisfies ValueState };
  }

  toString(): string {
    return `Value('${this.typecode}', ${formatItem(typeInfo(this.typecode), this.value)})`;
  }

  [inspect](): string {
    return this.toString();
  }

  /** @internal */
  static adopt(state: ValueState): void {
    adoptingValue = state;
  }
}

registerHandleType("RawValue", (state) => {
  const s = state as Partial<RawValueState> | null;
  if (s?.block === undefined || s.typecode === undefined) throw new ArgumentError("malformed RawValue handle", ErrorCodes.UNSERIALIZABLE);
  RawValue.adopt(Block.fromHandle(s.block), s.offset ?? 0);
  return new RawValue(s.typecode);
});

registerHandleType("Value", (state) => {
  const s = state as Partial<ValueState> | null;
  if (!(s?.raw instanceof RawValue)) throw new ArgumentError("malformed Value handle", ErrorCodes.UNSERIALIZABLE);
  Value.adopt({ raw: s.raw, lock: s.lock ?? null });
  return new Value(s.raw.typecode);
});
