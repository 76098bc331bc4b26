// AsyncResult: what applyAsync/mapAsync/starmapAsync return (Python's ApplyResult/MapResult).
// It is also a PromiseLike, so `await pool.applyAsync(f, [x])` works. A failure that nobody asks
// for is not an unhandled rejection: the outcome is kept until someone calls get() or then().
import { AbortError, onAbort } from "../abort.js";
import { ErrorCodes, StateError, TimeoutError } from "../errors.js";
import { checkOptions, checkSignal, checkTimeout } from "../validate.js";
import type { WorkerStats } from "./stats.js";

export interface WaitOptions {
  /** Milliseconds. */
  timeout?: number;
  signal?: AbortSignal;
}

/** Told while someone waits for an outcome (the pool keeps the program alive meanwhile). */
export interface Keeper {
  waiting?(delta: number): void;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * What applyAsync, mapAsync and starmapAsync return (Python's AsyncResult): get(), wait(), ready(), successful(); it is also awaitable.
 *
 * @example
 * ```ts
 * import { Pool } from "multiproc";
 * await using pool = new Pool(2);
 * const r = pool.applyAsync((x: number) => x * x, [12]);
 * await r.wait({ timeout: 5000 });
 * console.log(r.ready(), r.successful(), await r.get()); // true true 144
 * console.log(await r); // 144: an AsyncResult is a PromiseLike
 * ```
 */
export class AsyncResult<T> implements PromiseLike<T> {
  #outcome: Outcome<T> | undefined;
  readonly #settled: Promise<void>;
  #wake!: () => void;
  #stats: WorkerStats[] = [];
  readonly #keeper: Keeper | undefined;

  /** @internal Created by the Pool; `keeper` is told while someone waits for the outcome. */
  constructor(keeper?: Keeper) {
    this.#keeper = keeper;
    this.#settled = new Promise<void>((resolve) => (this.#wake = resolve));
  }

  /** @internal */
  _resolve(value: T, stats?: WorkerStats[]): boolean {
    if (this.#outcome !== undefined) return false;
    this.#outcome = { ok: true, value };
    if (stats !== undefined) this.#stats = stats;
    this.#wake();
    return true;
  }

  /** @internal */
  _reject(error: unknown, stats?: WorkerStats[]): boolean {
    if (this.#outcome !== undefined) return false;
    this.#outcome = { ok: false, error };
    if (stats !== undefined) this.#stats = stats;
    this.#wake();
    return true;
  }

  /** Whether the call has completed (successfully or not). */
  ready(): boolean {
    return this.#outcome !== undefined;
  }

  /** Whether the call completed without an error; throws if it has not completed yet (as Python). */
  successful(): boolean {
    if (this.#outcome === undefined) {
      throw new StateError("the result is not ready yet; wait() for it first", { code: ErrorCodes.NOT_READY });
    }
    return this.#outcome.ok;
  }

  /** Per-worker statistics of this call (tasks, items, busy time), complete once it is ready. */
  get stats(): WorkerStats[] {
    return this.#stats;
  }

  /** Waits until the result is ready or the timeout passes; resolves with ready(). */
  async wait(options: WaitOptions = {}): Promise<boolean> {
    const opts = checkOptions(options);
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    if (this.#outcome !== undefined) return true;
    if (signal?.aborted) throw new AbortError(signal.reason);
    this.#keeper?.waiting?.(1);
    if (timeout === undefined && signal === undefined) {
      try {
        await this.#settled;
      } finally {
        this.#keeper?.waiting?.(-1);
      }
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    let detach = () => undefined as void;
    try {
      await Promise.race([
        this.#settled,
        new Promise<void>((resolve, reject) => {
          if (timeout !== undefined) timer = setTimeout(resolve, timeout);
          detach = onAbort(signal, (reason) => reject(new AbortError(reason)));
        }),
      ]);
    } finally {
      clearTimeout(timer);
      detach();
      this.#keeper?.waiting?.(-1);
    }
    return this.#outcome !== undefined;
  }

  /** The value, or the task's error; TimeoutError if not ready within `timeout` ms. */
  async get(options: WaitOptions = {}): Promise<T> {
    if (!(await this.wait(options))) {
      throw new TimeoutError(`the result was not ready within ${String(options.timeout)} ms`);
    }
    const outcome = this.#outcome!;
    if (outcome.ok) return outcome.value;
    throw outcome.error;
  }

  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.get().then(onfulfilled, onrejected);
  }

  get [Symbol.toStringTag](): string {
    return "AsyncResult";
  }
}
