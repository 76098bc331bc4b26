// The calls that end in one AsyncResult: apply (one task) and map/starmap (chunks of an input,
// results kept in input order). imap.ts has the iterators.
import { AbortError, onAbort } from "../abort.js";
import type { ChunkSource } from "./chunking.js";
import type { Progress } from "./progress.js";
import { taskError } from "./errors.js";
import { PLACED, TASK_EVENTS, TASK_SETTLE, type TaskMode } from "./protocol.js";
import type { AsyncResult } from "./results.js";
import { StatsTable, type WorkerIdentity } from "./stats.js";
import type { Call, CallFeatures, Host, TargetEntry, Unit } from "./task.js";

export interface Callbacks<T> {
  /** Called with the value when the call succeeds (before the AsyncResult is ready). */
  callback?: ((value: T) => void) | undefined;
  /** Called with the error when the call fails. */
  errorCallback?: ((error: unknown) => void) | undefined;
}

/** A callback that throws is the caller's bug: it surfaces as an uncaught exception, as a throwing event listener does. */
export function invoke<A>(fn: ((arg: A) => void) | undefined, arg: A): void {
  if (fn === undefined) return;
  try {
    fn(arg);
  } catch (err) {
    setImmediate(() => {
      throw err;
    });
  }
}

export function makeUnit(
  host: Host,
  call: Call,
  fields: { index: number; count: number; target: TargetEntry; mode: TaskMode; payload: Unit["payload"]; timeout: number | undefined },
): Unit {
  return {
    id: host.nextUnitId(),
    call,
    index: fields.index,
    count: fields.count,
    target: fields.target,
    mode: fields.mode,
    payload: fields.payload,
    timeout: fields.timeout,
    done: false,
    timer: undefined,
  };
}

/**
 * One item's outcome under { settle: true }, as Promise.allSettled gives it.
 *
 * @example
 * ```ts
 * import { Pool, type SettledResult } from "multiproc";
 * export function parse(line: string): number { return JSON.parse(line) as number; }
 * const lines = ["1", "2", "not json"];
 * await using pool = new Pool(2);
 * const records: SettledResult<number>[] = await pool.map(parse, lines, { settle: true });
 * const bad = records.filter((r) => r.status === "rejected");
 * ```
 */
export type SettledResult<T> = { status: "fulfilled"; value: T } | { status: "rejected"; reason: unknown };

/** A settled chunk's records as they came from the worker: the reasons revived with the worker's stack. */
export function settledValues(values: unknown, worker: WorkerIdentity): SettledResult<unknown>[] {
  const records = values as SettledResult<unknown>[];
  for (const r of records) if (r.status === "rejected") r.reason = taskError(r.reason, worker);
  return records;
}

/** Every item of a unit that failed as a whole (its worker died, it timed out, it could not be sent). */
export function rejectedValues(count: number, reason: unknown): SettledResult<unknown>[] {
  return Array.from({ length: count }, () => ({ status: "rejected", reason }) as const);
}

/** The flag bits of a call's units. */
export function featureFlags(f: CallFeatures): number {
  return (f.settle ? TASK_SETTLE : 0) | (f.onEvent !== undefined ? TASK_EVENTS : 0);
}

/** Parts joined by one Array.prototype.concat call (each is an argument). */
const CONCAT_PARTS = 256;
/** Arrays up to this length are made at their full size at once (V8 keeps them fast up to 32 Mi elements). */
const PREALLOCATE_MAX = 1 << 24;

abstract class ResultCall<T> implements Call {
  protected readonly stats = new StatsTable();
  target: TargetEntry | undefined;
  settled = false;
  kill = false;
  readonly flags: number;
  readonly submittedAt = performance.now();
  readonly #detach: () => void;

  constructor(
    protected readonly host: Host,
    readonly result: AsyncResult<T>,
    private readonly callbacks: Callbacks<T>,
    signal: AbortSignal | undefined,
    protected readonly progress: Progress | undefined,
    protected readonly features: CallFeatures,
  ) {
    this.flags = featureFlags(features);
    this.#detach = onAbort(signal, (reason) => {
      this.kill = features.killOnAbort;
      this.fail(new AbortError(reason));
    });
    // A callback waits for the outcome as an await does (a JS listener keeps its program alive).
    this.#listens = callbacks.callback !== undefined || callbacks.errorCallback !== undefined;
    if (this.#listens) host.waiting?.(1);
  }

  readonly #listens: boolean;

  abstract take(): Unit | undefined;
  abstract get exhausted(): boolean;
  abstract queued(): number;

  onEvent(_unit: Unit, value: unknown): void {
    if (!this.settled) invoke(this.features.onEvent, value);
  }
  abstract onResult(unit: Unit, value: unknown, worker: WorkerIdentity, busyMs: number): void;

  onError(unit: Unit, error: unknown, worker: WorkerIdentity | undefined, busyMs: number): void {
    if (this.settled) return;
    if (worker !== undefined) this.stats.add(worker, unit.count, busyMs);
    this.fail(error);
  }

  protected succeed(value: T): void {
    if (this.settled) return;
    this.#end();
    invoke(this.callbacks.callback, value);
    this.result._resolve(value, this.stats.snapshot());
  }

  fail(error: unknown): void {
    if (this.settled) return;
    this.#end();
    invoke(this.callbacks.errorCallback, error);
    this.result._reject(error, this.stats.snapshot());
  }

  #end(): void {
    this.settled = true;
    this.#detach();
    this.progress?.stop();
    this.host.finished(this);
    if (this.#listens) this.host.waiting?.(-1);
  }
}

export class ApplyCall<T> extends ResultCall<T> {
  #taken = false;

  constructor(
    host: Host,
    result: AsyncResult<T>,
    private readonly args: Uint8Array,
    private readonly timeout: number | undefined,
    callbacks: Callbacks<T>,
    signal: AbortSignal | undefined,
    features: CallFeatures,
  ) {
    super(host, result, callbacks, signal, undefined, features);
  }

  queued(): number {
    return this.#taken || this.settled ? 0 : 1;
  }

  take(): Unit | undefined {
    if (this.#taken || this.settled) return undefined;
    this.#taken = true;
    return makeUnit(this.host, this, { index: 0, count: 1, target: this.target!, mode: "apply", payload: { encoded: this.args }, timeout: this.timeout });
  }

  get exhausted(): boolean {
    return this.settled || this.#taken;
  }

  onResult(unit: Unit, value: unknown, worker: WorkerIdentity, busyMs: number): void {
    if (this.settled) return;
    this.stats.add(worker, 1, busyMs);
    this.succeed(value as T);
  }
}

export class MapCall<R> extends ResultCall<R[]> {
  /**
   * Each answered chunk's values by the index of its first item. Chunks answer out of order:
   * writing them into one array as they come would leave holes, which V8 turns into a slow
   * dictionary for large arrays; the result is assembled once, in order, at the end.
   */
  readonly #parts = new Map<number, R[]>();
  /** The result made at its size once the input's length is known: answers are copied in place. */
  #out: R[] | undefined;
  #outstanding = 0;
  #done = 0;
  #taken = 0;

  /** Set once the input is known (an async input is read only after the function resolved). */
  source: ChunkSource<unknown> | undefined;

  constructor(
    host: Host,
    result: AsyncResult<R[]>,
    private readonly mode: "map" | "starmap",
    private readonly timeout: number | undefined,
    callbacks: Callbacks<R[]>,
    signal: AbortSignal | undefined,
    progress: Progress | undefined,
    features: CallFeatures,
    /** Units the input makes, when known at the call (maxQueue, stats). */
    private readonly units: number,
  ) {
    super(host, result, callbacks, signal, progress, features);
  }

  queued(): number {
    if (this.settled || this.source === undefined || this.source.done) return 0;
    return Math.max(1, this.units - this.#taken);
  }

  take(): Unit | undefined {
    if (this.settled) return undefined;
    let chunk;
    try {
      chunk = this.source!.next();
    } catch (err) {
      this.fail(err);
      return undefined;
    }
    if (chunk === undefined) {
      this.check();
      return undefined;
    }
    this.#outstanding++;
    this.#taken++;
    return makeUnit(this.host, this, {
      index: chunk.index,
      count: chunk.end - chunk.start,
      target: this.target!,
      mode: this.mode,
      payload: chunk,
      timeout: this.timeout,
    });
  }

  get exhausted(): boolean {
    return this.settled || this.source!.done;
  }

  override onError(unit: Unit, error: unknown, worker: WorkerIdentity | undefined, busyMs: number): void {
    if (!this.features.settle) {
      super.onError(unit, error, worker, busyMs);
      return;
    }
    // Settling: the unit's items are rejected, and the map goes on.
    if (this.settled) return;
    if (worker !== undefined) this.stats.add(worker, unit.count, busyMs);
    this.#place(unit, rejectedValues(unit.count, error));
  }

  onResult(unit: Unit, value: unknown, worker: WorkerIdentity, busyMs: number): void {
    if (this.settled) return;
    this.stats.add(worker, unit.count, busyMs);
    this.#place(unit, this.features.settle ? settledValues(value, worker) : value);
  }

  #place(unit: Unit, value: unknown): void {
    if (value !== PLACED) {
      const values = value as R[];
      const out = this.output();
      if (out === undefined) {
        this.#parts.set(unit.index, values);
      } else {
        const at = unit.index;
        for (let i = 0; i < values.length; i++) out[at + i] = values[i]!;
      }
    }
    this.#outstanding--;
    this.#done += unit.count;
    this.progress?.update(this.#done, this.source!.total);
    this.check();
  }

  /** The result, made at its size once the input's length is known (so answers are written in place). */
  output(): R[] | undefined {
    if (this.#out === undefined && this.#parts.size === 0 && !this.settled) {
      const total = this.source?.total;
      if (total !== undefined && total <= PREALLOCATE_MAX) this.#out = new Array<R>(total);
    }
    return this.#out;
  }

  /** Succeeds once the input is used up and every chunk answered. */
  check(): void {
    if (!this.settled && this.source !== undefined && this.source.done && this.#outstanding === 0) this.succeed(this.#assemble());
  }

  #assemble(): R[] {
    if (this.#out !== undefined) return this.#out;
    // Array.prototype.concat copies whole runs (6 ns an item here, where push took 24 ns).
    const parts: R[][] = [];
    let length = 0;
    for (let part = this.#parts.get(0); part !== undefined && part.length > 0; part = this.#parts.get(length)) {
      parts.push(part);
      length += part.length;
    }
    this.#parts.clear();
    if (parts.length === 1) return parts[0]!;
    if (parts.length <= CONCAT_PARTS) return ([] as R[]).concat(...parts);
    // Too many parts for one call's arguments (chunksize 1): fill an array made at its size.
    const out: R[] = length > PREALLOCATE_MAX ? [] : new Array<R>(length);
    let k = 0;
    for (const part of parts) for (let i = 0; i < part.length; i++) out[k++] = part[i]!;
    return out;
  }

  override fail(error: unknown): void {
    if (this.settled) return;
    this.source?.close();
    super.fail(error);
  }
}
