// ShareableList: a fixed-length list of small values laid out in one SharedMemory segment, byte for
// byte as CPython's multiprocessing.shared_memory.ShareableList, so a Python process can open our
// list by name and we can open theirs. The layout and the item codec are in shareable-list-layout.ts.
//
// Choices where JavaScript and Python differ (see docs/design.md, "ShareableList"):
// - A number that is a safe integer (and not -0) is stored as "q", like a Python int; any other
//   number as "d". A bigint is stored as "q" (beyond int64: ERR_OUT_OF_RANGE). Reading "q" gives a
//   number when it is a safe integer and a bigint otherwise, so no value is ever rounded.
// - Trailing NUL bytes of strings and bytes are stripped on read, as CPython does (its padding is
//   NUL, so the layout cannot tell them apart): "a\0" reads back as "a".
// - String slots are sized by UTF-8 length. CPython 3.11 sizes them by characters and so truncates
//   non-ASCII strings it creates (gh-88336, fixed later); lists we create are right for both.
import { inspect } from "node:util";
import { ArgumentError, ErrorCodes, SharedMemoryError, StateError } from "../errors.js";
import { kReduce, registerHandleType, type Reduced } from "../transport/handles.js";
import { checkOptions, describe } from "../validate.js";
import {
  ALIGN,
  badLayout,
  BOOL1,
  checkBigInt,
  CODE_BYTES,
  CODE_NONE,
  CODE_STR,
  CODE_VALUE,
  D0,
  decodeUtf8,
  equal,
  isAscii,
  isIntNumber,
  Kind,
  kindOf,
  LE,
  NONE1,
  planItem,
  Q0,
  setFixed,
  SHORT,
  textWidth,
  TWO_32,
  unsupported,
  writeValue,
  XXXX,
  type ShareableItem,
} from "./shareable-list-layout.js";
import { SharedMemory } from "./shared-memory.js";

export type { ShareableItem };

/**
 * Options of `new ShareableList(sequence, {...})`: the segment's `name` (to create with a name, or to attach with a null sequence).
 *
 * @example
 * ```ts
 * import { ShareableList } from "multiproc/shared-memory";
 * const list = new ShareableList(null, { name: "psm_from_python" }); // made by Python's ShareableList
 * ```
 */
export interface ShareableListOptions {
  /** With a sequence: the name of the new segment (random when absent). Without: the list to open. */
  name?: string;
  /** Let the resource tracker unlink it when the program ends (default: true if created). */
  track?: boolean;
}

interface Views {
  /** For single bytes (a plain Uint8Array: element access is fastest on it). */
  u8: Uint8Array;
  /** For UTF-8 and Latin-1 encoding and decoding. */
  bytes: Buffer;
  /** For numbers, in native order. */
  view: DataView;
}

// Set just before `new ShareableList()` by the reviver, so a received segment is adopted as is.
let adopting: SharedMemory | undefined;

/**
 * A fixed-length list of numbers, bigints, booleans, strings, bytes and nulls in one shared block, with CPython's exact layout (Python's `ShareableList`).
 *
 * @example
 * ```ts
 * import { ShareableList } from "multiproc/shared-memory";
 * const a = new ShareableList(["howdy", new Uint8Array([72, 105]), -273.154, 100, null, true, 42]);
 * a.set(2, -78.5);
 * console.log(a.get(2), a.length, a.index(42)); // -78.5 7 6
 * const b = new ShareableList(null, { name: a.shm.name }); // attach by name (Python can too)
 * b.shm.close();
 * a.shm.close();
 * a.shm.unlink();
 * ```
 */
export class ShareableList implements Disposable, Iterable<ShareableItem> {
  /** The segment the list lives in: `close()` and `unlink()` it when done, as in Python. */
  readonly shm: SharedMemory;
  readonly #length: number;
  // Absolute byte offsets of each slot (length + 1 entries: the last is the formats' start).
  readonly #slots: Float64Array;
  readonly #formatsAt: number;
  readonly #codesAt: number;
  #views: Views | undefined;

  /**
   * `new ShareableList([1, "a", null])` creates a list (in a new segment, named by `name` when
   * given); `new ShareableList(null, { name })` opens an existing one, as Python's
   * `ShareableList(name=...)`.
   */
  constructor(sequence?: Iterable<ShareableItem> | null, options: ShareableListOptions = {}) {
    let shm: SharedMemory;
    let items: ShareableItem[] | undefined;
    if (adopting !== undefined) {
      shm = adopting;
      adopting = undefined;
    } else {
      const opts = checkOptions(options) as ShareableListOptions;
      if (opts.name !== undefined && typeof opts.name !== "string") {
        throw new ArgumentError(`options.name must be a string, got ${describe(opts.name)}`, ErrorCodes.INVALID_ARG_TYPE);
      }
      if (sequence === undefined || sequence === null) {
        if (opts.name === undefined) items = [];
      } else if (typeof (sequence as Partial<Iterable<unknown>>)[Symbol.iterator] !== "function") {
        throw new ArgumentError(`sequence must be an iterable of items (an array, ...), got ${describe(sequence)}`, ErrorCodes.INVALID_ARG_TYPE);
      } else {
        items = Array.from(sequence);
      }
      shm = items === undefined ? new SharedMemory({ name: opts.name!, track: opts.track ?? false }) : ShareableList.#create(items, opts);
    }
    this.shm = shm;
    const u8 = new Uint8Array(shm.buffer, 0, shm.size);
    const bytes = Buffer.from(shm.buffer, 0, shm.size);
    const view = new DataView(shm.buffer, 0, shm.size);
    this.#views = { u8, bytes, view };
    const { length, slots } = ShareableList.#readHeader(shm, view);
    this.#length = length;
    this.#slots = slots;
    this.#formatsAt = slots[length]!;
    this.#codesAt = this.#formatsAt + length * ALIGN;
  }

  static #create(items: ShareableItem[], opts: ShareableListOptions): SharedMemory {
    const plans = items.map(planItem);
    const n = plans.length;
    const data = plans.reduce((sum, p) => sum + p.slot, 0);
    const size = ALIGN + (n + 1) * ALIGN + data + n * ALIGN + n;
    const shm = new SharedMemory({ create: true, size, ...(opts.name === undefined ? {} : { name: opts.name }), track: opts.track ?? true });
    try {
      const view = new DataView(shm.buffer, 0, size);
      const bytes = Buffer.from(shm.buffer, 0, size);
      view.setBigInt64(0, BigInt(n), LE);
      let offset = 0;
      const dataAt = (n + 2) * ALIGN;
      const formatsAt = dataAt + data;
      for (let i = 0; i < n; i++) {
        const plan = plans[i]!;
        view.setBigInt64(ALIGN * (i + 1), BigInt(offset), LE);
        bytes.write(plan.format, formatsAt + i * ALIGN, "latin1");
        view.setInt8(formatsAt + n * ALIGN + i, plan.code);
        writeValue(view, bytes, dataAt + offset, plan.slot, items[i]!, plan.encoded);
        offset += plan.slot;
      }
      view.setBigInt64(ALIGN * (n + 1), BigInt(offset), LE);
    } catch (err) {
      shm.close();
      shm.unlink();
      throw err;
    }
    return shm;
  }

  // Reads and checks N and the offsets, so a segment that is not a list fails here, not later.
  static #readHeader(shm: SharedMemory, view: DataView): { length: number; slots: Float64Array } {
    const size = shm.size;
    if (size < 2 * ALIGN) throw badLayout(shm.name, `${size} bytes is too small`);
    const count = view.getBigInt64(0, LE);
    if (count < 0n || count * 17n + 16n > BigInt(size)) throw badLayout(shm.name, `item count ${count} does not fit ${size} bytes`);
    const length = Number(count);
    const dataAt = (length + 2) * ALIGN;
    const slots = new Float64Array(length + 1);
    let previous = 0n;
    for (let i = 0; i <= length; i++) {
      const offset = view.getBigInt64(ALIGN * (i + 1), LE);
      if (offset < previous || BigInt(dataAt) + offset + BigInt(length * 9) > BigInt(size)) {
        throw badLayout(shm.name, `offset ${offset} of item ${i} is out of order or past the end`);
      }
      previous = offset;
      slots[i] = dataAt + Number(offset);
    }
    return { length, slots };
  }

  /** The number of items (fixed when the list is created). */
  get length(): number {
    return this.#length;
  }

  #open(): Views {
    if (this.#views !== undefined && !this.shm.closed) return this.#views;
    this.#views = undefined;
    throw new StateError(`the ShareableList's shared memory '${this.shm.name}' is closed`, { code: ErrorCodes.CLOSED });
  }

  #position(index: number): number {
    if (!Number.isInteger(index)) throw new ArgumentError(`index must be an integer, got ${describe(index)}`, ErrorCodes.INVALID_ARG_TYPE);
    const position = index < 0 ? index + this.#length : index;
    if (position < 0 || position >= this.#length) {
      throw new ArgumentError(`index ${index} is out of range for a ShareableList of ${this.#length} items`, ErrorCodes.OUT_OF_RANGE);
    }
    return position;
  }

  /** The item at `index` (negative counts from the end, as in Python). */
  get(index: number): ShareableItem {
    const views = this.#open();
    return this.#read(views, this.#position(index));
  }

  #read({ u8, bytes, view }: Views, position: number): ShareableItem {
    const code = u8[this.#codesAt + position];
    // CPython decides None by the code alone, whatever the format says.
    if (code === CODE_NONE) return null;
    const at = this.#slots[position]!;
    const formatAt = this.#formatsAt + position * ALIGN;
    const kind = kindOf(view.getUint32(formatAt, true), view.getUint32(formatAt + 4, true));
    if (code === CODE_VALUE) {
      switch (kind) {
        case Kind.Int: {
          const value = view.getInt32(at + (LE ? 4 : 0), LE) * TWO_32 + view.getUint32(at + (LE ? 0 : 4), LE);
          return Number.isSafeInteger(value) ? value : view.getBigInt64(at, LE);
        }
        case Kind.Double:
          return view.getFloat64(at, LE);
        case Kind.Bool:
          return u8[at + 7] !== 0;
        case Kind.None:
          // Code 0 with None's format is what CPython reads as False.
          return u8[at + 6] !== 0;
        default:
          break;
      }
    } else if ((code === CODE_STR || code === CODE_BYTES) && kind === Kind.Text) {
      const width = textWidth(u8, formatAt);
      if (width >= 0 && at + width <= u8.length) {
        let end = at + width;
        while (end > at && u8[end - 1] === 0) end--;
        if (code === CODE_STR) return decodeUtf8(u8, bytes, at, end);
        // A copy in a plain ArrayBuffer, like Python's bytes (subarray would alias shared memory).
        return u8.slice(at, end);
      }
    }
    const format = bytes.toString("latin1", formatAt, formatAt + ALIGN).replace(/\0+$/, "");
    throw badLayout(this.shm.name, `item ${position} has type code ${code} and format ${JSON.stringify(format)}`);
  }

  /**
   * Replaces the item at `index`. Any supported type may replace any other; a string or bytes
   * value must fit the slot the list was created with (ERR_SHM_ITEM_TOO_LARGE, and the item is
   * left unchanged).
   */
  set(index: number, value: ShareableItem): void {
    const views = this.#open();
    const { u8, view } = views;
    const position = this.#position(index);
    const at = this.#slots[position]!;
    const formatAt = this.#formatsAt + position * ALIGN;
    const codeAt = this.#codesAt + position;
    // Format, then type code, then value: CPython's order.
    switch (typeof value) {
      case "number":
        if (isIntNumber(value)) {
          setFixed(view, formatAt, Q0, 0);
          u8[codeAt] = CODE_VALUE;
          // A safe integer split into words: exact, and no BigInt to allocate.
          view.setInt32(at + (LE ? 4 : 0), Math.floor(value / TWO_32), LE);
          view.setUint32(at + (LE ? 0 : 4), value >>> 0, LE);
        } else {
          setFixed(view, formatAt, D0, 0);
          u8[codeAt] = CODE_VALUE;
          view.setFloat64(at, value, LE);
        }
        return;
      case "bigint":
        checkBigInt(value);
        setFixed(view, formatAt, Q0, 0);
        u8[codeAt] = CODE_VALUE;
        view.setBigInt64(at, value, LE);
        return;
      case "boolean":
        setFixed(view, formatAt, XXXX, BOOL1);
        u8[codeAt] = CODE_VALUE;
        view.setUint32(at, 0, true);
        view.setUint32(at + 4, 0, true);
        u8[at + 7] = value ? 1 : 0;
        return;
      case "string":
        this.#setText(views, position, value, CODE_STR);
        return;
      case "object":
        if (value === null) {
          setFixed(view, formatAt, XXXX, NONE1);
          u8[codeAt] = CODE_NONE;
          view.setFloat64(at, 0);
          return;
        }
        if (value instanceof Uint8Array) {
          this.#setText(views, position, value, CODE_BYTES);
          return;
        }
        throw unsupported(value);
      default:
        throw unsupported(value);
    }
  }

  #setText({ u8, bytes, view }: Views, position: number, value: string | Uint8Array, code: number): void {
    const at = this.#slots[position]!;
    const allocated = this.#slots[position + 1]! - at;
    // Short ASCII strings (the common case) are copied by hand: cheaper than a call into C++.
    const ascii = typeof value === "string" && value.length <= SHORT && isAscii(value);
    const length = typeof value !== "string" || ascii ? value.length : Buffer.byteLength(value, "utf8");
    if (length > allocated) {
      throw new SharedMemoryError(
        `item ${position} has room for ${allocated} bytes, and the new ${code === CODE_STR ? "string" : "bytes"} value takes ${length} (a ShareableList's slots never grow)`,
        { code: ErrorCodes.SHM_ITEM_TOO_LARGE },
      );
    }
    const formatAt = this.#formatsAt + position * ALIGN;
    // Like CPython: a text slot keeps its format; any other takes "<allocated>s".
    let width = kindOf(view.getUint32(formatAt, true), view.getUint32(formatAt + 4, true)) === Kind.Text ? textWidth(u8, formatAt) : -1;
    if (width < 0 || at + width > u8.length) {
      width = allocated;
      bytes.fill(0, formatAt, formatAt + ALIGN);
      bytes.write(`${allocated}s`, formatAt, "latin1");
    }
    u8[this.#codesAt + position] = code;
    if (typeof value !== "string") u8.set(value, at);
    else if (ascii) for (let i = 0; i < length; i++) u8[at + i] = value.charCodeAt(i);
    else bytes.write(value, at, length, "utf8");
    // NUL padding to the format's width, as struct.pack does.
    if (width - length <= SHORT) for (let i = at + length; i < at + width; i++) u8[i] = 0;
    else u8.fill(0, at + length, at + width);
  }

  /** Python's `index`: the first position holding `value`; ERR_INVALID_ARG_VALUE when none does. */
  index(value: ShareableItem): number {
    let position = 0;
    for (const item of this) {
      if (equal(item, value)) return position;
      position++;
    }
    throw new ArgumentError(`${inspect(value)} is not in the ShareableList`, ErrorCodes.INVALID_ARG_VALUE);
  }

  /** Python's `count`: how many items equal `value` (numbers and bigints by value, bytes by content). */
  count(value: ShareableItem): number {
    let n = 0;
    for (const item of this) if (equal(item, value)) n++;
    return n;
  }

  /** Every item's struct format joined, as CPython's `format` (e.g. "q8sd"). */
  get format(): string {
    const { bytes } = this.#open();
    let out = "";
    for (let i = 0; i < this.#length; i++) {
      const at = this.#formatsAt + i * ALIGN;
      out += bytes.toString("latin1", at, at + ALIGN).replace(/\0+$/, "");
    }
    return out;
  }

  *[Symbol.iterator](): Iterator<ShareableItem> {
    for (let i = 0; i < this.#length; i++) yield this.#read(this.#open(), i);
  }

  /** A copy of the items as an array (Python's `list(sl)`). */
  toArray(): ShareableItem[] {
    return Array.from(this);
  }

  /** Closes the segment in this process (`shm.close()`); the list is unusable afterwards. */
  [Symbol.dispose](): void {
    this.shm.close();
  }

  [kReduce](): Reduced {
    this.#open();
    // The segment reduces itself (by name across processes, shared buffer to threads).
    return { type: "ShareableList", state: this.shm };
  }

  toString(): string {
    const items = this.shm.closed ? "<closed>" : inspect(this.toArray(), { breakLength: Infinity });
    return `ShareableList(${items}, name='${this.shm.name}')`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

registerHandleType("ShareableList", (state) => {
  adopting = state as SharedMemory;
  return new ShareableList();
});
