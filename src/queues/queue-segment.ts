// The shared memory behind every queue kind: a header guarded by a robust mutex, a redo journal,
// a holder table, and a data area whose use depends on the kind (stores.ts).
//
// Word layout (Int32 indexes):
//   0 LOCK (sync/mutex.ts)   1 MAGIC   2 KIND   3 MAXSIZE (0 = no limit)   4 COUNT (items)
//   5 UNFINISHED (JoinableQueue: items put and not yet taskDone)   6 CAPACITY (data bytes)
//   7 UNLINKED   8 JOINABLE   9 SEQ (put counter: PriorityQueue ties go first in, first out)
//   16 NE_SEQ, 17 NE_WAITERS, 18 NE_PENDING   doorbell, sleeper count and "a wake-up is on its
//                              way" flag of consumers waiting for an item
//   32 NF_SEQ, 33 NF_WAITERS, 34 NF_PENDING   the same for producers waiting for room
//   48 JOIN_SEQ                bumped when UNFINISHED reaches 0
//   64..79 the store's own words (positions, free list)
//   80 JVALID, 81 JCOUNT, 82.. JMAX (index, value) pairs: the redo journal
//   byte 2560: holders (shared/holders.ts); byte 4096: data area
//
// Crash safety. Every change of the shared state is made under the lock in two steps: the bytes
// of an item go into space nobody reads yet, then the metadata words change through the journal:
// write the (index, value) pairs, set JVALID, apply them, clear JVALID. A process killed at any
// point leaves either no visible change (JVALID not set: its half-written bytes sit in free space)
// or a complete journal, which the next lock holder (told by the mutex that the owner died)
// applies again; re-applying is harmless. So an item is in the queue exactly when its put's
// journal was applied, and out of it exactly when its get's journal was.
import { ArgumentError, ErrorCodes, SharedMemoryError } from "../errors.js";
import { describe } from "../validate.js";
import { HolderTable } from "../shared/holders.js";
import { createSegment, unlinkSegment, type Segment } from "../shared/segment.js";

export const W = {
  LOCK: 0,
  MAGIC: 1,
  KIND: 2,
  MAXSIZE: 3,
  COUNT: 4,
  UNFINISHED: 5,
  CAPACITY: 6,
  UNLINKED: 7,
  JOINABLE: 8,
  SEQ: 9,
  NE_SEQ: 16,
  NE_WAITERS: 17,
  NE_PENDING: 18,
  NF_SEQ: 32,
  NF_WAITERS: 33,
  NF_PENDING: 34,
  JOIN_SEQ: 48,
  STORE: 64,
  JVALID: 80,
  JCOUNT: 81,
  JOURNAL: 82,
} as const;

export const JMAX = 230;
const MAGIC = 0x51554555; // "QUEU"
const HOLDERS_AT = 2560;
const HOLDER_SLOTS = 126;
export const DATA_AT = 4096;
/** Data bytes of a queue unless told otherwise. */
export const DEFAULT_CAPACITY = 256 * 1024;

export const QueueKind = { Fifo: 0, Lifo: 1, Priority: 2 } as const;
export type QueueKind = (typeof QueueKind)[keyof typeof QueueKind];

/**
 * The metadata changes of one operation, applied all or nothing (see the header comment). The
 * pairs are written with plain stores and published by the sequentially consistent store of
 * JVALID (which orders them before it for any agent that reads JVALID set); the changes are then
 * applied, and the clearing of JVALID, also sequentially consistent, comes after them.
 */
export class Journal {
  #n = 0;
  readonly #local = new Int32Array(2 * JMAX);
  constructor(private readonly words: Int32Array) {}

  set(index: number, value: number): void {
    if (this.#n === JMAX) throw new RangeError("queue journal overflow");
    const at = 2 * this.#n++;
    this.#local[at] = index;
    this.#local[at + 1] = value;
    this.words[W.JOURNAL + at] = index;
    this.words[W.JOURNAL + at + 1] = value;
  }

  /** Publishes and applies the pairs gathered so far. */
  commit(): void {
    const w = this.words;
    const local = this.#local;
    const n = this.#n;
    w[W.JCOUNT] = n;
    Atomics.store(w, W.JVALID, 1);
    for (let i = 0; i < 2 * n; i += 2) w[local[i]!] = local[i + 1]!;
    Atomics.store(w, W.JVALID, 0);
    this.#n = 0;
  }

  /** Forgets the pairs gathered so far (the operation was given up before commit). */
  discard(): void {
    this.#n = 0;
  }
}

/** Applies a complete journal left by a holder that died; called with the lock held. True if there was one. */
// A journal another process damaged must not loop for long or write the words it never changes
// (LOCK, MAGIC and the layout below COUNT): its count is capped and such pairs are skipped.
export function replay(words: Int32Array): boolean {
  if (Atomics.load(words, W.JVALID) === 0) return false;
  const n = Math.min(Math.max(0, words[W.JCOUNT]!), JMAX);
  for (let i = 0; i < n; i++) {
    const at = W.JOURNAL + 2 * i;
    const index = words[at]!;
    if (index >= W.COUNT && index < words.length) words[index] = words[at + 1]!;
  }
  Atomics.store(words, W.JVALID, 0);
  return true;
}

export interface QueueLayout {
  kind: QueueKind;
  maxsize: number;
  capacity: number;
  joinable: boolean;
}

export class QueueSegment {
  readonly words: Int32Array;
  readonly holders: HolderTable;
  readonly kind: QueueKind;
  readonly maxsize: number;
  readonly capacity: number;
  readonly joinable: boolean;

  constructor(readonly segment: Segment) {
    // The whole segment: the journal may name words of the data area (PriorityQueue's heap).
    this.words = new Int32Array(segment.buffer, 0, Math.floor(segment.buffer.byteLength / 4));
    const bad = (why: string) => new SharedMemoryError(`segment ${segment.name} does not hold a queue: ${why}`, { code: ErrorCodes.SHM_BAD_LAYOUT });
    if (this.words.length < DATA_AT / 4 || Atomics.load(this.words, W.MAGIC) !== MAGIC) throw bad("no queue header");
    this.kind = this.words[W.KIND] as QueueKind;
    this.maxsize = this.words[W.MAXSIZE]!;
    this.capacity = this.words[W.CAPACITY]!;
    this.joinable = this.words[W.JOINABLE] === 1;
    if (this.kind !== QueueKind.Fifo && this.kind !== QueueKind.Lifo && this.kind !== QueueKind.Priority) throw bad(`unknown kind ${this.kind as number}`);
    if (this.maxsize < 0) throw bad(`maxsize ${this.maxsize}`);
    // A queue's segment is made exactly DATA_AT + capacity bytes long (checkCapacity: >= 4096).
    if (this.capacity < 4096 || this.capacity % 8 !== 0 || DATA_AT + this.capacity !== segment.buffer.byteLength) {
      throw bad(`capacity ${this.capacity} in a segment of ${segment.buffer.byteLength} bytes`);
    }
    this.holders = new HolderTable(segment.buffer, HOLDERS_AT, HOLDER_SLOTS);
  }

  static create(layout: QueueLayout, init: (buffer: SharedArrayBuffer, words: Int32Array) => void): QueueSegment {
    const segment = createSegment(DATA_AT + layout.capacity, { prefix: "/mp_" });
    const words = new Int32Array(segment.buffer, 0, DATA_AT / 4);
    words[W.KIND] = layout.kind;
    words[W.MAXSIZE] = layout.maxsize;
    words[W.CAPACITY] = layout.capacity;
    words[W.JOINABLE] = layout.joinable ? 1 : 0;
    init(segment.buffer, words);
    Atomics.store(words, W.MAGIC, MAGIC);
    return new QueueSegment(segment);
  }

  /** After a holder left: unlinks the segment's name when nobody holds the queue any more. */
  settle(): void {
    if (this.holders.live() > 0) return;
    if (Atomics.compareExchange(this.words, W.UNLINKED, 0, 1) !== 0) return;
    try {
      unlinkSegment(this.segment.name);
    } catch {
      // Gone already (the resource tracker, or no addon and another thread's name table).
    }
  }
}

/** Checks `capacity` (bytes of the data area): a multiple of 8 between 4 KiB and 1 GiB. */
export function checkCapacity(value: unknown): number {
  if (value === undefined) return DEFAULT_CAPACITY;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new ArgumentError(`capacity must be an integer number of bytes, got ${describe(value)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  if (value < 4096 || value > 2 ** 30) {
    throw new ArgumentError(`capacity must be between 4096 and 2**30 bytes, got ${value}`, ErrorCodes.OUT_OF_RANGE);
  }
  return Math.ceil(value / 8) * 8;
}
