// A single-producer single-consumer byte ring in shared memory: the transport under Pipe and the
// Pool's task dispatch. One writer and one reader at a time (each may be in any process).
//
// Layout (byte offsets from the ring's base, Int32 words):
//   0    HEAD     bytes consumed (u32, wraps), written by the reader
//   64   TAIL     bytes published (u32, wraps), written by the writer
//   128  RSEQ     reader's doorbell: bumped when there is news for a sleeping reader
//   132  WSEQ     writer's doorbell: bumped when there is news for a sleeping writer
//   136  RSLEEP   1 while the reader sleeps (or is about to)
//   140  WSLEEP   1 while the writer sleeps
//   144  CLOSED   bit 0: writer closed, bit 1: reader closed
//   148  CAPACITY data bytes (a power of two)
//   256  data
// HEAD and TAIL live on their own cache lines. Sleepers wait on a doorbell, never on HEAD/TAIL,
// so a close (which changes no counter) still wakes them: with value-based waits a wake must come
// with a change of the word slept on (docs/design.md).
//
// Frames are 4-byte aligned: a u32 header (length | flags), then the payload. A payload larger
// than half the ring is split into fragments (MORE flag); one of LARGE_MESSAGE bytes or more goes
// through a segment of its own (OUT_OF_LINE flag, payload = its name), so the reader maps it
// instead of copying it through the ring.
//
// Crash safety: a writer that dies mid-frame never published it (TAIL moves after the bytes are
// in place); a reader that dies mid-read never consumed it (HEAD moves after the copy).
import { AbortError } from "../abort.js";
import { corruptData, ErrorCodes, ProcessError } from "../errors.js";
import { Spinner } from "../native/spin.js";
import { waiter } from "../native/wait.js";

export const HEAD = 0;
export const TAIL = 16;
export const RSEQ = 32;
export const WSEQ = 33;
export const RSLEEP = 34;
export const WSLEEP = 35;
const CLOSED = 36;
const CAPACITY = 37;
export const RING_HEADER_BYTES = 256;

export const WRITER_CLOSED = 1;
export const READER_CLOSED = 2;
export const MORE = 0x40000000;
export const OUT_OF_LINE = 0x20000000;
export const LENGTH_MASK = 0x1fffffff;
export const LARGE_MESSAGE = 1 << 20;
const SLICE_MS = 100;
/** Payloads up to this many bytes are copied into the ring byte by byte. */
export const SMALL_COPY = 64;

/** Bytes a ring of `capacity` data bytes needs in its segment. */
export function ringSize(capacity: number): number {
  return RING_HEADER_BYTES + capacity;
}

/** Prepares a fresh ring at `offset` (zeroed memory). `capacity` must be a power of two >= 64. */
export function initRing(buffer: SharedArrayBuffer, offset: number, capacity: number): void {
  if (capacity < 64 || (capacity & (capacity - 1)) !== 0) throw new RangeError(`ring capacity must be a power of two >= 64, got ${capacity}`);
  new Int32Array(buffer, offset, RING_HEADER_BYTES / 4)[CAPACITY] = capacity;
}

export interface WaitOptions {
  /** Milliseconds; undefined waits as long as the peer lives. */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Whether the pending wait keeps the event loop alive (default true); the Pool's readers use false. */
  ref?: boolean | undefined;
}

/** Says whether the process on the other side is gone (checked every slice while waiting). */
export type PeerGone = () => boolean;

const noPeerCheck: PeerGone = () => false;

export function align4(n: number): number {
  return (n + 3) & ~3;
}

export class RingBase {
  protected readonly words: Int32Array;
  protected readonly data: Uint8Array;
  protected readonly data32: Int32Array;
  protected readonly capacity: number;
  protected readonly mask: number;
  readonly #spinner = new Spinner();

  constructor(buffer: SharedArrayBuffer, offset: number, protected readonly peerGone: PeerGone = noPeerCheck) {
    this.words = new Int32Array(buffer, offset, RING_HEADER_BYTES / 4);
    this.capacity = this.words[CAPACITY]!;
    const c = this.capacity;
    if (c < 64 || (c & (c - 1)) !== 0 || offset + RING_HEADER_BYTES + c > buffer.byteLength) {
      throw corruptData(`ring header: capacity ${c} is not a power of two >= 64 that fits the segment`);
    }
    this.mask = this.capacity - 1;
    this.data = new Uint8Array(buffer, offset + RING_HEADER_BYTES, this.capacity);
    this.data32 = new Int32Array(buffer, offset + RING_HEADER_BYTES, this.capacity / 4);
  }

  protected closedFlags(): number {
    return Atomics.load(this.words, CLOSED);
  }

  /** Whether either side closed the ring (or someone wrote its close flags). */
  isClosed(): boolean {
    return this.closedFlags() !== 0;
  }

  protected ring(bell: number): void {
    Atomics.add(this.words, bell, 1);
    waiter().wake(this.words, bell, 1);
  }

  /** Closes this side and wakes the other. */
  protected closeSide(flag: number): void {
    Atomics.or(this.words, CLOSED, flag);
    this.ring(RSEQ);
    this.ring(WSEQ);
  }

  /**
   * Sleeps on doorbell `bell` until `ready()` holds. Announces the sleep in `sleepFlag` first and
   * re-checks, so a publisher either sees the flag or we see its update (all Atomics are SC).
   * Returns false on timeout; throws AbortError, or `gone()` when the peer died meanwhile.
   */
  protected waitSync(bell: number, sleepFlag: number, ready: () => boolean, deadline: number, gone: () => Error): boolean {
    if (this.#spinner.spin(ready)) return true;
    for (;;) {
      const seq = Atomics.load(this.words, bell);
      if (ready()) return true;
      const slice = Math.min(SLICE_MS, deadline - performance.now());
      if (slice <= 0) return false;
      Atomics.store(this.words, sleepFlag, 1);
      if (ready()) {
        Atomics.store(this.words, sleepFlag, 0);
        return true;
      }
      const r = waiter().wait(this.words, bell, seq, slice);
      Atomics.store(this.words, sleepFlag, 0);
      if (r !== "timed-out" && ready()) {
        this.#spinner.woke();
        return true;
      }
      if (r === "timed-out" && !ready() && this.peerGone()) throw gone();
    }
  }

  protected async waitAsync(
    bell: number,
    sleepFlag: number,
    ready: () => boolean,
    deadline: number,
    signal: AbortSignal | undefined,
    gone: () => Error,
    ref = true,
  ): Promise<boolean> {
    if (this.#spinner.spin(ready)) return true;
    for (;;) {
      if (signal?.aborted) throw new AbortError(signal.reason);
      const seq = Atomics.load(this.words, bell);
      if (ready()) return true;
      const slice = Math.min(SLICE_MS, deadline - performance.now());
      if (slice <= 0) return false;
      Atomics.store(this.words, sleepFlag, 1);
      if (ready()) {
        Atomics.store(this.words, sleepFlag, 0);
        return true;
      }
      let r;
      try {
        r = await waiter().waitAsync(this.words, bell, seq, { timeout: slice, signal, ref });
      } finally {
        Atomics.store(this.words, sleepFlag, 0);
      }
      if (r !== "timed-out" && ready()) {
        this.#spinner.woke();
        return true;
      }
      if (r === "timed-out" && !ready() && this.peerGone()) throw gone();
    }
  }
}

export function deadlineOf(timeout: number | undefined): number {
  return timeout === undefined ? Infinity : performance.now() + timeout;
}

export function brokenPipe(): ProcessError {
  return new ProcessError("the reading end is closed or its process died", { code: ErrorCodes.BROKEN_PIPE });
}
