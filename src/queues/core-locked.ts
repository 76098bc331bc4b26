// LockedCore: the part of QueueCore (core.ts) that runs with the queue's lock held. Taking the
// robust mutex (a dead holder's lock is taken over and its journal replayed), the journalled put
// and take steps, recovery from a damaged store, and the format of items too large to go inline.
// Nothing here waits for items or room: that is core.ts, over the doorbells of doorbells.ts.
// Kept apart because this is the crash-safe half: every change to the queue's header goes through
// the journal here (docs/design.md, "Queues").
import { corruptData, ErrorCodes, ProcessError } from "../errors.js";
import { Spinner } from "../native/spin.js";
import { attachSegment, createSegmentFrom, unlinkSegment } from "../shared/segment.js";
import { lockAsync, LockResult, lockSync, tryLock, unlock } from "../sync/mutex.js";
import { wakeJoiners } from "./doorbells.js";
import { Journal, replay, W, type QueueSegment } from "./queue-segment.js";
import { FLAG_OUT_OF_LINE, makeStore, type Store } from "./stores.js";

/** Names createSegmentFrom draws for out-of-line items ("/" + tag + "mp_" + 16 hex digits). */
const OUT_OF_LINE_NAME = /^\/[^/\0\n]{0,200}mp_[0-9a-f]{16}$/;
/** The least time a call waits for the queue's lock, whatever its own timeout (a holder that died needs a slice to be noticed). */
const LOCK_GRACE_MS = 250;

/** What this process recovered from dead lock holders (the kill tests report it). */
export const recoveries = { takeovers: 0, replays: 0 };

/** An item on its way in: inline bytes, or a reference to a segment of its own. */
export interface Item {
  payload: Uint8Array;
  flags: number;
  priority: number;
  segment?: string;
}

export interface Taken {
  bytes: Uint8Array;
  /** The segment of an out-of-line item, unlinked once the lock is released. */
  segment?: string;
  /** Whether enough room is free to wake producers waiting for it. */
  roomy: boolean;
  /** Whether items are left after this one. */
  more: boolean;
}

function lockTimeout(deadline: number): number | undefined {
  return deadline === Infinity ? undefined : Math.max(LOCK_GRACE_MS, deadline - performance.now());
}

export class LockedCore {
  readonly words: Int32Array;
  readonly store: Store;
  readonly #journal: Journal;

  constructor(readonly seg: QueueSegment) {
    this.words = seg.words;
    this.store = makeStore(seg.kind, seg.segment.buffer, seg.words, seg.capacity);
    this.#journal = new Journal(seg.words);
  }

  /** Wraps a serialised item; one too large for the data area moves to a segment of its own. */
  item(payload: Uint8Array, priority = 0): Item {
    if (payload.length <= this.store.maxInline) return { payload, flags: 0, priority };
    const segment = createSegmentFrom(payload, { prefix: "/mp_" });
    const ref = new TextEncoder().encode(`${segment}\n${payload.length}`);
    return { payload: ref, flags: FLAG_OUT_OF_LINE, priority, segment };
  }

  /** Removes an item's own segment (after a put that failed). */
  drop(item: Item): void {
    if (item.segment === undefined) return;
    try {
      unlinkSegment(item.segment);
    } catch {
      // Already gone.
    }
  }

  // ---- the lock ---------------------------------------------------------------------------

  protected lockSync(deadline: number): boolean {
    const w = this.words;
    const taken = tryLock(w, W.LOCK) || this.#lockSpinner.spin(this.#grabLock);
    if (!taken) {
      const r = lockSync(this.words, W.LOCK, lockTimeout(deadline));
      if (r === LockResult.TimedOut) return false;
      if (r === LockResult.OwnerDied) recoveries.takeovers++;
    }
    if (replay(this.words)) recoveries.replays++;
    return true;
  }

  protected async lockAsync(deadline: number, signal: AbortSignal): Promise<boolean> {
    const w = this.words;
    const taken = tryLock(w, W.LOCK) || this.#lockSpinner.spin(this.#grabLock);
    if (!taken) {
      const r = await lockAsync(w, W.LOCK, { timeout: lockTimeout(deadline), signal });
      if (r === LockResult.TimedOut) return false;
      if (r === LockResult.OwnerDied) recoveries.takeovers++;
    }
    if (replay(w)) recoveries.replays++;
    return true;
  }

  /** Takes the lock only if it is free right now. */
  protected tryLockNow(): boolean {
    const w = this.words;
    if (!tryLock(w, W.LOCK)) return false;
    if (replay(w)) recoveries.replays++;
    return true;
  }

  protected unlock(): void {
    unlock(this.words, W.LOCK);
  }

  readonly #grabLock = (): boolean => Atomics.load(this.words, W.LOCK) === 0 && tryLock(this.words, W.LOCK);
  readonly #lockSpinner = new Spinner();

  // ---- under the lock ---------------------------------------------------------------------

  /** Puts the item if there is room; returns the number of items before it, or -1 if there was no room. */
  protected putLocked(item: Item): number {
    const w = this.words;
    const count = w[W.COUNT]!;
    if (this.seg.maxsize > 0 && count >= this.seg.maxsize) return -1;
    const j = this.#journal;
    let room: boolean;
    try {
      room = this.store.put(item.payload, item.flags, item.priority, j);
    } catch (err) {
      throw this.#damaged(err);
    }
    if (!room) {
      j.discard();
      return -1;
    }
    j.set(W.COUNT, count + 1);
    if (this.seg.joinable) j.set(W.UNFINISHED, w[W.UNFINISHED]! + 1);
    j.commit();
    return count;
  }

  /** Takes the next item's bytes; an out-of-line item is mapped before it is removed (a consumer dying in between loses nothing). */
  protected takeLocked(): Taken | undefined {
    const count = this.words[W.COUNT]!;
    if (count === 0) return undefined;
    const j = this.#journal;
    let taken: ReturnType<Store["take"]>;
    try {
      if (count < 0) throw corruptData(`queue header: count ${count}`);
      taken = this.store.take(j);
    } catch (err) {
      throw this.#damaged(err);
    }
    j.set(W.COUNT, count - 1);
    if ((taken.flags & FLAG_OUT_OF_LINE) === 0) {
      j.commit();
      return { bytes: taken.bytes, roomy: this.#roomy(), more: count > 1 };
    }
    const text = new TextDecoder().decode(taken.bytes);
    const [name = "", lengthText] = text.split("\n");
    const length = Number(lengthText);
    // The consumer unlinks the segment an item names: only ever one of our out-of-line items'.
    if (!OUT_OF_LINE_NAME.test(name) || !Number.isSafeInteger(length) || length < 0) {
      j.commit();
      throw corruptData(`a queued item names ${JSON.stringify(text.slice(0, 80))}; the item is dropped`);
    }
    let buffer: SharedArrayBuffer;
    try {
      buffer = attachSegment(name).buffer;
    } catch (err) {
      j.commit(); // drop the broken item rather than fail on it forever
      throw new ProcessError(`a queued item's segment ${name} is gone; the item is lost`, { code: ErrorCodes.PROCESS, cause: err });
    }
    j.commit();
    if (length > buffer.byteLength) throw corruptData(`a queued item of ${length} bytes in a segment of ${buffer.byteLength}`);
    return { bytes: new Uint8Array(buffer, 0, length), segment: name, roomy: this.#roomy(), more: count > 1 };
  }

  /**
   * The store's words were damaged by someone: nothing in it can be trusted, so the queue drops
   * every item (JoinableQueue counts them done) and reports ERR_CORRUPT; it works again afterwards.
   */
  #damaged(err: unknown): unknown {
    this.#journal.discard();
    if (!(err instanceof ProcessError) || err.code !== ErrorCodes.CORRUPT) return err;
    const w = this.words;
    const dropped = Math.max(0, w[W.COUNT]!);
    this.store.reset();
    w[W.COUNT] = 0;
    if (this.seg.joinable) {
      const left = Math.max(0, w[W.UNFINISHED]! - dropped);
      Atomics.store(w, W.UNFINISHED, left);
      if (left === 0) wakeJoiners(w);
    }
    return new ProcessError(`${err.message}; the queue dropped its ${dropped} items`, { code: ErrorCodes.CORRUPT, cause: err });
  }

  // Producers waiting for room are woken once half of it is free, not at every get: waking a
  // sleeper per item would cost a system call per item on each side.
  #roomy(): boolean {
    const max = this.seg.maxsize;
    return (max === 0 || this.words[W.COUNT]! <= max >> 1) && this.store.roomy();
  }
}
