// Shared arenas: the memory of small shared objects (Value, Lock, Event, small arrays, ...) carved
// out of a few large segments instead of one segment and one mapping per object (issue 21), like
// CPython's multiprocessing.heap but without a lock around every allocation.
//
// Each thread allocates only from arenas it made itself (1 MiB, then doubling up to 64 MiB), so
// taking memory needs no lock: a bump pointer for fresh memory and, per size class, a free list
// that only the owning thread pops and any process or thread pushes on (a Treiber stack with a
// single consumer has no ABA problem: the head can only come back to a block its one popper took).
// Every block carries a reference count in its header; the last holder anywhere pushes the block
// back on the free list of the arena that holds it. The layout and the steps are drawn in
// docs/design.md ("Shared arenas").
//
// Lifetime of an arena: its creator registers it with the resource tracker, which unlinks it when
// the last process of the program is gone (SIGKILL included); a thread that exits normally also
// unlinks the arenas it made that hold no live block. A process that dies holding references never
// drops them: such a block is simply never reused, and lives until its arena dies (a killed holder
// can leak a block, never free one that another still uses).
import { ErrorCodes, StateError } from "../errors.js";
import { attachShared, createSegment, segmentFromHandle, segmentHandle, unlinkSegment, type Segment, type SegmentHandle } from "./segment.js";

// Arena header, in 32-bit words.
const MAGIC = 0; // "mpar"
const SIZE = 1; // bytes in the arena
const BUMP = 2; // byte offset of the first never-used byte
const LIVE = 3; // blocks allocated and not freed
const OWNER = 4; // pid of the creating process (for a human reading the segment)
const HEADS = 8; // free list heads, one word per size class: a block's byte offset, 0 = empty
const MAGIC_WORD = 0x7261706d;
const HEADER_BYTES = 128;

// Block header, in 32-bit words from the block's start; the object's bytes follow it.
const REFS = 0; // holders anywhere (objects, and copies in flight)
const META = 1; // (generation << 4) | size class; the generation changes at every free
const NEXT = 2; // in a free block: the byte offset of the next free block (0 ends the list)
export const BLOCK_HEADER = 8;

// Size classes 16 << c bytes (header included), c = 0..10: 16 B to 16 KiB.
const CLASSES = 11;
const MIN_CLASS_BYTES = 16;
/** The largest object (in bytes, header excluded) that lives in an arena; larger ones get a segment. */
export const MAX_ARENA_OBJECT = (MIN_CLASS_BYTES << (CLASSES - 1)) - BLOCK_HEADER;

const FIRST_ARENA = 1 << 20;
const LARGEST_ARENA = 64 << 20;

/** One arena as this thread sees it: its segment and a word view over all of it. */
export interface Arena {
  readonly segment: Segment;
  readonly words: Int32Array;
  /** True when this thread made it (and so allocates from it). */
  readonly mine: boolean;
}

// Arenas this thread made, newest last, and every arena this thread mapped, by name (mapped once).
const own: Arena[] = [];
const byName = new Map<string, Arena>();

function wrap(segment: Segment, mine: boolean): Arena {
  const arena: Arena = { segment, words: new Int32Array(segment.buffer), mine };
  byName.set(segment.name, arena);
  return arena;
}

function newArena(atLeast: number): Arena {
  const last = own[own.length - 1];
  let size = last === undefined ? FIRST_ARENA : Math.min(LARGEST_ARENA, last.segment.size * 2);
  while (size < atLeast + HEADER_BYTES) size *= 2;
  const arena = wrap(createSegment(size, { prefix: "/mpa_" }), true);
  const w = arena.words;
  w[SIZE] = size;
  w[BUMP] = HEADER_BYTES;
  w[OWNER] = process.pid;
  Atomics.store(w, MAGIC, MAGIC_WORD);
  own.push(arena);
  return arena;
}

function classOf(bytes: number): number {
  let c = 0;
  while (MIN_CLASS_BYTES << c < bytes + BLOCK_HEADER) c++;
  return c;
}

/** Pops a free block of class `c` (only the owning thread pops, so no ABA); 0 if none. */
function pop(w: Int32Array, c: number): number {
  for (;;) {
    const head = Atomics.load(w, HEADS + c);
    if (head === 0) return 0;
    const next = Atomics.load(w, (head >> 2) + NEXT);
    if (Atomics.compareExchange(w, HEADS + c, head, next) === head) return head;
  }
}

function push(w: Int32Array, c: number, at: number): void {
  for (;;) {
    const head = Atomics.load(w, HEADS + c);
    Atomics.store(w, (at >> 2) + NEXT, head);
    if (Atomics.compareExchange(w, HEADS + c, head, at) === head) return;
  }
}

/** A block's place (its arena and the byte offset of its header), as one reference to it. */
export interface ArenaBlock {
  readonly arena: Arena;
  readonly at: number;
  readonly meta: number;
  /** Set once this reference is dropped (see shared/block.ts). */
  dropped: boolean;
}

/** A zeroed block for an object of `bytes` bytes, with one reference (the caller's). */
export function allocate(bytes: number): ArenaBlock {
  const c = classOf(bytes);
  const size = MIN_CLASS_BYTES << c;
  let arena: Arena | undefined;
  let at = 0;
  for (let i = own.length - 1; i >= 0 && at === 0; i--) {
    arena = own[i]!;
    at = pop(arena.words, c);
    if (at !== 0) arena.words.fill(0, (at >> 2) + NEXT, (at + size) >> 2); // reused: zero it
  }
  if (at === 0) {
    arena = own[own.length - 1];
    if (arena === undefined || arena.words[BUMP]! + size > arena.segment.size) arena = newArena(size);
    at = arena.words[BUMP]!; // fresh memory is zero already
    arena.words[BUMP] = at + size;
  }
  const w = arena!.words;
  const meta = (Atomics.load(w, (at >> 2) + META) & ~0xf) | c;
  Atomics.store(w, (at >> 2) + META, meta);
  Atomics.store(w, (at >> 2) + REFS, 1);
  Atomics.add(w, LIVE, 1);
  return { arena: arena!, at, meta, dropped: false };
}

/** Adds a reference (for a copy on its way to another process or thread). */
export function retain(b: ArenaBlock): void {
  Atomics.add(b.arena.words, (b.at >> 2) + REFS, 1);
}

/** Drops a reference; the last one frees the block (a new generation, back on its free list). */
export function drop(b: ArenaBlock): void {
  const w = b.arena.words;
  const i = b.at >> 2;
  const left = Atomics.sub(w, i + REFS, 1) - 1;
  if (left > 0) return;
  if (left < 0) {
    // More drops than references: a bug; keep the block out of circulation rather than reuse it.
    Atomics.store(w, i + REFS, 1 << 30);
    return;
  }
  const meta = Atomics.load(w, i + META);
  Atomics.store(w, i + META, (meta + 16) | 0);
  Atomics.sub(w, LIVE, 1);
  push(w, meta & 0xf, b.at);
}

// Tickets: the reference a copy in flight holds belongs to whichever comes first, the receiver
// (it claims the ticket and keeps the reference) or the sender giving the message up (it cancels
// the ticket and drops the reference; Process gives its args up when the child exits, read or
// not, so both may try). A ticket is one word in a chunk of the sender thread's own: 0 when free,
// else a token unique in that thread; claiming and cancelling are both CAS token -> 0, so exactly
// one wins, and the loser's CAS can only meet 0 or another ticket's token (ticket chunks are never
// reused for objects, and tokens are never reused), never touch an object's memory.
interface TicketChunk {
  block: ArenaBlock;
  words: Int32Array;
}
const ticketChunks: TicketChunk[] = [];
const TICKET_CLASS_BYTES = 4096 - BLOCK_HEADER;
let ticketCursor = 0;
let lastToken = 0;

/** A place in memory another process can find: an arena, a byte offset there. */
export interface ArenaPlace {
  arena: SegmentHandle;
  at: number;
}

function newTicket(thread: boolean): { place: ArenaPlace; token: number } {
  lastToken = (lastToken % 0x7fffffff) + 1;
  const token = lastToken;
  const perChunk = TICKET_CLASS_BYTES >> 2;
  const total = ticketChunks.length * perChunk;
  // A short look from the cursor on (tickets are claimed in roughly the order they were taken),
  // then a new chunk: a long scan per ticket made 10,000 Values in a child's args quadratic.
  for (let n = 0; n < Math.min(total, 64); n++) {
    const i = (ticketCursor + n) % total;
    const chunk = ticketChunks[(i / perChunk) | 0]!;
    if (Atomics.compareExchange(chunk.words, i % perChunk, 0, token) === 0) {
      ticketCursor = i + 1;
      return { place: { arena: segmentHandle(chunk.block.arena.segment, thread), at: chunk.block.at + BLOCK_HEADER + (i % perChunk) * 4 }, token };
    }
  }
  const block = allocate(TICKET_CLASS_BYTES);
  const chunk = { block, words: new Int32Array(block.arena.segment.buffer, block.at + BLOCK_HEADER, perChunk) };
  ticketChunks.push(chunk);
  chunk.words[0] = token;
  ticketCursor = total + 1;
  return { place: { arena: segmentHandle(block.arena.segment, thread), at: block.at + BLOCK_HEADER }, token };
}

/** What a block reduces to on the wire: its arena, offset and generation, and its ticket. */
export interface ArenaBlockHandle {
  arena: SegmentHandle;
  at: number;
  meta: number;
  ticket: ArenaPlace;
  token: number;
}

/**
 * A handle for a copy of `b` on its way elsewhere: adds the copy's reference, and returns with it
 * the function that gives the copy up (a no-op once the receiver has claimed it).
 */
export function sendBlock(b: ArenaBlock, thread: boolean): [ArenaBlockHandle, () => void] {
  const arena = segmentHandle(b.arena.segment, thread);
  retain(b);
  const { place, token } = newTicket(thread);
  const ticketWords = wordsAt(place);
  const cancel = () => {
    if (Atomics.compareExchange(ticketWords.words, ticketWords.index, token, 0) === token) drop(b);
  };
  return [{ arena, at: b.at, meta: b.meta, ticket: place, token }, cancel];
}

function mapArena(h: SegmentHandle): Arena {
  const known = byName.get(h.name);
  if (known !== undefined) return known;
  const segment = h.buffer === undefined ? attachShared(h.name) : segmentFromHandle(h);
  if (segment.size < HEADER_BYTES || Atomics.load(new Int32Array(segment.buffer, 0, 1), MAGIC) !== MAGIC_WORD) {
    throw new StateError(`'${h.name}' is not a multiproc arena`, { code: ErrorCodes.SHM_BAD_LAYOUT });
  }
  return wrap(segment, false);
}

function wordsAt(place: ArenaPlace): { words: Int32Array; index: number } {
  const arena = mapArena(place.arena);
  if (!Number.isSafeInteger(place.at) || place.at < HEADER_BYTES || place.at >= arena.segment.size || (place.at & 3) !== 0) {
    throw new StateError(`offset ${place.at} is outside the arena '${place.arena.name}'`, { code: ErrorCodes.SHM_BAD_LAYOUT });
  }
  return { words: arena.words, index: place.at >> 2 };
}

/**
 * The block a handle names, with the reference its sender added for it (claimed through the
 * ticket). Each arena is mapped once per thread.
 */
export function receiveBlock(h: ArenaBlockHandle): ArenaBlock {
  const { words: w, index } = wordsAt({ arena: h.arena, at: h.at });
  if ((h.at & 15) !== 0) throw new StateError(`offset ${h.at} is not a block of '${h.arena.name}'`, { code: ErrorCodes.SHM_BAD_LAYOUT });
  const arena = byName.get(h.arena.name)!;
  const ticket = wordsAt(h.ticket);
  if (Atomics.compareExchange(ticket.words, ticket.index, h.token, 0) === h.token) return { arena, at: h.at, meta: h.meta, dropped: false };
  // The ticket was claimed or cancelled already (one handle revived twice, like a message read by
  // several programs, or a sender that gave up): hold the block anew if it is still the same.
  for (let r = Atomics.load(w, index + REFS); r > 0; ) {
    const seen = Atomics.compareExchange(w, index + REFS, r, r + 1);
    if (seen !== r) {
      r = seen;
      continue;
    }
    const meta = Atomics.load(w, index + META);
    if (meta === h.meta) return { arena, at: h.at, meta, dropped: false };
    drop({ arena, at: h.at, meta, dropped: false }); // it was freed and reused meanwhile: let go of that one
    break;
  }
  throw new StateError("received a shared object whose memory was already freed (every holder closed it)", { code: ErrorCodes.CLOSED });
}

/**
 * At a normal exit: frees the ticket chunks with no ticket in flight (a pending one may still be
 * claimed by its receiver, so its chunk stays), then unlinks this thread's arenas that hold no
 * live block (none can be named by a handle any more). The others stay for their holders; the
 * resource tracker unlinks them when the program ends.
 */
export function unlinkIdleArenas(): void {
  for (const chunk of ticketChunks.splice(0)) {
    if (chunk.words.every((t) => t === 0)) drop(chunk.block);
  }
  for (const a of own.splice(0)) {
    byName.delete(a.segment.name);
    if (Atomics.load(a.words, LIVE) !== 0) continue;
    try {
      unlinkSegment(a.segment.name);
    } catch {
      // Already gone (the tracker, or an explicit unlink): nothing to do.
    }
  }
}

/** Bytes of the object's data in a block of its class. */
export function blockBytes(b: ArenaBlock): number {
  return (MIN_CLASS_BYTES << (b.meta & 0xf)) - BLOCK_HEADER;
}

/** What the arenas of this thread hold (tests and benchmarks). */
export function arenaStats(): { arenas: number; mapped: number; bytes: number; live: number } {
  let bytes = 0;
  let live = 0;
  for (const a of own) {
    bytes += a.segment.size;
    live += Atomics.load(a.words, LIVE);
  }
  return { arenas: own.length, mapped: byName.size, bytes, live };
}
