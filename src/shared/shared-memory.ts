// SharedMemory: a named block of bytes any process can attach to by name (Python's
// multiprocessing.shared_memory.SharedMemory). Names are POSIX shm names, the same as CPython's,
// so a Python process can attach to ours and we to theirs.
//
// Ownership (a choice where CPython differs by version): the creator tracks the segment, so the
// resource tracker unlinks it if the program dies without calling unlink(); attaching does not
// track unless asked ({ track: true }), so a process that only attached never unlinks.
import { ArgumentError, ErrorCodes, StateError } from "../errors.js";
import { kReduce, registerHandleType, type Reduced, type Transport } from "../transport/handles.js";
import { checkOptions, describe } from "../validate.js";
import { attachSegment, checkSize, createSegment, segmentFromHandle, segmentHandle, unlinkSegment, type Segment, type SegmentHandle } from "./segment.js";
import { track } from "./tracker.js";

export interface SharedMemoryOptions {
  /** With create, the name to use (random when absent); without, the segment to attach to. */
  name?: string;
  /** Create a new segment (default false: attach to an existing one). */
  create?: boolean;
  /** Bytes; required and > 0 with create; when attaching, at most the segment's size. */
  size?: number;
  /** Let the resource tracker unlink it when the program ends (default: true if created). */
  track?: boolean;
}

// Set just before `new SharedMemory()` by fromHandle, so a received segment is adopted as is.
let adopting: Segment | undefined;

export class SharedMemory implements Disposable {
  readonly #segment: Segment;
  #buf: Uint8Array | undefined;
  readonly size: number;

  constructor(options: SharedMemoryOptions = {}) {
    if (adopting !== undefined) {
      this.#segment = adopting;
      adopting = undefined;
      this.size = this.#segment.size;
      this.#buf = new Uint8Array(this.#segment.buffer, 0, this.size);
      return;
    }
    const opts = checkOptions(options) as SharedMemoryOptions;
    const create = opts.create ?? false;
    if (typeof create !== "boolean") {
      throw new ArgumentError(`create must be a boolean, got ${describe(create)}`, ErrorCodes.INVALID_ARG_TYPE);
    }
    if (create) {
      const size = checkSize(opts.size);
      this.#segment = createSegment(size, { name: opts.name, track: opts.track ?? true });
      this.size = size;
    } else {
      if (opts.name === undefined) {
        throw new ArgumentError("name is required unless create is true", ErrorCodes.INVALID_ARG_VALUE);
      }
      if (opts.size !== undefined && opts.size !== 0) checkSize(opts.size);
      this.#segment = attachSegment(opts.name);
      if (opts.size !== undefined && opts.size > this.#segment.size) {
        throw new ArgumentError(
          `size ${opts.size} is larger than the segment '${opts.name}' (${this.#segment.size} bytes)`,
          ErrorCodes.OUT_OF_RANGE,
        );
      }
      if (opts.track === true) track(this.#segment.name);
      this.size = this.#segment.size;
    }
    this.#buf = new Uint8Array(this.#segment.buffer, 0, this.size);
  }

  /** The name without its leading slash, as CPython reports it. */
  get name(): string {
    return this.#segment.name.slice(1);
  }

  /** The shared bytes. Throws after close(). */
  get buf(): Uint8Array {
    return this.#checkOpen();
  }

  #checkOpen(): Uint8Array {
    if (this.#buf === undefined) throw new StateError("the shared memory is closed", { code: ErrorCodes.CLOSED });
    return this.#buf;
  }

  /** The whole mapping as a SharedArrayBuffer (for Atomics and typed-array views). */
  get buffer(): SharedArrayBuffer {
    this.#checkOpen();
    return this.#segment.buffer;
  }

  get closed(): boolean {
    return this.#buf === undefined;
  }

  /** Stops using the block in this process. The memory is unmapped once nothing references it. */
  close(): void {
    this.#buf = undefined;
  }

  /** Removes the name, so nobody else can attach; existing users keep their mapping. */
  unlink(): void {
    unlinkSegment(this.#segment.name);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [kReduce](transport: Transport): Reduced {
    this.#checkOpen();
    return { type: "SharedMemory", state: segmentHandle(this.#segment, transport === "thread") };
  }

  /** @internal Rebuilds a received SharedMemory (never tracked: the receiver did not create it). */
  static fromHandle(handle: SegmentHandle): SharedMemory {
    adopting = segmentFromHandle(handle);
    return new SharedMemory();
  }

  toString(): string {
    return `SharedMemory('${this.name}', size=${this.size})`;
  }
}

registerHandleType("SharedMemory", (state) => SharedMemory.fromHandle(state as SegmentHandle));
