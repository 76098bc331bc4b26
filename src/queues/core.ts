// QueueCore: what every queue class shares. One segment per queue (queue-segment.ts), any number
// of producers and consumers in any processes and threads, one robust mutex around each put and
// get (a dead holder's lock is taken over and its journal replayed), and doorbells to sleep on.
// This file holds the put and get loops (blocking and async), JoinableQueue's counting and the
// queue's lifetime in this process; the steps run under the lock are core-locked.ts (LockedCore,
// the base class), the doorbells and the wake-up protocol doorbells.ts.
import { AbortError } from "../abort.js";
import { Empty, ErrorCodes, Full, ProcessError, StateError } from "../errors.js";
import { Spinner } from "../native/spin.js";
import { waiter } from "../native/wait.js";
import { Hold, myPid, releaseWhenCollected } from "../shared/holders.js";
import { segmentFromHandle, segmentHandle, unlinkSegment, type SegmentHandle } from "../shared/segment.js";
import { onAbandon, type Transport } from "../transport/handles.js";
import { LockedCore, type Item, type Taken } from "./core-locked.js";
import { deadlineOf, enroll, ITEMS, passOnConsumerWake, ROOM, sleepAsync, sleepSync, sliceUntil, wakeConsumers, wakeJoiners, wakeProducers, type WaitSpec } from "./doorbells.js";
import { QueueSegment, W, type QueueLayout } from "./queue-segment.js";
import { initStore } from "./stores.js";

export interface CoreState {
  segment: SegmentHandle;
  slot: number;
  token: number;
  pid: number;
}

export class QueueCore extends LockedCore {
  readonly hold: Hold;
  readonly #closer = new AbortController();

  constructor(seg: QueueSegment, slot: number) {
    super(seg);
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

  #afterTake(taken: Taken): Uint8Array {
    if (taken.roomy) wakeProducers(this.words);
    if (taken.more) wakeConsumers(this.words, 0); // the cascade: another sleeper may take the next one
    if (taken.segment !== undefined) {
      try {
        unlinkSegment(taken.segment);
      } catch {
        // Already gone.
      }
    }
    return taken.bytes;
  }

  readonly #hasItems = (): boolean => Atomics.load(this.words, W.COUNT) !== 0;

  readonly #emptySpinner = new Spinner();

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
    if (!this.tryLockNow()) return false;
    let before: number;
    try {
      before = this.putLocked(item);
    } finally {
      this.unlock();
    }
    if (before < 0) return false;
    wakeConsumers(this.words, before);
    return true;
  }

  /** One get without waiting, taking the lock only if it is free right now; undefined if that did not work out. */
  tryTake(): Uint8Array | undefined {
    this.checkOpen();
    if (Atomics.load(this.words, W.COUNT) === 0 || !this.tryLockNow()) return undefined;
    let taken: Taken | undefined;
    try {
      taken = this.takeLocked();
    } finally {
      this.unlock();
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
        if (!(await this.lockAsync(deadline, signal))) throw new Full();
        let before: number;
        try {
          before = this.putLocked(item);
        } catch (err) {
          this.unlock();
          throw err;
        }
        if (before >= 0) {
          this.unlock();
          wakeConsumers(this.words, before);
          return;
        }
        if (performance.now() >= deadline) {
          this.unlock();
          throw new Full();
        }
        const seq = enroll(w, ROOM);
        this.unlock();
        waited = true;
        await sleepAsync(w, ROOM, seq, deadline, signal);
      }
    } catch (err) {
      this.drop(item);
      if (waited) wakeProducers(this.words);
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
        if (!this.lockSync(deadline)) throw new Full();
        let before: number;
        try {
          before = this.putLocked(item);
        } catch (err) {
          this.unlock();
          throw err;
        }
        if (before >= 0) {
          this.unlock();
          wakeConsumers(this.words, before);
          return;
        }
        if (performance.now() >= deadline) {
          this.unlock();
          throw new Full();
        }
        const seq = enroll(w, ROOM);
        this.unlock();
        waited = true;
        sleepSync(w, ROOM, seq, deadline);
      }
    } catch (err) {
      this.drop(item);
      if (waited) wakeProducers(this.words);
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
        if (!(await this.lockAsync(deadline, signal))) throw new Empty();
        let taken;
        try {
          taken = this.takeLocked();
        } catch (err) {
          this.unlock();
          throw err;
        }
        if (taken !== undefined) {
          this.unlock();
          return this.#afterTake(taken);
        }
        if (performance.now() >= deadline) {
          this.unlock();
          throw new Empty();
        }
        const seq = enroll(w, ITEMS);
        this.unlock();
        waited = true;
        await sleepAsync(w, ITEMS, seq, deadline, signal);
      }
    } catch (err) {
      if (waited) passOnConsumerWake(this.words);
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
        if (!this.lockSync(deadline)) throw new Empty();
        let taken;
        try {
          taken = this.takeLocked();
        } catch (err) {
          this.unlock();
          throw err;
        }
        if (taken !== undefined) {
          this.unlock();
          return this.#afterTake(taken);
        }
        if (performance.now() >= deadline) {
          this.unlock();
          throw new Empty();
        }
        const seq = enroll(w, ITEMS);
        this.unlock();
        waited = true;
        sleepSync(w, ITEMS, seq, deadline);
      }
    } catch (err) {
      if (waited) passOnConsumerWake(this.words);
      throw err;
    }
  }

  // ---- JoinableQueue ----------------------------------------------------------------------

  taskDone(): void {
    this.checkOpen();
    const w = this.words;
    if (!this.lockSync(Infinity)) throw new Error("unreachable: an unbounded lock wait timed out");
    const left = w[W.UNFINISHED]! - 1;
    if (left < 0) {
      this.unlock();
      throw new StateError("taskDone() was called more times than there were items put", { code: ErrorCodes.TASK_DONE_TOO_MANY });
    }
    Atomics.store(w, W.UNFINISHED, left);
    this.unlock();
    if (left === 0) wakeJoiners(w);
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
