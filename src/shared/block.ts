// The memory of one synchronisation primitive or shared value: a small internal segment ("/mp_"
// names) owned by the object that created it.
//
// Lifetime, like CPython's named semaphores: the creating object unlinks the name when it is
// closed (close() or [Symbol.dispose]) or garbage-collected (a FinalizationRegistry, as a
// backstop); the resource tracker unlinks it if the program dies first. Copies received by other
// processes or threads never unlink. Every mapping stays valid after the name is gone, so only
// sending the object to a process that has not attached it yet needs the name (it then fails with
// ERR_SHM_NOT_FOUND); thread children share the buffer itself and do not need the name at all.
import { ErrorCodes, StateError } from "../errors.js";
import type { Transport } from "../transport/handles.js";
import { createSegment, segmentFromHandle, segmentHandle, unlinkSegment, type Segment, type SegmentHandle } from "./segment.js";

function unlinkQuietly(name: string): void {
  try {
    unlinkSegment(name);
  } catch {
    // Already unlinked (by close(), or by the tracker): nothing left to do.
  }
}

const collected = new FinalizationRegistry<string>(unlinkQuietly);

export class Block {
  readonly segment: Segment;
  /** The whole segment as 32-bit words (locks, counters, wait words). */
  readonly words: Int32Array;
  #owned: boolean;

  private constructor(segment: Segment, owned: boolean) {
    this.segment = segment;
    this.words = new Int32Array(segment.buffer, 0, segment.size >> 2);
    this.#owned = owned;
  }

  /** A fresh zeroed block of at least `bytes` bytes, unlinked when `owner` is collected. */
  static create(bytes: number, owner: object): Block {
    const segment = createSegment(Math.max(8, (bytes + 7) & ~7), { prefix: "/mp_" });
    const block = new Block(segment, true);
    collected.register(owner, segment.name, block);
    return block;
  }

  /** A block received from another process or thread (attached, never unlinked from here). */
  static fromHandle(handle: SegmentHandle): Block {
    return new Block(segmentFromHandle(handle), false);
  }

  get buffer(): SharedArrayBuffer {
    return this.segment.buffer;
  }

  handle(transport: Transport): SegmentHandle {
    return segmentHandle(this.segment, transport === "thread");
  }

  /** The creator unlinks the name (once); a received copy only forgets it. */
  release(): void {
    if (!this.#owned) return;
    this.#owned = false;
    collected.unregister(this);
    unlinkQuietly(this.segment.name);
  }
}

/** Internal: the Block under a RawValue or RawArray (for the lock that shares it). */
export const kBlock = Symbol("multiproc.block");

export function closedError(what: string): StateError {
  return new StateError(`the ${what} is closed`, { code: ErrorCodes.CLOSED });
}
