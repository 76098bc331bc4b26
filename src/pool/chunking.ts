// How a call's input becomes chunks (the unit a worker runs): from an array (known length), a
// synchronous iterator, or an async iterable pumped in the background. Sources are pulled by the
// dispatcher only when a worker has room, so a lazy input is read only as fast as it is used.
import { ArgumentError, ErrorCodes } from "../errors.js";
import { describe } from "../validate.js";
import { Fifo } from "./fifo.js";

/** A chunk's items are `items[start..end)`: a range of the input array itself, or an array of its own. */
export interface Chunk<T> {
  /** Position of the chunk's first item in the input. */
  index: number;
  items: readonly T[];
  start: number;
  end: number;
}

export interface ChunkSource<T> {
  /** The next chunk if one is available now. May throw what the input's iterator threw. */
  next(): Chunk<T> | undefined;
  /** No chunk will ever come again. */
  readonly done: boolean;
  /** Items in the input, when known (final once done). */
  readonly total: number | undefined;
  /** Stops reading the input (calls its return()). */
  close(): void;
}

export type Input<T> = Iterable<T> | AsyncIterable<T>;

/**
 * Items per default chunk of a map over objects, at most (issue 15). A chunk of records costs
 * ~0.5 us an item to encode and as much to decode on each side, so CPython's 4 chunks per worker
 * leave workers idle while the parent encodes the first chunks and the parent decoding after the
 * last ones (6,250 records: ~3 ms each way); smaller chunks overlap the two sides, and keep the
 * codec's table of the objects it met (a Set, for shared references) small enough to stay in
 * cache (~30 ns an object at 2,000 objects, ~130 at 12,500, measured here).
 */
export const OBJECT_CHUNK_MAX = 1024;

/**
 * CPython's default for map: ceil(len / (4 * workers)), at least 1; at most OBJECT_CHUNK_MAX
 * when the items are objects (`first` is the input's first item). Numbers keep CPython's chunks:
 * they travel as typed runs, whose cost per chunk is what smaller chunks would add.
 */
export function defaultChunksize(length: number, workers: number, first?: unknown, objectMax = OBJECT_CHUNK_MAX): number {
  const chunksize = Math.max(1, Math.ceil(length / (4 * workers)));
  return typeof first === "object" && first !== null ? Math.min(chunksize, objectMax) : chunksize;
}

export function checkInput(input: unknown, name = "iterable"): Input<unknown> {
  const o = input as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown } | null | undefined;
  if (o !== null && o !== undefined && (typeof o[Symbol.iterator] === "function" || typeof o[Symbol.asyncIterator] === "function")) {
    return input as Input<unknown>;
  }
  throw new ArgumentError(`${name} must be an iterable or an async iterable, got ${describe(input)}`, ErrorCodes.INVALID_ARG_TYPE);
}

export function isAsyncInput<T>(input: Input<T>): input is AsyncIterable<T> {
  return typeof (input as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function";
}

export class ArrayChunks<T> implements ChunkSource<T> {
  #at = 0;
  constructor(
    private readonly items: readonly T[],
    private readonly chunksize: number,
  ) {}

  get done(): boolean {
    return this.#at >= this.items.length;
  }

  get total(): number {
    return this.items.length;
  }

  next(): Chunk<T> | undefined {
    if (this.done) return undefined;
    const index = this.#at;
    this.#at = Math.min(this.items.length, index + this.chunksize);
    // No slice: the range is encoded straight from the input when it is sent.
    return { index, items: this.items, start: index, end: this.#at };
  }

  close(): void {
    this.#at = this.items.length;
  }
}

export class IteratorChunks<T> implements ChunkSource<T> {
  readonly #it: Iterator<T>;
  #count = 0;
  #done = false;

  constructor(
    iterable: Iterable<T>,
    private readonly chunksize: number,
  ) {
    this.#it = iterable[Symbol.iterator]();
  }

  get done(): boolean {
    return this.#done;
  }

  get total(): number | undefined {
    return this.#done ? this.#count : undefined;
  }

  next(): Chunk<T> | undefined {
    if (this.#done) return undefined;
    const index = this.#count;
    const items: T[] = [];
    try {
      while (items.length < this.chunksize) {
        const r = this.#it.next();
        if (r.done === true) {
          this.#done = true;
          break;
        }
        items.push(r.value);
      }
    } catch (err) {
      this.#done = true;
      throw err;
    }
    this.#count += items.length;
    return items.length > 0 ? { index, items, start: 0, end: items.length } : undefined;
  }

  close(): void {
    if (this.#done) return;
    this.#done = true;
    try {
      this.#it.return?.();
    } catch {
      // The input's own clean-up failed; the call is over anyway.
    }
  }
}

/**
 * Reads an async iterable ahead of the dispatcher, keeping at most `ahead` chunks buffered.
 * `onChunk` says a chunk (or the end) arrived; `onError` reports the iterator's failure.
 */
export class AsyncChunks<T> implements ChunkSource<T> {
  readonly #it: AsyncIterator<T>;
  readonly #buffer = new Fifo<Chunk<T>>();
  #count = 0;
  #ended = false;
  #closed = false;
  #pumping = false;

  constructor(
    iterable: AsyncIterable<T>,
    private readonly chunksize: number,
    private readonly ahead: number,
    private readonly onChunk: () => void,
    private readonly onError: (err: unknown) => void,
  ) {
    this.#it = iterable[Symbol.asyncIterator]();
    this.#pump();
  }

  get done(): boolean {
    return (this.#ended || this.#closed) && this.#buffer.length === 0;
  }

  get total(): number | undefined {
    return this.#ended ? this.#count : undefined;
  }

  next(): Chunk<T> | undefined {
    const chunk = this.#buffer.shift();
    if (chunk !== undefined) this.#pump();
    return chunk;
  }

  #pump(): void {
    if (this.#pumping || this.#ended || this.#closed || this.#buffer.length >= this.ahead) return;
    this.#pumping = true;
    void this.#fill();
  }

  async #fill(): Promise<void> {
    try {
      while (!this.#ended && !this.#closed && this.#buffer.length < this.ahead) {
        const index = this.#count;
        const items: T[] = [];
        while (items.length < this.chunksize) {
          const r = await this.#it.next();
          if (this.#closed) return;
          if (r.done === true) {
            this.#ended = true;
            break;
          }
          items.push(r.value);
        }
        this.#count += items.length;
        if (items.length > 0) this.#buffer.push({ index, items, start: 0, end: items.length });
        this.onChunk();
      }
    } catch (err) {
      this.#ended = true;
      if (!this.#closed) this.onError(err);
    } finally {
      // Cleared in the same turn as the last check, so a next() right after starts a new fill.
      this.#pumping = false;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#buffer.clear();
    if (!this.#ended) void Promise.resolve(this.#it.return?.()).catch(() => undefined);
  }
}
