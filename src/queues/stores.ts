// How each queue kind keeps its items in the data area. Every method runs with the queue's lock
// held; `put` writes the item's bytes into space nobody reads yet and records the metadata changes
// in the journal, `take` copies an item out and records its removal (queue-segment.ts explains why).
//
//   FifoStore  a byte ring of records [u32 length|flags][payload, padded to 4]; a record that does
//              not fit before the end leaves a WRAP marker and starts again at 0.
//   LifoStore  a byte stack of records [payload, padded to 4][u32 length|flags].
//   HeapStore  a binary min-heap of entries (priority f64, seq, first block, length|flags) ordered
//              by (priority, seq), and the payloads in 64-byte blocks chained through a free list,
//              so that items can leave in any order.
import { corruptData } from "../errors.js";
import { DATA_AT, type Journal, W } from "./queue-segment.js";

export const FLAG_OUT_OF_LINE = 0x40000000;
const WRAP = 0x20000000;
const LENGTH_MASK = 0x1fffffff;

export interface Taken {
  bytes: Uint8Array;
  flags: number;
}

export interface Store {
  /** The largest payload kept in the data area; larger ones travel in a segment of their own. */
  readonly maxInline: number;
  /** Writes the payload and journals its insertion; false when there is no room now. */
  put(payload: Uint8Array, flags: number, priority: number, j: Journal): boolean;
  /** Copies the next item out and journals its removal; only called when COUNT > 0. */
  take(j: Journal): Taken;
  /** After a take: whether at least half of the space is free (producers waiting for room are woken then). */
  roomy(): boolean;
  /** Empties the store (its words only; the caller zeroes COUNT): after damage it cannot read past. */
  reset(): void;
}

/**
 * put and take check every position and length they read from shared memory before using it: a
 * store another process damaged throws ERR_CORRUPT (and the queue empties itself, core.ts) rather
 * than write outside its data area, allocate by a bogus length or loop along a bogus chain.
 */
function damaged(what: string): Error {
  return corruptData(`queue store: ${what}`);
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function copyOut(data: Uint8Array, at: number, length: number): Uint8Array {
  return data.slice(at, at + length);
}

class FifoStore implements Store {
  static readonly HEAD = W.STORE;
  static readonly TAIL = W.STORE + 1;
  static readonly USED = W.STORE + 2;
  readonly maxInline: number;
  readonly #data: Uint8Array;
  readonly #data32: Int32Array;

  constructor(buffer: SharedArrayBuffer, private readonly words: Int32Array, private readonly capacity: number) {
    this.#data = new Uint8Array(buffer, DATA_AT, capacity);
    this.#data32 = new Int32Array(buffer, DATA_AT, capacity / 4);
    this.maxInline = capacity / 4 - 4;
  }

  put(payload: Uint8Array, flags: number, _priority: number, j: Journal): boolean {
    const w = this.words;
    const tail = w[FifoStore.TAIL]!;
    const used = w[FifoStore.USED]!;
    if (tail < 0 || tail >= this.capacity || (tail & 3) !== 0 || used < 0 || used > this.capacity) throw damaged(`tail ${tail}, ${used} bytes used`);
    const need = 4 + align4(payload.length);
    const toEnd = this.capacity - tail;
    const wrap = need > toEnd;
    const consumed = wrap ? toEnd + need : need;
    if (used + consumed > this.capacity) return false;
    const at = wrap ? 0 : tail;
    if (wrap) this.#data32[tail >> 2] = WRAP;
    this.#data32[at >> 2] = payload.length | flags;
    this.#data.set(payload, at + 4);
    const next = at + need;
    j.set(FifoStore.TAIL, next === this.capacity ? 0 : next);
    j.set(FifoStore.USED, used + consumed);
    return true;
  }

  take(j: Journal): Taken {
    const w = this.words;
    let head = w[FifoStore.HEAD]!;
    if (head < 0 || head >= this.capacity || (head & 3) !== 0) throw damaged(`head ${head}`);
    let freed = 0;
    let header = this.#data32[head >> 2]!;
    if (header === WRAP) {
      freed = this.capacity - head;
      head = 0;
      header = this.#data32[0]!;
    }
    const length = header & LENGTH_MASK;
    const need = 4 + align4(length);
    if (header < 0 || head + need > this.capacity || freed + need > w[FifoStore.USED]!) throw damaged(`record 0x${(header >>> 0).toString(16)} at ${head}`);
    const bytes = copyOut(this.#data, head + 4, length);
    const next = head + need;
    j.set(FifoStore.HEAD, next === this.capacity ? 0 : next);
    j.set(FifoStore.USED, w[FifoStore.USED]! - freed - need);
    return { bytes, flags: header & ~LENGTH_MASK };
  }

  roomy(): boolean {
    return this.words[FifoStore.USED]! <= this.capacity >> 1;
  }

  reset(): void {
    this.words[FifoStore.HEAD] = 0;
    this.words[FifoStore.TAIL] = 0;
    this.words[FifoStore.USED] = 0;
  }
}

class LifoStore implements Store {
  static readonly TOP = W.STORE;
  readonly maxInline: number;
  readonly #data: Uint8Array;
  readonly #data32: Int32Array;

  constructor(buffer: SharedArrayBuffer, private readonly words: Int32Array, private readonly capacity: number) {
    this.#data = new Uint8Array(buffer, DATA_AT, capacity);
    this.#data32 = new Int32Array(buffer, DATA_AT, capacity / 4);
    this.maxInline = capacity / 4 - 4;
  }

  put(payload: Uint8Array, flags: number, _priority: number, j: Journal): boolean {
    const top = this.words[LifoStore.TOP]!;
    if (top < 0 || top > this.capacity || (top & 3) !== 0) throw damaged(`top ${top}`);
    const padded = align4(payload.length);
    if (top + padded + 4 > this.capacity) return false;
    this.#data.set(payload, top);
    this.#data32[(top + padded) >> 2] = payload.length | flags;
    j.set(LifoStore.TOP, top + padded + 4);
    return true;
  }

  take(j: Journal): Taken {
    const top = this.words[LifoStore.TOP]!;
    if (top < 4 || top > this.capacity || (top & 3) !== 0) throw damaged(`top ${top}`);
    const header = this.#data32[(top - 4) >> 2]!;
    const length = header & LENGTH_MASK;
    const at = top - 4 - align4(length);
    if (header < 0 || at < 0) throw damaged(`record 0x${(header >>> 0).toString(16)} below ${top}`);
    j.set(LifoStore.TOP, at);
    return { bytes: copyOut(this.#data, at, length), flags: header & ~LENGTH_MASK };
  }

  roomy(): boolean {
    return this.words[LifoStore.TOP]! <= this.capacity >> 1;
  }

  reset(): void {
    this.words[LifoStore.TOP] = 0;
  }
}

const BLOCK = 64;
const BLOCK_PAYLOAD = BLOCK - 4;
const ENTRY_WORDS = 6; // priority (2 words), seq, first block, length|flags, unused
const ENTRY_BYTES = ENTRY_WORDS * 4;
const f64 = new Float64Array(1);
const f64words = new Int32Array(f64.buffer);

interface Entry {
  lo: number;
  hi: number;
  priority: number;
  seq: number;
  block: number;
  header: number;
}

class HeapStore implements Store {
  static readonly FREE = W.STORE;
  readonly maxInline: number;
  readonly entries: number;
  readonly blocks: number;
  readonly #capacity: number;
  readonly #blocksAt: number; // word index (in `words`' buffer) of block 0
  readonly #all: Int32Array;
  readonly #data: Uint8Array;
  readonly #entryAt = DATA_AT / 4;

  constructor(buffer: SharedArrayBuffer, private readonly words: Int32Array, capacity: number) {
    const layout = HeapStore.layout(capacity);
    this.entries = layout.entries;
    this.blocks = layout.blocks;
    this.#capacity = capacity;
    this.#blocksAt = (DATA_AT + layout.entries * ENTRY_BYTES) / 4;
    this.#all = new Int32Array(buffer, 0, (DATA_AT + capacity) / 4);
    this.#data = new Uint8Array(buffer, 0, DATA_AT + capacity);
    this.maxInline = capacity / 4;
  }

  static layout(capacity: number): { entries: number; blocks: number } {
    const entries = Math.floor(capacity / (ENTRY_BYTES + BLOCK));
    return { entries, blocks: Math.floor((capacity - entries * ENTRY_BYTES) / BLOCK) };
  }

  /** Chains every block into the free list of a fresh segment. */
  static init(buffer: SharedArrayBuffer, words: Int32Array, capacity: number): void {
    const { entries, blocks } = HeapStore.layout(capacity);
    const all = new Int32Array(buffer, 0, (DATA_AT + capacity) / 4);
    const at = (DATA_AT + entries * ENTRY_BYTES) / 4;
    for (let b = 0; b < blocks; b++) all[at + b * (BLOCK / 4)] = b + 1 < blocks ? b + 1 : -1;
    words[HeapStore.FREE] = blocks > 0 ? 0 : -1;
  }

  #next(block: number): number {
    return this.#blocksAt + block * (BLOCK / 4);
  }

  #entry(i: number): Entry {
    const at = this.#entryAt + i * ENTRY_WORDS;
    const a = this.#all;
    f64words[0] = a[at]!;
    f64words[1] = a[at + 1]!;
    return { lo: a[at]!, hi: a[at + 1]!, priority: f64[0]!, seq: a[at + 2]!, block: a[at + 3]!, header: a[at + 4]! };
  }

  #place(j: Journal, i: number, e: Entry): void {
    const at = this.#entryAt + i * ENTRY_WORDS;
    j.set(at, e.lo);
    j.set(at + 1, e.hi);
    j.set(at + 2, e.seq);
    j.set(at + 3, e.block);
    j.set(at + 4, e.header);
  }

  static #less(a: Entry, b: Entry): boolean {
    return a.priority < b.priority || (a.priority === b.priority && ((a.seq - b.seq) | 0) < 0);
  }

  #checkBlock(b: number, what: string): void {
    if (!(b >= -1 && b < this.blocks)) throw damaged(`${what} names block ${b} of ${this.blocks}`);
  }

  put(payload: Uint8Array, flags: number, priority: number, j: Journal): boolean {
    const n = this.words[W.COUNT]!;
    if (n < 0) throw damaged(`count ${n}`);
    if (n >= this.entries) return false;
    const k = Math.max(1, Math.ceil(payload.length / BLOCK_PAYLOAD));
    const chain: number[] = [];
    let b = this.words[HeapStore.FREE]!;
    for (let i = 0; i < k; i++) {
      this.#checkBlock(b, "the free list");
      if (b < 0) return false;
      chain.push(b);
      b = this.#all[this.#next(b)]!;
    }
    this.#checkBlock(b, "the free list");
    // The payload goes into the blocks' data (not their links: those are still the free list's).
    for (let i = 0; i < k; i++) {
      const from = i * BLOCK_PAYLOAD;
      this.#data.set(payload.subarray(from, from + BLOCK_PAYLOAD), (this.#next(chain[i]!) + 1) * 4);
    }
    j.set(HeapStore.FREE, b);
    j.set(this.#next(chain[k - 1]!), -1);
    const seq = this.words[W.SEQ]!;
    j.set(W.SEQ, (seq + 1) | 0);
    f64[0] = priority;
    const entry: Entry = { lo: f64words[0]!, hi: f64words[1]!, priority, seq, block: chain[0]!, header: payload.length | flags };
    let i = n;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = this.#entry(parent);
      if (!HeapStore.#less(entry, p)) break;
      this.#place(j, i, p);
      i = parent;
    }
    this.#place(j, i, entry);
    return true;
  }

  take(j: Journal): Taken {
    const n = this.words[W.COUNT]!;
    if (n < 1 || n > this.entries) throw damaged(`count ${n} of ${this.entries} entries`);
    const root = this.#entry(0);
    const length = root.header & LENGTH_MASK;
    if (root.header < 0 || length > this.maxInline + BLOCK_PAYLOAD) throw damaged(`entry length ${length}`);
    const bytes = new Uint8Array(length);
    const k = Math.max(1, Math.ceil(length / BLOCK_PAYLOAD));
    let b = root.block;
    let last = b;
    for (let i = 0; i < k; i++) {
      this.#checkBlock(b, "an item's chain");
      if (b < 0) throw damaged("an item's chain ends early");
      const from = i * BLOCK_PAYLOAD;
      const at = (this.#next(b) + 1) * 4;
      bytes.set(this.#data.subarray(at, at + Math.min(BLOCK_PAYLOAD, length - from)), from);
      last = b;
      b = this.#all[this.#next(b)]!;
    }
    // Give the chain back: its last link points at the old free list, whose head becomes the chain.
    j.set(this.#next(last), this.words[HeapStore.FREE]!);
    j.set(HeapStore.FREE, root.block);
    const size = n - 1;
    if (size > 0) {
      const moving = this.#entry(size);
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= size) break;
        let c = l;
        let child = this.#entry(l);
        if (l + 1 < size) {
          const right = this.#entry(l + 1);
          if (HeapStore.#less(right, child)) {
            c = l + 1;
            child = right;
          }
        }
        if (!HeapStore.#less(child, moving)) break;
        this.#place(j, i, child);
        i = c;
      }
      this.#place(j, i, moving);
    }
    return { bytes, flags: root.header & ~LENGTH_MASK };
  }

  roomy(): boolean {
    return this.words[W.COUNT]! <= this.entries >> 1;
  }

  reset(): void {
    HeapStore.init(this.#all.buffer as SharedArrayBuffer, this.words, this.#capacity);
  }
}

export type StoreKind = 0 | 1 | 2;

export function makeStore(kind: StoreKind, buffer: SharedArrayBuffer, words: Int32Array, capacity: number): Store {
  if (kind === 0) return new FifoStore(buffer, words, capacity);
  if (kind === 1) return new LifoStore(buffer, words, capacity);
  return new HeapStore(buffer, words, capacity);
}

/** Prepares the data area of a fresh segment for `kind`. */
export function initStore(kind: StoreKind, buffer: SharedArrayBuffer, words: Int32Array, capacity: number): void {
  if (kind === 2) HeapStore.init(buffer, words, capacity);
}
