// Fuzzers for what a foreign writer can corrupt in shared memory: a ring's header and frames
// (transport/ring.ts, under Pipe and the Pool) and a ShareableList's header and slots (written by
// CPython, say). The reader must refuse bad bytes with a typed error and, for the ring, read the
// next well-formed message normally afterwards.
import fc from "fast-check";
import { ShareableList, SharedMemory, type ShareableItem } from "multiproc";
import { initRing, RING_HEADER_BYTES, RingReader, RingWriter } from "#internal/transport/ring.js";
import { casesFor, describeError, draw, isTyped, releaseMappings, mutated, Verdicts, type FuzzOptions } from "./common.js";

// ---- rings ----

const CAPACITY = 1024;

/** One case: messages written, then damage to the header words or the data, then reads. */
const ringCase = fc.record({
  sizes: fc.array(fc.integer({ min: 0, max: 1400 }), { minLength: 1, maxLength: 3 }),
  /** Messages read (and written) before the damage, so frames sit anywhere, wrapped or not. */
  warmup: fc.integer({ min: 0, max: 7 }),
  damage: fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.record({ where: fc.constant("data" as const), at: fc.nat(CAPACITY - 1), value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), word: fc.boolean() }) },
      { weight: 3, arbitrary: fc.record({ where: fc.constant("header" as const), at: fc.nat(CAPACITY - 1), value: fc.constantFrom(0x40000000, 0x20000000, 0x1fffffff, 0x60000010, 0x20000020, CAPACITY, CAPACITY / 2, -1, 0x80000000 | 0), word: fc.constant(true) }) },
      { weight: 1, arbitrary: fc.record({ where: fc.constant("tail" as const), at: fc.constant(0), value: fc.integer({ min: -8, max: 2 * CAPACITY }), word: fc.constant(true) }) },
    ),
    { minLength: 1, maxLength: 3 },
  ),
});

function message(size: number, tag: number): Uint8Array {
  const m = new Uint8Array(size);
  for (let i = 0; i < size; i++) m[i] = (tag + i) & 0xff;
  return m;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

export interface RingFigures {
  verdicts: Verdicts;
  /** Cases where the reader read a well-formed message right after refusing damage. */
  recovered: number;
  /** Damage to the TAIL word (which the writer also trusts): recovery is not promised there. */
  tailDamaged: number;
  notRecovered: number;
  badConstructs: number;
}

export function fuzzRing(opts: FuzzOptions): RingFigures {
  const v = new Verdicts("ring", opts.seed);
  const figures: RingFigures = { verdicts: v, recovered: 0, tailDamaged: 0, notRecovered: 0, badConstructs: 0 };
  const sab = new SharedArrayBuffer(RING_HEADER_BYTES + CAPACITY);
  const words = new Int32Array(sab, 0, RING_HEADER_BYTES / 4);
  const data32 = new Int32Array(sab, RING_HEADER_BYTES, CAPACITY / 4);
  const data8 = new Uint8Array(sab, RING_HEADER_BYTES, CAPACITY);
  let tag = 0;
  for (const c of draw(ringCase, opts.seed, casesFor(opts))) {
    new Uint8Array(sab).fill(0);
    initRing(sab, 0, CAPACITY);
    const writer = new RingWriter(sab, 0);
    const reader = new RingReader(sab, 0);
    for (let i = 0; i < c.warmup; i++) {
      writer.trySend(message(100, tag));
      reader.tryRecv();
    }
    for (const size of c.sizes) writer.trySend(message(size, tag++));
    const head = Atomics.load(words, 0) & (CAPACITY - 1);
    let tail = false;
    for (const d of c.damage) {
      if (d.where === "tail") {
        tail = true;
        Atomics.store(words, 16, (Atomics.load(words, 0) + d.value) | 0);
      } else if (d.where === "header") data32[head >> 2] = d.value; // the next frame's header
      else if (d.word) data32[d.at >> 2] = d.value;
      else data8[d.at] = d.value & 0xff;
    }
    const input = `sizes ${c.sizes.join(",")} warmup ${c.warmup} damage ${JSON.stringify(c.damage)}`;
    let refused = false;
    // Read until empty: every message or refusal is one verdict.
    for (let reads = 0; reads < 16; reads++) {
      let got: Uint8Array | undefined;
      const before = v.refused + v.crashes;
      v.run(input, () => (got = reader.tryRecv()));
      if (v.refused + v.crashes > before) {
        refused = true;
        break;
      }
      if (got === undefined) break;
    }
    if (!refused) continue;
    if (tail) figures.tailDamaged++;
    // Usable afterwards: the next well-formed message arrives whole.
    const probe = message(37, 99);
    try {
      writer.trySend(probe);
      const got = reader.tryRecv();
      if (got !== undefined && same(got, probe)) figures.recovered++;
      else if (!tail) figures.notRecovered++;
    } catch (err) {
      if (!tail) {
        figures.notRecovered++;
        if (v.examples.length < 5) v.examples.push(`not recovered: ${describeError(err)} after ${input}`);
      }
    }
  }
  // A header whose CAPACITY word was damaged: opening a reader or writer refuses it.
  for (const cap of [0, -1, 1, 63, 100, 2048, 1 << 30, CAPACITY * 2, 0x7fffffff]) {
    words[37] = cap;
    for (const make of [() => new RingReader(sab, 0), () => new RingWriter(sab, 0)]) {
      try {
        make();
      } catch (err) {
        if (!isTyped(err)) figures.badConstructs++;
      }
    }
  }
  return figures;
}

// ---- ShareableList ----

const item: fc.Arbitrary<ShareableItem> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 20 }),
  fc.uint8Array({ maxLength: 20 }),
);

/** Bytes of valid lists as CPython lays them out (made by our writer, which tests match with CPython's). */
function listBytes(items: ShareableItem[]): Uint8Array {
  const list = new ShareableList(items);
  try {
    return Uint8Array.from(list.shm.buf);
  } finally {
    list.shm.close();
    list.shm.unlink();
  }
}

const validList = fc.array(item, { maxLength: 6 }).map(listBytes);

/** Opens a list over `bytes` (in a segment of exactly their size), reads every item and writes each back. */
function readList(bytes: Uint8Array, segments: Map<number, SharedMemory>): void {
  const size = Math.max(1, bytes.length);
  let shm = segments.get(size);
  if (shm === undefined) {
    shm = new SharedMemory({ create: true, size });
    segments.set(size, shm);
  }
  shm.buf.fill(0);
  shm.buf.set(bytes);
  const list = new ShareableList(null, { name: shm.name });
  try {
    for (let i = 0; i < list.length; i++) {
      const value = list.get(i);
      list.set(i, value);
    }
  } finally {
    list.shm.close();
  }
}

export async function fuzzShareableList(opts: FuzzOptions): Promise<Verdicts> {
  const v = new Verdicts("shareable-list", opts.seed);
  // Lists drawn in small batches (each valid list costs a segment), every one damaged many ways.
  const n = casesFor(opts);
  const valid = [...draw(validList, opts.seed, Math.max(1, Math.ceil(n / 20)))];
  // One segment per size, reused: each case opens the list anew (a mapping of its own).
  const segments = new Map<number, SharedMemory>();
  let i = 0;
  try {
    for (const bytes of draw(mutated(fc.constantFrom(...valid)), opts.seed + 1, n)) {
      v.run(bytes, () => readList(bytes, segments));
      if (++i % 1000 === 0) await releaseMappings();
    }
  } finally {
    for (const shm of segments.values()) {
      shm.close();
      shm.unlink();
    }
  }
  return v;
}
