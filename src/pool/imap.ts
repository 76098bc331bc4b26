// imap and imapUnordered: results as an async iterator, in input order or as they arrive. The
// input is read only while fewer than `limit` items are in flight or waiting for the consumer, so
// memory stays bounded however long (or endless) the input is.
import { AbortError, onAbort } from "../abort.js";
import type { ChunkSource } from "./chunking.js";
import { makeUnit } from "./calls.js";
import { Fifo } from "./fifo.js";
import type { Progress } from "./progress.js";
import { StatsTable, type WorkerIdentity, type WorkerStats } from "./stats.js";
import type { Call, Host, TargetEntry, Unit } from "./task.js";

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

  /** @internal Created by the Pool. */
  constructor(host: Host, settings: ImapSettings) {
    this.#host = host;
    this.#s = settings;
    this.#detach = onAbort(settings.signal, (reason) => this.fail(new AbortError(reason)));
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
      this.fail(err);
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
    this.#accept(unit.index, value as R[]);
    this.check();
  }

  /** @internal */
  onError(unit: Unit, error: unknown, worker: WorkerIdentity | undefined, busyMs: number): void {
    if (this.#settled) return;
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
    if (r === undefined) return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
    if ("error" in r) throw r.error;
    return r;
  }

  /** Stops early (what `break` in `for await` calls): queued work is dropped, running work is left to end. */
  return(): Promise<IteratorResult<R>> {
    this.#finished = true;
    this.#ready.clear();
    this.#pending.clear();
    this.#end();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
