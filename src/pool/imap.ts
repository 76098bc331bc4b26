// imap and imapUnordered: results as an async iterator, in input order or as they arrive. The
// input is read only while fewer than `limit` items are in flight or waiting for the consumer, so
// memory stays bounded however long (or endless) the input is.
import { AbortError, onAbort } from "../abort.js";
import type { ChunkSource } from "./chunking.js";
import { featureFlags, invoke, makeUnit, rejectedValues, settledValues } from "./calls.js";
import { Fifo } from "./fifo.js";
import type { Progress } from "./progress.js";
import { StatsTable, type WorkerIdentity, type WorkerStats } from "./stats.js";
import type { Call, CallFeatures, Host, TargetEntry, Unit } from "./task.js";

interface Failed {
  error: unknown;
}

export interface ImapSettings {
  mode: "map" | "starmap";
  ordered: boolean;
  /** Items allowed in flight or buffered for the consumer. */
  limit: number;
  timeout: number | undefined;
  signal: AbortSignal | undefined;
  progress: Progress | undefined;
  features: CallFeatures;
}

/**
 * The async iterator imap and imapUnordered return. Breaking out of `for await` stops the work.
 *
 * @example
 * ```ts
 * import { Pool } from "multiproc";
 * await using pool = new Pool(2);
 * for await (const y of pool.imap((x: number) => x * 10, [1, 2, 3])) {
 *   console.log(y); // 10, 20, 30 in order
 * }
 * ```
 */
export class PoolIterator<R> implements Call, AsyncIterableIterator<R> {
  readonly #host: Host;
  #source: ChunkSource<unknown> | undefined;
  target: TargetEntry | undefined;
  readonly #s: ImapSettings;
  readonly #stats = new StatsTable();
  readonly #ready = new Fifo<R>();
  readonly #pending = new Map<number, R[] | Failed>();
  readonly #detach: () => void;
  #next = 0;
  #outstanding = 0;
  #held = 0;
  #done = 0;
  #error: Failed | undefined;
  #settled = false;
  /** A task failed: take no more input (results of earlier chunks are still awaited in order). */
  #failing = false;
  #finished = false;
  #waiter: { resolve: (r: IteratorResult<R>) => void; reject: (e: unknown) => void } | undefined;
  /** @internal */
  readonly flags: number;
  /** @internal */
  readonly submittedAt = performance.now();
  /** @internal */
  kill = false;

  /** @internal Created by the Pool. */
  constructor(host: Host, settings: ImapSettings) {
    this.#host = host;
    this.#s = settings;
    this.flags = featureFlags(settings.features);
    this.#detach = onAbort(settings.signal, (reason) => {
      this.kill = settings.features.killOnAbort;
      this.fail(new AbortError(reason));
    });
  }

  /** @internal */
  onEvent(_unit: Unit, value: unknown): void {
    if (!this.#settled) invoke(this.#s.features.onEvent, value);
  }

  /** @internal */
  queued(): number {
    return this.#settled || this.#failing || this.#source === undefined || this.#source.done ? 0 : 1;
  }

  /** Per-worker statistics so far (complete once the iteration ended). */
  get stats(): WorkerStats[] {
    return this.#stats.snapshot();
  }

  /** @internal */
  get settled(): boolean {
    return this.#settled;
  }

  /** @internal Set once the function is resolved, before the call is submitted. */
  setSource(source: ChunkSource<unknown>): void {
    this.#source = source;
  }

  get exhausted(): boolean {
    return this.#settled || this.#source!.done;
  }

  take(): Unit | undefined {
    if (this.#settled || this.#failing || this.#held >= this.#s.limit) return undefined;
    let chunk;
    try {
      chunk = this.#source!.next();
    } catch (err) {
      this.inputFailed(err);
      return undefined;
    }
    if (chunk === undefined) {
      this.check();
      return undefined;
    }
    this.#outstanding++;
    this.#held += chunk.end - chunk.start;
    return makeUnit(this.#host, this, {
      index: chunk.index,
      count: chunk.end - chunk.start,
      target: this.target!,
      mode: this.#s.mode,
      payload: chunk,
      timeout: this.#s.timeout,
    });
  }

  /** @internal */
  onResult(unit: Unit, value: unknown, worker: WorkerIdentity, busyMs: number): void {
    if (this.#settled) return;
    this.#stats.add(worker, unit.count, busyMs);
    this.#outstanding--;
    this.#done += unit.count;
    this.#s.progress?.update(this.#done, this.#source!.total);
    this.#accept(unit.index, (this.#s.features.settle ? settledValues(value, worker) : value) as R[]);
    this.check();
  }

  /** @internal */
  onError(unit: Unit, error: unknown, worker: WorkerIdentity | undefined, busyMs: number): void {
    if (this.#settled) return;
    if (this.#s.features.settle) {
      // Settling: the unit's items are rejected, and the iteration goes on.
      if (worker !== undefined) this.#stats.add(worker, unit.count, busyMs);
      this.#outstanding--;
      this.#done += unit.count;
      this.#accept(unit.index, rejectedValues(unit.count, error) as R[]);
      this.check();
      return;
    }
    if (worker !== undefined) this.#stats.add(worker, unit.count, busyMs);
    this.#outstanding--;
    this.#failing = true;
    // In order, the error waits for its turn; unordered, it comes after what is ready now.
    if (this.#s.ordered) {
      this.#accept(unit.index, { error });
    } else {
      this.#error = { error };
      this.#end();
      this.#deliver();
    }
  }

  /**
   * The input threw while being read: as CPython's imap, the results of the items before it are
   * still given (in order), then the error, where the next item would have been. Chunks an
   * async input had buffered before its failure still run (they come before it).
   * @internal
   */
  inputFailed(error: unknown): void {
    const at = this.#source!.total;
    if (this.#s.ordered && at !== undefined) this.#accept(at, { error });
    else {
      this.#error ??= { error };
      this.#deliver();
    }
    this.check();
    this.#host.wake(); // chunks an async input buffered before it failed still go out
  }

  /** Stops the call: the consumer gets `error` at its next step. */
  fail(error: unknown): void {
    if (this.#settled) return;
    this.#error = { error };
    this.#ready.clear();
    this.#pending.clear();
    this.#end();
    this.#deliver();
  }

  #accept(index: number, entry: R[] | Failed): void {
    if (!this.#s.ordered) {
      for (const v of entry as R[]) this.#ready.push(v);
    } else {
      this.#pending.set(index, entry);
      for (let e = this.#pending.get(this.#next); e !== undefined; e = this.#pending.get(this.#next)) {
        this.#pending.delete(this.#next);
        if (!Array.isArray(e)) {
          this.#error = e;
          break;
        }
        for (const v of e) this.#ready.push(v);
        this.#next += e.length;
      }
    }
    this.#deliver();
  }

  /** Ends the dispatching side once the input is used up and every chunk answered. */
  check(): void {
    if (!this.#settled && this.#source !== undefined && this.#source.done && this.#outstanding === 0) this.#end();
    this.#deliver();
  }

  #end(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#detach();
    this.#source?.close();
    this.#s.progress?.stop();
    this.#host.finished(this);
  }

  #deliver(): void {
    const w = this.#waiter;
    if (w === undefined) return;
    const r = this.#step();
    if (r === undefined) return;
    this.#waiter = undefined;
    this.#host.waiting?.(-1);
    if ("error" in r) w.reject(r.error);
    else w.resolve(r);
  }

  /** What the consumer gets now, if anything. */
  #step(): IteratorResult<R> | Failed | undefined {
    if (this.#finished) return { done: true, value: undefined };
    if (this.#ready.length > 0) {
      const value = this.#ready.shift() as R;
      this.#held--;
      if (this.#held === this.#s.limit - 1) this.#host.wake();
      return { done: false, value };
    }
    if (this.#error !== undefined) {
      this.#finished = true;
      this.#end();
      return this.#error;
    }
    if (this.#settled && this.#outstanding === 0 && this.#pending.size === 0) {
      this.#finished = true;
      return { done: true, value: undefined };
    }
    return undefined;
  }

  async next(): Promise<IteratorResult<R>> {
    if (this.#waiter !== undefined) throw new Error("PoolIterator: next() called again before the previous call settled");
    const r = this.#step();
    if (r === undefined) {
      // A pending step keeps the program alive, as an awaited map does (issue #14).
      this.#host.waiting?.(1);
      return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
    }
    if ("error" in r) throw r.error;
    return r;
  }

  /** Stops early (what `break` in `for await` calls): queued work is dropped, running work is left to end. */
  return(): Promise<IteratorResult<R>> {
    this.#finished = true;
    this.#ready.clear();
    this.#pending.clear();
    this.#end();
    this.#deliver(); // a step still pending (return() called beside it) ends too
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
