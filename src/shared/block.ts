// The memory of one synchronisation primitive or shared value.
//
// Small objects (up to MAX_ARENA_OBJECT bytes: every Lock, Event, Value, small array, ...) live in
// a block of a shared arena (shared/arena.ts, issue 21): no segment, no mapping, no file in
// /dev/shm of their own. The block counts its holders in its header: each object that uses it
// here holds one reference, a copy on its way to another process or thread holds one (taken when
// the object is reduced, handed to the receiver, given back if the message is abandoned), and the
// last holder to let go (close(), its object collected, or a normal exit) frees it for reuse.
// Within a thread, objects that share one block (a Value's data and its default RLock) count as
// one holder: the block's local `uses`.
//
// Larger objects (a big SharedArray, a Barrier with very many parties) keep a segment of their
// own ("/mp_" names), as before: the creating object unlinks the name when it is closed or
// collected; the resource tracker unlinks it if the program dies first; copies never unlink.
import { ErrorCodes, StateError } from "../errors.js";
import { onAbandon, type Transport } from "../transport/handles.js";
import { allocate, BLOCK_HEADER, drop, MAX_ARENA_OBJECT, receiveBlock, sendBlock, unlinkIdleArenas, type ArenaBlock, type ArenaBlockHandle } from "./arena.js";
import { createSegment, segmentFromHandle, segmentHandle, unlinkSegment, type Segment, type SegmentHandle } from "./segment.js";

/** How a block travels: a block of an arena, or a segment of its own. */
export type BlockHandle = { block: ArenaBlockHandle } | { segment: SegmentHandle };

function unlinkQuietly(name: string): void {
  try {
    unlinkSegment(name);
  } catch {
    // Already unlinked (by close(), or by the tracker): nothing left to do.
  }
}

// A thread's reference on an arena block (the ArenaBlock), kept apart from the Block so that it
// can be dropped after the Block is collected, and at exit. `live` holds every reference this
// thread has not dropped yet.
type Reference = ArenaBlock;
const live = new Set<Reference>();

function dropReference(ref: Reference): void {
  if (ref.dropped) return;
  ref.dropped = true;
  live.delete(ref);
  drop(ref);
}

const collectedRef = new FinalizationRegistry<Reference>(dropReference);
const collectedSegment = new FinalizationRegistry<string>(unlinkQuietly);

process.on("exit", () => {
  for (const ref of [...live]) dropReference(ref);
  unlinkIdleArenas();
});

export class Block {
  readonly buffer: SharedArrayBuffer;
  /** Where the object's bytes start in `buffer`. */
  readonly byteOffset: number;
  readonly byteLength: number;
  readonly #ref: Reference | undefined;
  readonly #segment: Segment | undefined;
  #owned: boolean;
  #uses = 1;
  #words: Int32Array | undefined;

  private constructor(ref: Reference | undefined, segment: Segment | undefined, owned: boolean) {
    this.#ref = ref;
    this.#segment = segment;
    this.#owned = owned;
    if (ref !== undefined) {
      this.buffer = ref.arena.segment.buffer;
      this.byteOffset = ref.at + BLOCK_HEADER;
      this.byteLength = (16 << (ref.meta & 0xf)) - BLOCK_HEADER;
      live.add(ref);
      // No unregister token: V8 keeps tokens in a table that made registering several times dearer;
      // a reference dropped by release() is simply skipped when the Block is collected.
      collectedRef.register(this, ref);
    } else {
      this.buffer = segment!.buffer;
      this.byteOffset = 0;
      this.byteLength = segment!.size;
    }
  }

  /** The object's bytes as 32-bit words (locks, counters, wait words); made on first use. */
  get words(): Int32Array {
    return (this.#words ??= new Int32Array(this.buffer, this.byteOffset, this.byteLength >> 2));
  }

  /**
   * Words that include the object's, and the index of its first word there: for an arena block,
   * the arena's own view (shared by every object in it, so a Lock costs no typed array of its own).
   */
  wordsAt(): [Int32Array, number] {
    const ref = this.#ref;
    return ref === undefined ? [this.words, 0] : [ref.arena.words, this.byteOffset >> 2];
  }

  /** A fresh zeroed block of at least `bytes` bytes; a segment's name is unlinked when `owner` is collected. */
  static create(bytes: number, owner: object): Block {
    if (bytes <= MAX_ARENA_OBJECT) return new Block(allocate(bytes), undefined, true);
    const segment = createSegment(Math.max(8, (bytes + 7) & ~7), { prefix: "/mp_" });
    const block = new Block(undefined, segment, true);
    collectedSegment.register(owner, segment.name, block);
    return block;
  }

  /** A block received from another process or thread; takes over the reference sent with it. */
  static fromHandle(handle: BlockHandle): Block {
    if ("block" in handle) return new Block(receiveBlock(handle.block), undefined, false);
    return new Block(undefined, segmentFromHandle(handle.segment), false);
  }

  /**
   * A name for this memory, the same in every process and thread (the hold records of locks are
   * keyed by it). The generation is part of it: a block freed and reused is another object.
   */
  get key(): string {
    const ref = this.#ref;
    return ref === undefined ? this.#segment!.name : `${ref.arena.segment.name}@${ref.at}.${ref.meta}`;
  }

  /** Another object of this thread uses the block too: it is freed after both released it. */
  share(): this {
    if (this.#uses <= 0) throw new StateError("the shared memory of this object was released", { code: ErrorCodes.CLOSED });
    this.#uses++;
    return this;
  }

  /**
   * The block on its way to another process or thread. An arena block gets a reference for the
   * receiver now (so the block cannot be freed while the message travels), which the receiver
   * claims, or the sender takes back if the message is abandoned (transport/handles.ts).
   */
  handle(transport: Transport): BlockHandle {
    const ref = this.#ref;
    if (ref === undefined) return { segment: segmentHandle(this.#segment!, transport === "thread") };
    const [h, cancel] = sendBlock(ref, transport === "thread");
    onAbandon(cancel);
    return { block: h };
  }

  /** One user of this thread lets go; the last drops the reference (or, for a segment, the creator unlinks its name). */
  release(): void {
    if (this.#uses <= 0 || --this.#uses > 0) return;
    const ref = this.#ref;
    if (ref !== undefined) {
      dropReference(ref);
      return;
    }
    if (!this.#owned) return;
    this.#owned = false;
    collectedSegment.unregister(this);
    unlinkQuietly(this.#segment!.name);
  }
}

/** Internal: the Block under a RawValue or RawArray (for the lock that shares it). */
export const kBlock = Symbol("multiproc.block");

/** Internal: set on a typed array handed to users, so that it keeps its block alive. */
export const kKeepAlive = Symbol("multiproc.keepAlive");

/** `view` with a reference to `block`, so the block outlives the object while the view is in use. */
export function keepAlive<V extends object>(view: V, block: Block): V {
  Object.defineProperty(view, kKeepAlive, { value: block });
  return view;
}

export function closedError(what: string): StateError {
  return new StateError(`the ${what} is closed`, { code: ErrorCodes.CLOSED });
}
