// The call layer every pool shares: apply, map, starmap, imap and their async forms, with their
// arguments checked at the call. What runs the work is an Engine (task.ts): the local Pool's
// Scheduler (workers on this machine) or the ClusterPool's engine (BullMQ jobs on worker nodes).
// Calls (calls.ts, imap.ts) turn inputs into units and results back into values, in input order.
import { AbortError } from "../abort.js";
import { ArgumentError, ErrorCodes } from "../errors.js";
import { describeTarget } from "../target.js";
import { checkInteger, checkLimit, checkOptions, checkSignal, describe } from "../validate.js";
import { ApplyCall, MapCall, type Callbacks, type SettledResult } from "./calls.js";
import { ArrayChunks, AsyncChunks, checkInput, defaultChunksize, isAsyncInput, IteratorChunks, OBJECT_CHUNK_MAX, type ChunkSource, type Input } from "./chunking.js";
import { PoolIterator } from "./imap.js";
import { checkProgress, makeProgress, type ProgressOption } from "./progress.js";
import { AsyncResult } from "./results.js";
import { NO_FEATURES, type Call, type CallFeatures, type Engine, type TargetEntry } from "./task.js";

/**
 * Options every Pool call takes: an AbortSignal, and a `timeout` (ms) each task may run before its worker is replaced.
 *
 * @example
 * ```ts
 * import { Pool } from "multiproc";
 * await using pool = new Pool(2);
 * const ac = new AbortController();
 * const result = pool.apply((n: number) => n + 1, [1], { signal: ac.signal });
 * ```
 */
export interface CallOptions {
  /** Aborting drops the call's queued work and aborts its running tasks' currentTask().signal. */
  signal?: AbortSignal;
  /** Milliseconds a task (a chunk, for maps) may run, counted from its start in the worker; past it, the task fails with TimeoutError and its worker is replaced. */
  timeout?: number;
  /** Gets each value the call's tasks emit (currentTask().emit), in order, before the result. */
  onEvent?: (value: unknown) => void;
  /** On abort, kill (and replace) the workers running the call's tasks instead of letting them end. */
  killOnAbort?: boolean;
}

/**
 * Options of Pool.applyAsync: the CallOptions plus Python's callback and errorCallback.
 *
 * @example
 * ```ts
 * import { Pool } from "multiproc";
 * await using pool = new Pool(2);
 * pool.applyAsync((n: number) => n * 2, [21], { callback: (v) => console.log(v), errorCallback: (e) => console.error(e) });
 * ```
 */
export interface ApplyOptions<R> extends CallOptions, Callbacks<R> {}

/**
 * Options of map, starmap, imap and imapUnordered: `chunksize` (items per task), `progress`, and the CallOptions.
 *
 * @example
 * ```ts
 * import { Pool } from "multiproc";
 * await using pool = new Pool(2);
 * const out = await pool.map((x: number) => 1 / x, [1, 2, 4], { chunksize: 2, progress: true });
 * ```
 */
export interface MapOptions extends CallOptions {
  /** Items per task. map: ceil(length / (4 x processes)) when the length is known, else 1; imap: 1. */
  chunksize?: number;
  /** true draws a bar on stderr (when it is a terminal); a function is called as (done, total). */
  progress?: ProgressOption;
  /** Each item settles on its own ({ status: "fulfilled", value } | { status: "rejected", reason }): one failure stops nothing. */
  settle?: boolean;
}

/** MapOptions with settle: true (the results are SettledResult records). */
export interface SettleOptions extends MapOptions {
  settle: true;
}

/**
 * Options of mapAsync and starmapAsync: MapOptions plus Python's callback and errorCallback.
 *
 * @example
 * ```ts
 * import { Pool } from "multiproc";
 * await using pool = new Pool(2);
 * const r = pool.mapAsync((x: number) => x + 1, [1, 2], { callback: (values) => console.log(values) });
 * await r.wait();
 * ```
 */
export interface MapAsyncOptions<R> extends MapOptions, Callbacks<R[]> {}

type Fn<A extends unknown[], R> = (...args: A) => R;

/** Items in flight or buffered per worker for imap, in chunks. */
const IMAP_CHUNKS_PER_WORKER = 256;
/** Chunks an async input is read ahead of dispatch. */
const READ_AHEAD = 64;

interface Checked {
  signal: AbortSignal | undefined;
  timeout: number | undefined;
  callbacks: Callbacks<unknown>;
  chunksize: number | undefined;
  progress: ProgressOption | undefined;
  features: CallFeatures;
}

function checkBoolean(v: unknown, name: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw new ArgumentError(`${name} must be a boolean, got ${describe(v)}`, ErrorCodes.INVALID_ARG_TYPE);
  return v;
}

/** The options of issue 16; the shared NO_FEATURES when none is given (no object per call). */
function checkFeatures(o: Record<string, unknown>, kind: "apply" | "map" | "imap"): CallFeatures {
  const { onEvent, killOnAbort, settle } = o;
  if (onEvent === undefined && killOnAbort === undefined && settle === undefined) return NO_FEATURES;
  if (onEvent !== undefined && onEvent !== null && typeof onEvent !== "function") {
    throw new ArgumentError(`onEvent must be a function, got ${describe(onEvent)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  if (kind === "apply" && settle !== undefined) {
    throw new ArgumentError("settle applies to map, starmap, imap and imapUnordered; apply rejects with its task's error", ErrorCodes.INVALID_ARG_VALUE);
  }
  return {
    onEvent: typeof onEvent === "function" ? (onEvent as (v: unknown) => void) : undefined,
    killOnAbort: checkBoolean(killOnAbort, "killOnAbort"),
    settle: checkBoolean(settle, "settle"),
  };
}

function checkCallOptions(options: unknown, kind: "apply" | "map" | "imap"): Checked {
  const o = checkOptions(options);
  const checked: Checked = {
    signal: checkSignal(o.signal),
    timeout: checkLimit(o.timeout, "timeout"),
    callbacks: {},
    chunksize: undefined,
    progress: undefined,
    features: checkFeatures(o, kind),
  };
  if (kind !== "imap") {
    for (const name of ["callback", "errorCallback"] as const) {
      const f = o[name];
      if (f !== undefined && f !== null && typeof f !== "function") {
        throw new ArgumentError(`${name} must be a function, got ${describe(f)}`, ErrorCodes.INVALID_ARG_TYPE);
      }
      if (typeof f === "function") checked.callbacks[name] = f as (v: unknown) => void;
    }
  }
  if (kind !== "apply") {
    if (o.chunksize !== undefined && o.chunksize !== null) checked.chunksize = checkInteger(o.chunksize, "chunksize", 1);
    checked.progress = checkProgress(o.progress);
  }
  return checked;
}

/** Python's Pool API over an Engine. Subclasses build the engine and own the lifetime rules. */
export abstract class BasePool implements AsyncDisposable {
  /** Number of workers (for a cluster, the parallelism expected across nodes): sets map's default chunksize and imap's read-ahead. */
  readonly processes: number;
  readonly #s: Engine;
  /** The most items a default map chunk of objects holds (chunking.ts); a cluster's jobs cost a Redis round trip each, so it keeps CPython's chunks. */
  protected objectChunkMax = OBJECT_CHUNK_MAX;

  protected constructor(engine: Engine, processes: number) {
    this.#s = engine;
    this.processes = processes;
  }

  // ---- apply ----

  /** Runs fn(...args) in a worker and resolves with what it returns (Python's apply). */
  async apply<A extends unknown[], R>(fn: Fn<A, R>, args?: A, options: CallOptions = {}): Promise<Awaited<R>> {
    return this.applyAsync(fn, args, options).get();
  }

  /** Starts fn(...args) in a worker; the AsyncResult (also a PromiseLike) gives the outcome. */
  applyAsync<A extends unknown[], R>(fn: Fn<A, R>, args?: A, options: ApplyOptions<Awaited<R>> = {}): AsyncResult<Awaited<R>> {
    const o = checkCallOptions(options, "apply");
    describeTarget(fn, "fn");
    const list = args ?? [];
    if (!Array.isArray(list)) throw new ArgumentError(`args must be an array, got ${describe(list)}`, ErrorCodes.INVALID_ARG_TYPE);
    this.#checkRunning();
    const encoded = this.#s.encodeArgs(list);
    const result = new AsyncResult<Awaited<R>>(this.#s);
    const refused = o.signal?.aborted ? new AbortError(o.signal.reason) : this.#s.admit?.(1);
    if (refused !== undefined) {
      result._reject(refused);
      return result;
    }
    this.#launch(fn as Fn<unknown[], unknown>, new ApplyCall<Awaited<R>>(this.#s, result, encoded, o.timeout, o.callbacks, o.signal, o.features));
    return result;
  }

  // ---- map / starmap ----

  /** fn over every item, results in input order (Python's map); with `settle: true`, one record per item. */
  map<T, R>(fn: (item: T) => R, iterable: Input<T>, options: SettleOptions): Promise<SettledResult<Awaited<R>>[]>;
  map<T, R>(fn: (item: T) => R, iterable: Input<T>, options?: MapOptions): Promise<Awaited<R>[]>;
  async map<T, R>(fn: (item: T) => R, iterable: Input<T>, options: MapOptions = {}): Promise<unknown[]> {
    return this.#mapAsync("map", fn as Fn<unknown[], unknown>, iterable, options).get();
  }

  /** map() that returns an AsyncResult at once (Python's map_async). */
  mapAsync<T, R>(fn: (item: T) => R, iterable: Input<T>, options: SettleOptions & MapAsyncOptions<SettledResult<Awaited<R>>>): AsyncResult<SettledResult<Awaited<R>>[]>;
  mapAsync<T, R>(fn: (item: T) => R, iterable: Input<T>, options?: MapAsyncOptions<Awaited<R>>): AsyncResult<Awaited<R>[]>;
  mapAsync<T, R>(fn: (item: T) => R, iterable: Input<T>, options: MapAsyncOptions<Awaited<R>> = {}): AsyncResult<unknown[]> {
    return this.#mapAsync("map", fn as Fn<unknown[], unknown>, iterable, options);
  }

  /** fn(...args) for every argument list, results in input order (Python's starmap). */
  starmap<A extends unknown[], R>(fn: Fn<A, R>, iterable: Input<A>, options: SettleOptions): Promise<SettledResult<Awaited<R>>[]>;
  starmap<A extends unknown[], R>(fn: Fn<A, R>, iterable: Input<A>, options?: MapOptions): Promise<Awaited<R>[]>;
  async starmap<A extends unknown[], R>(fn: Fn<A, R>, iterable: Input<A>, options: MapOptions = {}): Promise<unknown[]> {
    return this.#mapAsync("starmap", fn as Fn<unknown[], unknown>, iterable, options).get();
  }

  /** starmap() that returns an AsyncResult at once (Python's starmap_async). */
  starmapAsync<A extends unknown[], R>(fn: Fn<A, R>, iterable: Input<A>, options: SettleOptions & MapAsyncOptions<SettledResult<Awaited<R>>>): AsyncResult<SettledResult<Awaited<R>>[]>;
  starmapAsync<A extends unknown[], R>(fn: Fn<A, R>, iterable: Input<A>, options?: MapAsyncOptions<Awaited<R>>): AsyncResult<Awaited<R>[]>;
  starmapAsync<A extends unknown[], R>(fn: Fn<A, R>, iterable: Input<A>, options: MapAsyncOptions<Awaited<R>> = {}): AsyncResult<unknown[]> {
    return this.#mapAsync("starmap", fn as Fn<unknown[], unknown>, iterable, options);
  }

  #mapAsync(mode: "map" | "starmap", fn: Fn<unknown[], unknown>, iterable: unknown, options: unknown): AsyncResult<unknown[]> {
    const o = checkCallOptions(options, "map");
    describeTarget(fn, "fn");
    let input = checkInput(iterable);
    this.#checkRunning();
    // Like CPython, a synchronous input is read into a list at the call (its length sets the chunksize).
    if (!isAsyncInput(input) && !Array.isArray(input)) input = Array.from(input);
    const result = new AsyncResult<unknown[]>(this.#s);
    const units = Array.isArray(input) ? Math.ceil(input.length / (o.chunksize ?? defaultChunksize(input.length, this.processes))) : 1;
    const refused = o.signal?.aborted ? new AbortError(o.signal.reason) : this.#s.admit?.(units);
    if (refused !== undefined) {
      result._reject(refused);
      return result;
    }
    const call = new MapCall<unknown>(this.#s, result, mode, o.timeout, o.callbacks, o.signal, makeProgress(o.progress, mode), o.features, units);
    call.source = this.#source(input, o.chunksize, "map", () => {
      call.check();
      this.#s.wake();
    }, (err) => call.fail(err));
    this.#launch(fn, call);
    return result;
  }

  // ---- imap ----

  /** Results as an async iterable, in input order; the input is read lazily. */
  imap<T, R>(fn: (item: T) => R, iterable: Input<T>, options: SettleOptions): PoolIterator<SettledResult<Awaited<R>>>;
  imap<T, R>(fn: (item: T) => R, iterable: Input<T>, options?: MapOptions): PoolIterator<Awaited<R>>;
  imap<T, R>(fn: (item: T) => R, iterable: Input<T>, options: MapOptions = {}): PoolIterator<Awaited<R>> | PoolIterator<SettledResult<Awaited<R>>> {
    return this.#imap(fn as Fn<unknown[], unknown>, iterable, options, true) as PoolIterator<Awaited<R>>;
  }

  /** Results as an async iterable, in the order they finish. */
  imapUnordered<T, R>(fn: (item: T) => R, iterable: Input<T>, options: SettleOptions): PoolIterator<SettledResult<Awaited<R>>>;
  imapUnordered<T, R>(fn: (item: T) => R, iterable: Input<T>, options?: MapOptions): PoolIterator<Awaited<R>>;
  imapUnordered<T, R>(fn: (item: T) => R, iterable: Input<T>, options: MapOptions = {}): PoolIterator<Awaited<R>> | PoolIterator<SettledResult<Awaited<R>>> {
    return this.#imap(fn as Fn<unknown[], unknown>, iterable, options, false) as PoolIterator<Awaited<R>>;
  }

  #imap(fn: Fn<unknown[], unknown>, iterable: unknown, options: unknown, ordered: boolean): PoolIterator<unknown> {
    const o = checkCallOptions(options, "imap");
    describeTarget(fn, "fn");
    const input = checkInput(iterable);
    this.#checkRunning();
    const chunksize = o.chunksize ?? 1;
    const it = new PoolIterator<unknown>(this.#s, {
      mode: "map",
      ordered,
      limit: chunksize * this.processes * IMAP_CHUNKS_PER_WORKER,
      timeout: o.timeout,
      signal: o.signal,
      progress: makeProgress(o.progress, ordered ? "imap" : "imapUnordered"),
      features: o.features,
    });
    const refused = o.signal?.aborted ? new AbortError(o.signal.reason) : this.#s.admit?.(1);
    if (refused !== undefined) {
      it.fail(refused);
      return it;
    }
    it.setSource(this.#source(input, chunksize, "imap", () => {
      it.check();
      this.#s.wake();
    }, (err) => it.inputFailed(err)));
    this.#launch(fn, it);
    return it;
  }

  #source(input: Input<unknown>, chunksize: number | undefined, kind: "map" | "imap", onChunk: () => void, onError: (err: unknown) => void): ChunkSource<unknown> {
    if (isAsyncInput(input)) return new AsyncChunks(input, chunksize ?? 1, READ_AHEAD, onChunk, onError);
    if (Array.isArray(input)) {
      return new ArrayChunks(input, chunksize ?? (kind === "map" ? defaultChunksize(input.length, this.processes, input[0], this.objectChunkMax) : 1));
    }
    return new IteratorChunks(input, chunksize ?? 1);
  }

  /** Submits the call once its function is located (at once when it was seen before). */
  #launch(fn: Fn<unknown[], unknown>, call: Call): void {
    const s = this.#s;
    const submit = (target: TargetEntry) => {
      call.target = target;
      s.submit(call);
    };
    const known = s.knownTarget(fn);
    if (known !== undefined) {
      submit(known);
      return;
    }
    s.preparing(+1);
    s.target(fn).then(
      (target) => {
        s.preparing(-1);
        submit(target);
      },
      (err: unknown) => {
        s.preparing(-1);
        call.fail(err);
      },
    );
  }

  #checkRunning(): void {
    const refused = this.#s.refusal();
    if (refused !== undefined) throw refused;
  }

  // ---- lifetime ----

  /** No new work; workers exit once what was submitted is done (Python's close). */
  close(): void {
    this.#s.close();
  }

  /**
   * Stops the workers now. Work not yet finished fails with ERR_POOL_TERMINATED. Resolves once
   * every worker is gone.
   */
  terminate(): Promise<void> {
    return this.#s.terminate();
  }

  /** Waits for every worker to exit; call close() or terminate() first. */
  join(): Promise<void> {
    return this.#s.join();
  }

  /** `await using pool = new Pool()` terminates it at the end of the block, like Python's `with`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.terminate();
  }
}
