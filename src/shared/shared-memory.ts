// SharedMemory: a named block of bytes any process can attach to by name (Python's
// multiprocessing.shared_memory.SharedMemory). Names are POSIX shm names, the same as CPython's,
// so a Python process can attach to ours and we to theirs.
//
// Ownership (a choice where CPython differs by version): the creator tracks the segment, so the
// resource tracker unlinks it if the program dies without calling unlink(); attaching does not
// track unless asked ({ track: true }), so a process that only attached never unlinks.
//
// Errors follow CPython's: size <= 0 on create (ValueError there), a name that exists
// (FileExistsError: ERR_SHM_EXISTS), a name that does not (FileNotFoundError: ERR_SHM_NOT_FOUND),
// and use after close (ERR_CLOSED, where CPython's released memoryview raises ValueError).
import { ArgumentError, ErrorCodes, StateError } from "../errors.js";
import { kReduce, registerHandleType, type Reduced, type Transport } from "../transport/handles.js";
import { checkOptions, describe } from "../validate.js";
import {
  attachSegment,
  checkSize,
  createSegment,
  normalizeName,
  segmentFromHandle,
  segmentHandle,
  unlinkSegment,
  type Segment,
  type SegmentHandle,
} from "./segment.js";
import { track } from "./tracker.js";

/**
 * Options of `new SharedMemory({...})`: `create: true` with a `size` makes a block; a `name` alone attaches to one.
 *
 * @example
 * ```ts
 * import { SharedMemory, type SharedMemoryOptions } from "multiproc/shared-memory";
 * const options: SharedMemoryOptions = { name: "psm_demo", create: true, size: 4096 };
 * using shm = new SharedMemory(options);
 * ```
 */
export interface SharedMemoryOptions {
  /**
   * With create, the name to use (a random `psm_` + hex name when absent); without, the segment to
   * attach to. A leading '/' is optional, as in CPython; no '/' or NUL inside.
   */
  name?: string;
  /** Create a new segment (default false: attach to an existing one). */
  create?: boolean;
  /** Bytes; required and > 0 with create; when attaching, optional and at most the segment's size. */
  size?: number;
  /** Let the resource tracker unlink it when the program ends (default: true if created, false if attached). */
  track?: boolean;
}

// Set just before `new SharedMemory()` by fromHandle, so a received segment is adopted as is.
let adopting: Segment | undefined;

function checkBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") {
    throw new ArgumentError(`${name} must be a boolean, got ${describe(value)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  return value;
}

/**
 * A named block of shared memory (Python's `multiprocessing.shared_memory.SharedMemory`), byte-compatible with CPython: Python can attach by name, and the reverse.
 *
 * @example
 * ```ts
 * import { SharedMemory } from "multiproc/shared-memory";
 * const shm = new SharedMemory({ create: true, size: 10 });
 * shm.buf.set([22, 33, 44, 55]);
 * const other = new SharedMemory({ name: shm.name }); // attach, here or in another process
 * console.log(other.buf.subarray(0, 4)); // Uint8Array [ 22, 33, 44, 55 ]
 * other.close();
 * shm.close();
 * shm.unlink(); // once, by one process
 * ```
 */
export class SharedMemory implements Disposable {
  // The POSIX name, with its leading slash. Kept after close() so that unlink() still works.
  readonly #name: string;
  // Dropped at close(), so the mapping goes away once nothing else references its buffer.
  #segment: Segment | undefined;
  #buf: Uint8Array | undefined;
  readonly size: number;

  /**
   * Creates a segment (`{ create: true, size }`) or attaches to one by name (`{ name }`, or just
   * the name as a string, like Python's `SharedMemory(name)`).
   */
  constructor(options: SharedMemoryOptions | string = {}) {
    if (adopting !== undefined) {
      const segment = adopting;
      adopting = undefined;
      this.#name = segment.name;
      this.#segment = segment;
      this.size = segment.size;
      this.#buf = new Uint8Array(segment.buffer, 0, this.size);
      return;
    }
    const opts = (typeof options === "string" ? { name: options } : checkOptions(options)) as SharedMemoryOptions;
    const create = checkBoolean(opts.create, "create") ?? false;
    const tracked = checkBoolean(opts.track, "track");
    let segment: Segment;
    if (create) {
      const size = checkSize(opts.size);
      const name = opts.name === undefined ? undefined : normalizeName(opts.name);
      segment = createSegment(size, { name, track: tracked ?? true });
    } else {
      if (opts.name === undefined) {
        throw new ArgumentError("name is required unless create is true", ErrorCodes.INVALID_ARG_VALUE);
      }
      const name = normalizeName(opts.name);
      // CPython accepts size 0 when attaching (and ignores the size); negative or fractional is an error.
      if (opts.size !== undefined && opts.size !== 0) checkSize(opts.size);
      segment = attachSegment(name);
      if (opts.size !== undefined && opts.size > segment.size) {
        throw new ArgumentError(
          `size ${opts.size} is larger than the segment '${name.slice(1)}' (${segment.size} bytes)`,
          ErrorCodes.OUT_OF_RANGE,
        );
      }
      if (tracked === true) track(segment.name);
    }
    this.#name = segment.name;
    this.#segment = segment;
    this.size = segment.size;
    this.#buf = new Uint8Array(segment.buffer, 0, this.size);
  }

  /** The name without its leading slash, as CPython reports it. */
  get name(): string {
    return this.#name.slice(1);
  }

  /** The shared bytes. Throws ERR_CLOSED after close(). */
  get buf(): Uint8Array {
    return this.#open().buf;
  }

  /** The whole mapping as a SharedArrayBuffer (for Atomics and typed-array views). Throws after close(). */
  get buffer(): SharedArrayBuffer {
    return this.#open().segment.buffer;
  }

  /** Whether close() was called in this process. */
  get closed(): boolean {
    return this.#segment === undefined;
  }

  #open(): { segment: Segment; buf: Uint8Array } {
    if (this.#segment === undefined || this.#buf === undefined) {
      throw new StateError(`the shared memory '${this.name}' is closed`, { code: ErrorCodes.CLOSED });
    }
    return { segment: this.#segment, buf: this.#buf };
  }

  /**
   * Stops using the block in this process (closing twice is fine). The memory is unmapped once
   * nothing references it: views taken from `buf` or `buffer` before close() stay usable.
   */
  close(): void {
    this.#segment = undefined;
    this.#buf = undefined;
  }

  /**
   * Removes the name, so nobody else can attach; existing users keep their mapping. Call it once,
   * from one process (a second call throws ERR_SHM_NOT_FOUND, as CPython's FileNotFoundError).
   * Allowed after close(), as in CPython.
   */
  unlink(): void {
    unlinkSegment(this.#name);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [kReduce](transport: Transport): Reduced {
    return { type: "SharedMemory", state: segmentHandle(this.#open().segment, transport === "thread") };
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
