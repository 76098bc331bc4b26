// QueueCore: what every queue class shares. One segment per queue (queue-segment.ts), any number
// of producers and consumers in any processes and threads, one robust mutex around each put and
// get (a dead holder's lock is taken over and its journal replayed), and doorbells to sleep on.
//
// Waiting: a consumer that finds the queue empty counts itself in NE_WAITERS and reads NE_SEQ
// *before* it lets go of the lock; a producer, after its put, bumps NE_SEQ and wakes one sleeper
// if NE_WAITERS says someone may sleep. So a put that lands after a consumer looked always changes
// the word that consumer sleeps on (value-based waits: docs/design.md), and no wake-up is lost.
// Producers waiting for room do the same with NF_SEQ/NF_WAITERS.
// System calls are kept off the steady path: a wake-up is sent only when a sleeper may have
// nothing to take (more sleepers than items), NE_PENDING holds further wake-ups back until the
// woken consumer runs (it clears the flag, then wakes the next sleeper itself if items are left:
// a cascade), and producers waiting for room are woken all at once when half of it is free.
// A waiter that leaves without an item (timeout, abort, close) passes a wake-up on. Waits are cut
// in slices, so a process that died between its put and its wake-up (or holding NE_PENDING)
// causes a delay of one slice, never a hang.
import { AbortError } from "../abort.js";
import { corruptData, Empty, ErrorCodes, Full, ProcessError, StateError } from "../errors.js";
import { Spinner } from "../native/spin.js";
import { waiter } from "../native/wait.js";
import { Hold, myPid, releaseWhenCollected } from "../shared/holders.js";
import { attachSegment, createSegmentFrom, segmentFromHandle, segmentHandle, unlinkSegment, type SegmentHandle } from "../shared/segment.js";
import { lockAsync, LockResult, lockSync, tryLock, unlock } from "../sync/mutex.js";
import { onAbandon, type Transport } from "../transport/handles.js";
import { Journal, QueueSegment, replay, W, type QueueLayout } from "./queue-segment.js";
import { FLAG_OUT_OF_LINE, initStore, makeStore, type Store } from "./stores.js";

const SLICE_MS = 100;
/** Names createSegmentFrom draws for out-of-line items ("/" + tag + "mp_" + 16 hex digits). */
const OUT_OF_LINE_NAME = /^\/[^/\0\n]{0,200}mp_[0-9a-f]{16}$/;
/** The least time a call waits for the queue's lock, whatever its own timeout (a holder that died needs a slice to be noticed). */
const LOCK_GRACE_MS = 250;

/** What this process recovered from dead lock holders (the kill tests report it). */
export const recoveries = { takeovers: 0, replays: 0 };

export interface WaitSpec {
  block: boolean;
  timeout: number | undefined;
  signal?: AbortSignal | undefined;
}

/** An item on its way in: inline bytes, or a reference to a segment of its own. */
export interface Item {
  payload: Uint8Array;
  flags: number;
  priority: number;
  segment?: string;
}

interface Taken {
  bytes: Uint8Array;
  /** The segment of an out-of-line item, unlinked once the lock is released. */
  segment?: string;
  /** Whether enough room is free to wake producers waiting for it. */
  roomy: boolean;
  /** Whether items are left after this one. */
  more: boolean;
}

export interface CoreState {
  segment: SegmentHandle;
  slot: number;
  token: number;
  pid: number;
}

function deadlineOf(spec: WaitSpec): number {
  if (!spec.block) return 0;
  return spec.timeout === undefined ? Infinity : performance.now() + spec.timeout;
}

function sliceUntil(deadline: number): number {
  return Math.max(0, Math.min(SLICE_MS, deadline - performance.now()));
}

function lockTimeout(deadline: number): number | undefined {
  return deadline === Infinity ? undefined : Math.max(LOCK_GRACE_MS, deadline - performance.now());
}

export class QueueCore {
  readonly words: Int32Array;
  readonly store: Store;
  readonly hold: Hold;
  readonly #journal: Journal;
  readonly #closer = new AbortController();

  constructor(readonly seg: QueueSegment, slot: number) {
    this.words = seg.words;
    this.store = makeStore(seg.kind, seg.segment.buffer, seg.words, seg.capacity);
    this.#journal = new Journal(seg.words);
    // The hold must not reference this object, so that a forgotten queue can be collected.
    this.hold = new Hold(seg.holders, slot, () => seg.settle());
    releaseWhenCollected(this, this.hold);
  }

  static create(layout: QueueLayout): QueueCore {
    const seg = QueueSegment.create(layout, (buffer, words) => initStore(layout.kind, buffer, words, layout.capacity));
    return new QueueCore(seg, seg.holders.hold());
  }

  get closed(): boolean {
    return this.hold.released;
  }

  checkOpen(): void {
    if (this.hold.released) throw new StateError("the queue is closed", { code: ErrorCodes.CLOSED });
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

  // ---- under the lock ---------------------------------------------------------------------

  #lockSync(deadline: number): boolean {
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

  async #lockAsync(deadline: number, signal: AbortSignal): Promise<boolean> {
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

  #unlock(): void {
    unlock(this.words, W.LOCK);
  }

  /** Puts the item if there is room; returns the number of items before it, or -1 if there was no room. */
  #putLocked(item: Item): number {
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
  #takeLocked(): Taken | undefined {
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
      if (left === 0) {
        Atomics.add(w, W.JOIN_SEQ, 1);
        waiter().wake(w, W.JOIN_SEQ);
      }
    }
    return new ProcessError(`${err.message}; the queue dropped its ${dropped} items`, { code: ErrorCodes.CORRUPT, cause: err });
  }

  // Producers waiting for room are woken once half of it is free, not at every get: waking a
  // sleeper per item would cost a system call per item on each side.
  #roomy(): boolean {
    const max = this.seg.maxsize;
    return (max === 0 || this.words[W.COUNT]! <= max >> 1) && this.store.roomy();
  }

  #afterTake(taken: Taken): Uint8Array {
    if (taken.roomy) this.#wakeProducers();
    if (taken.more) this.#wakeConsumers(0); // the cascade: another sleeper may take the next one
    if (taken.segment !== undefined) {
      try {
        unlinkSegment(taken.segment);
      } catch {
        // Already gone.
      }
    }
    return taken.bytes;
  }

  /**
   * After a put into a queue that held `before` items: wakes one sleeping consumer if there are
   * more sleepers than items they could already be taking (so a burst into an empty queue wakes as
   * many consumers as it has items, and a stream into a busy one wakes nobody).
   */
  #wakeConsumers(before: number): void {
    const w = this.words;
    if (Atomics.load(w, W.NE_WAITERS) > before && Atomics.compareExchange(w, W.NE_PENDING, 0, 1) === 0) {
      Atomics.add(w, W.NE_SEQ, 1);
      waiter().wake(w, W.NE_SEQ, 1);
    }
  }

  #wakeProducers(): void {
    const w = this.words;
    if (Atomics.load(w, W.NF_WAITERS) > 0 && Atomics.compareExchange(w, W.NF_PENDING, 0, 1) === 0) {
      Atomics.add(w, W.NF_SEQ, 1);
      waiter().wake(w, W.NF_SEQ);
    }
  }

  // A waiter that leaves without what it came for may have taken a wake-up meant for another.
  #passOnConsumerWake(): void {
    if (Atomics.load(this.words, W.COUNT) > 0) this.#wakeConsumers(0);
  }

  readonly #hasItems = (): boolean => Atomics.load(this.words, W.COUNT) !== 0;
  readonly #grabLock = (): boolean => Atomics.load(this.words, W.LOCK) === 0 && tryLock(this.words, W.LOCK);

  readonly #emptySpinner = new Spinner();
  readonly #lockSpinner = new Spinner();

  #spinWhileEmpty(): void {
    this.#emptySpinner.spin(this.#hasItems);
  }

  // A close() in this process stops our own pending waits, even when other processes use the queue.
  #signal(signal: AbortSignal | undefined): AbortSignal {
    return signal === undefined ? this.#closer.signal : AbortSignal.any([signal, this.#closer.signal]);
  }

  #translate(err: unknown): unknown {
    if (err instanceof AbortError && this.#closer.signal.aborted) {
      return new StateError("the queue was closed while waiting", { code: ErrorCodes.CLOSED });
    }
    return err;
  }

  // ---- put and get ------------------------------------------------------------------------

  /** One put without waiting, taking the lock only if it is free right now; false if that did not work out. */
  tryPut(item: Item): boolean {
    this.checkOpen();
    const w = this.words;
    if (!tryLock(w, W.LOCK)) return false;
    if (replay(w)) recoveries.replays++;
    let before: number;
    try {
      before = this.#putLocked(item);
    } finally {
      this.#unlock();
    }
    if (before < 0) return false;
    this.#wakeConsumers(before);
    return true;
  }

  /** One get without waiting, taking the lock only if it is free right now; undefined if that did not work out. */
  tryTake(): Uint8Array | undefined {
    this.checkOpen();
    const w = this.words;
    if (Atomics.load(w, W.COUNT) === 0 || !tryLock(w, W.LOCK)) return undefined;
    if (replay(w)) recoveries.replays++;
    let taken: Taken | undefined;
    try {
      taken = this.#takeLocked();
    } finally {
      this.#unlock();
    }
    return taken === undefined ? undefined : this.#afterTake(taken);
  }

  async put(item: Item, spec: WaitSpec): Promise<void> {
    const w = this.words;
    const deadline = deadlineOf(spec);
    const signal = this.#signal(spec.signal);
    let waited = false;
    try {
      for (;;) {
        this.checkOpen();
        if (signal.aborted) throw new AbortError(signal.reason);
        if (!(await this.#lockAsync(deadline, signal))) throw new Full();
        let before: number;
        try {
          before = this.#putLocked(item);
        } catch (err) {
          this.#unlock();
          throw err;
        }
        if (before >= 0) {
          this.#unlock();
          this.#wakeConsumers(before);
          return;
        }
        if (performance.now() >= deadline) {
          this.#unlock();
          throw new Full();
        }
        Atomics.add(w, W.NF_WAITERS, 1);
        const seq = Atomics.load(w, W.NF_SEQ);
        this.#unlock();
        waited = true;
        try {
          await waiter().waitAsync(w, W.NF_SEQ, seq, { timeout: sliceUntil(deadline), signal });
        } finally {
          Atomics.sub(w, W.NF_WAITERS, 1);
          Atomics.store(w, W.NF_PENDING, 0);
        }
      }
    } catch (err) {
      this.drop(item);
      if (waited) this.#wakeProducers();
      throw this.#translate(err);
    }
  }

  putSync(item: Item, spec: WaitSpec): void {
    const w = this.words;
    const deadline = deadlineOf(spec);
    let waited = false;
    try {
      for (;;) {
        this.checkOpen();
        if (!this.#lockSync(deadline)) throw new Full();
        let before: number;
        try {
          before = this.#putLocked(item);
        } catch (err) {
          this.#unlock();
          throw err;
        }
        if (before >= 0) {
          this.#unlock();
          this.#wakeConsumers(before);
          return;
        }
        if (performance.now() >= deadline) {
          this.#unlock();
          throw new Full();
        }
        Atomics.add(w, W.NF_WAITERS, 1);
        const seq = Atomics.load(w, W.NF_SEQ);
        this.#unlock();
        waited = true;
        try {
          waiter().wait(w, W.NF_SEQ, seq, sliceUntil(deadline));
        } finally {
          Atomics.sub(w, W.NF_WAITERS, 1);
          Atomics.store(w, W.NF_PENDING, 0);
        }
      }
    } catch (err) {
      this.drop(item);
      if (waited) this.#wakeProducers();
      throw err;
    }
  }

  async take(spec: WaitSpec): Promise<Uint8Array> {
    const w = this.words;
    const deadline = deadlineOf(spec);
    const signal = this.#signal(spec.signal);
    let waited = false;
    try {
      for (;;) {
        this.checkOpen();
        if (signal.aborted) throw new AbortError(signal.reason);
        if (spec.block) this.#spinWhileEmpty();
        if (!(await this.#lockAsync(deadline, signal))) throw new Empty();
        let taken;
        try {
          taken = this.#takeLocked();
        } catch (err) {
          this.#unlock();
          throw err;
        }
        if (taken !== undefined) {
          this.#unlock();
          return this.#afterTake(taken);
        }
        if (performance.now() >= deadline) {
          this.#unlock();
          throw new Empty();
        }
        Atomics.add(w, W.NE_WAITERS, 1);
        const seq = Atomics.load(w, W.NE_SEQ);
        this.#unlock();
        waited = true;
        try {
          await waiter().waitAsync(w, W.NE_SEQ, seq, { timeout: sliceUntil(deadline), signal });
        } finally {
          Atomics.sub(w, W.NE_WAITERS, 1);
          Atomics.store(w, W.NE_PENDING, 0);
        }
      }
    } catch (err) {
      if (waited) this.#passOnConsumerWake();
      throw this.#translate(err);
    }
  }

  takeSync(spec: WaitSpec): Uint8Array {
    const w = this.words;
    const deadline = deadlineOf(spec);
    let waited = false;
    try {
      for (;;) {
        this.checkOpen();
        if (spec.block) this.#spinWhileEmpty();
        if (!this.#lockSync(deadline)) throw new Empty();
        let taken;
        try {
          taken = this.#takeLocked();
        } catch (err) {
          this.#unlock();
          throw err;
        }
        if (taken !== undefined) {
          this.#unlock();
          return this.#afterTake(taken);
        }
        if (performance.now() >= deadline) {
          this.#unlock();
          throw new Empty();
        }
        Atomics.add(w, W.NE_WAITERS, 1);
        const seq = Atomics.load(w, W.NE_SEQ);
        this.#unlock();
        waited = true;
        try {
          waiter().wait(w, W.NE_SEQ, seq, sliceUntil(deadline));
        } finally {
          Atomics.sub(w, W.NE_WAITERS, 1);
          Atomics.store(w, W.NE_PENDING, 0);
        }
      }
    } catch (err) {
      if (waited) this.#passOnConsumerWake();
      throw err;
    }
  }

  // ---- JoinableQueue ----------------------------------------------------------------------

  taskDone(): void {
    this.checkOpen();
    const w = this.words;
    if (!this.#lockSync(Infinity)) throw new Error("unreachable: an unbounded lock wait timed out");
    const left = w[W.UNFINISHED]! - 1;
    if (left < 0) {
      this.#unlock();
      throw new StateError("taskDone() was called more times than there were items put", { code: ErrorCodes.TASK_DONE_TOO_MANY });
    }
    Atomics.store(w, W.UNFINISHED, left);
    this.#unlock();
    if (left === 0) {
      Atomics.add(w, W.JOIN_SEQ, 1);
      waiter().wake(w, W.JOIN_SEQ);
    }
  }

  async join(timeout: number | undefined, signal: AbortSignal | undefined): Promise<boolean> {
    const w = this.words;
    const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
    const sig = this.#signal(signal);
    try {
      for (;;) {
        this.checkOpen();
        const seq = Atomics.load(w, W.JOIN_SEQ);
        if (Atomics.load(w, W.UNFINISHED) === 0) return true;
        if (performance.now() >= deadline) return false;
        await waiter().waitAsync(w, W.JOIN_SEQ, seq, { timeout: sliceUntil(deadline), signal: sig });
      }
    } catch (err) {
      throw this.#translate(err);
    }
  }

  joinSync(timeout: number | undefined): boolean {
    const w = this.words;
    const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
    for (;;) {
      this.checkOpen();
      const seq = Atomics.load(w, W.JOIN_SEQ);
      if (Atomics.load(w, W.UNFINISHED) === 0) return true;
      if (performance.now() >= deadline) return false;
      waiter().wait(w, W.JOIN_SEQ, seq, sliceUntil(deadline));
    }
  }

  // ---- lifetime ---------------------------------------------------------------------------

  close(): void {
    if (this.hold.released) return;
    this.#closer.abort();
    this.hold.release();
  }

  reduce(transport: Transport): CoreState {
    this.checkOpen();
    const seg = this.seg;
    const segment = segmentHandle(seg.segment, transport === "thread");
    const transit = seg.holders.reserve();
    onAbandon(() => {
      if (seg.holders.cancel(transit)) seg.settle();
    });
    return { segment, slot: transit.slot, token: transit.token, pid: myPid };
  }

  static revive(state: CoreState): QueueCore {
    let seg: QueueSegment;
    try {
      seg = new QueueSegment(segmentFromHandle(state.segment));
    } catch (err) {
      if (err instanceof ProcessError && err.code === ErrorCodes.SHM_BAD_LAYOUT) throw err;
      throw new ProcessError("received a queue that is gone (every holder closed it)", { code: ErrorCodes.CLOSED, cause: err });
    }
    let slot = seg.holders.claim({ slot: state.slot, token: state.token }, state.pid);
    if (slot < 0) slot = seg.holders.hold();
    return new QueueCore(seg, slot);
  }
}
