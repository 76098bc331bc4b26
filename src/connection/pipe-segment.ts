// The shared memory behind a Pipe: a header, one holder table per end, and one ring per direction.
//
//   0     header (Int32): MAGIC, DUPLEX, CAPACITY, UNLINKED
//   64    holders of end 0 (shared/holders.ts)
//   ...   holders of end 1
//   ...   ring 0: end 1 writes, end 0 reads (the only ring of a one-way pipe: b -> a)
//   ...   ring 1: end 0 writes, end 1 reads (duplex only)
//
// Ends are counted like file descriptors: every Connection object in any process or thread holds
// a slot of its end. When the last holder of an end closes it or dies, that end's sides of the
// rings are closed (the peer reads EOF, or gets a broken pipe when writing), and when no end has a
// holder left the segment's name is unlinked.
import { createSegment, unlinkSegment, type Segment } from "../shared/segment.js";
import { HolderTable, holderTableBytes } from "../shared/holders.js";
import { initRing, RingReader, RingWriter, ringSize } from "../transport/ring.js";

const MAGIC = 0x50495045; // "PIPE"
const W_MAGIC = 0;
const W_DUPLEX = 1;
const W_CAPACITY = 2;
const W_UNLINKED = 3;
const HEADER_BYTES = 64;
const HOLDER_SLOTS = 62;
const TABLE_BYTES = holderTableBytes(HOLDER_SLOTS);
/** Data bytes per direction; messages of half of it or more travel in fragments. */
export const PIPE_CAPACITY = 128 * 1024;

export type End = 0 | 1;

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

const RINGS_AT = align(HEADER_BYTES + 2 * TABLE_BYTES, 256);

export class PipeSegment {
  readonly header: Int32Array;
  readonly holders: readonly [HolderTable, HolderTable];
  readonly duplex: boolean;
  readonly #capacity: number;

  constructor(readonly segment: Segment) {
    this.header = new Int32Array(segment.buffer, 0, HEADER_BYTES / 4);
    if (this.header[W_MAGIC] !== MAGIC) throw new TypeError(`segment ${segment.name} is not a pipe`);
    this.duplex = this.header[W_DUPLEX] === 1;
    this.#capacity = this.header[W_CAPACITY]!;
    this.holders = [
      new HolderTable(segment.buffer, HEADER_BYTES, HOLDER_SLOTS),
      new HolderTable(segment.buffer, HEADER_BYTES + TABLE_BYTES, HOLDER_SLOTS),
    ];
  }

  static create(duplex: boolean, capacity = PIPE_CAPACITY): PipeSegment {
    const rings = duplex ? 2 : 1;
    const segment = createSegment(RINGS_AT + rings * ringSize(capacity), { prefix: "/mp_" });
    for (let r = 0; r < rings; r++) initRing(segment.buffer, RINGS_AT + r * ringSize(capacity), capacity);
    const header = new Int32Array(segment.buffer, 0, HEADER_BYTES / 4);
    header[W_DUPLEX] = duplex ? 1 : 0;
    header[W_CAPACITY] = capacity;
    Atomics.store(header, W_MAGIC, MAGIC);
    return new PipeSegment(segment);
  }

  /** Offset of the ring that `end` reads, or undefined if it cannot read (write end of a one-way pipe). */
  readRing(end: End): number | undefined {
    if (!this.duplex && end === 1) return undefined;
    return RINGS_AT + end * ringSize(this.#capacity);
  }

  /** Offset of the ring that `end` writes, or undefined if it cannot write. */
  writeRing(end: End): number | undefined {
    if (!this.duplex && end === 0) return undefined;
    return RINGS_AT + (this.duplex ? 1 - end : 0) * ringSize(this.#capacity);
  }

  /** Whether no live holder of `end` is left; if so, closes its sides so the peer learns at once. */
  gone(end: End): boolean {
    if (this.holders[end].live() > 0) return false;
    this.#closeSides(end);
    return true;
  }

  /** After a holder of `end` left: acts on the last one leaving the end, then the whole pipe. */
  settle(end: End): void {
    if (!this.gone(end)) return;
    if (this.holders[1 - end]!.live() > 0) return;
    if (Atomics.compareExchange(this.header, W_UNLINKED, 0, 1) !== 0) return;
    try {
      unlinkSegment(this.segment.name);
    } catch {
      // Unlinked meanwhile (the resource tracker, or no addon and another thread's name table).
    }
  }

  #closeSides(end: End): void {
    const r = this.readRing(end);
    if (r !== undefined) new RingReader(this.segment.buffer, r).close();
    const w = this.writeRing(end);
    if (w !== undefined) new RingWriter(this.segment.buffer, w).close();
  }
}
