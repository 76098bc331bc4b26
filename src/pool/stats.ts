// Per-worker statistics: how many tasks (chunks) and items a worker ran and how long it was busy.
// Kept per call (AsyncResult.stats, PoolIterator.stats) and per pool (Pool.stats()).

/** One worker's share of some work. */
export interface WorkerStats {
  /** The worker's process name (PoolWorker-N). */
  name: string;
  pid: number;
  /** The worker thread's id for thread workers, 0 for processes. */
  threadId: number;
  /** Tasks run (a chunk of a map counts once). */
  tasks: number;
  /** Items run (every element of a chunk counts). */
  items: number;
  /** Milliseconds spent running them, measured in the worker. */
  busyMs: number;
}

/** Who ran a task, as the dispatcher knows it. */
export interface WorkerIdentity {
  readonly name: string;
  readonly pid: number;
  readonly threadId: number;
}

export class StatsTable {
  readonly #rows = new Map<string, WorkerStats>();

  add(worker: WorkerIdentity, items: number, busyMs: number): void {
    let row = this.#rows.get(worker.name);
    if (row === undefined) {
      row = { name: worker.name, pid: worker.pid, threadId: worker.threadId, tasks: 0, items: 0, busyMs: 0 };
      this.#rows.set(worker.name, row);
    }
    row.tasks += 1;
    row.items += items;
    row.busyMs += busyMs;
  }

  /** Forgets a worker (the pool keeps rows of live workers only). */
  remove(name: string): WorkerStats | undefined {
    const row = this.#rows.get(name);
    this.#rows.delete(name);
    return row;
  }

  snapshot(): WorkerStats[] {
    return [...this.#rows.values()].map((row) => ({ ...row }));
  }
}

/**
 * A time summary in milliseconds: percentiles over the latest samples, max and mean over all.
 *
 * @example
 * ```ts
 * const { p50, p99, max } = pool.stats().runTime;
 * ```
 */
export interface TimeSummary {
  /** Samples counted (all of them: the percentiles look at the latest SAMPLES). */
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * The figures Pool.stats() gives for each live worker and for the whole pool.
 *
 * @example
 * ```ts
 * const f: TaskFigures = pool.stats();
 * console.log(f.queued, f.running, f.completed, f.failed, f.utilization);
 * ```
 */
export interface TaskFigures {
  /** Tasks not yet begun: waiting for a worker, or held by one. */
  queued: number;
  /** Tasks running now. */
  running: number;
  /** Tasks that ended with a result. */
  completed: number;
  /** Tasks that ended with an error (their own, a timeout, or the worker's death). */
  failed: number;
  /** Share of the time spent running tasks, 0..1 (busy time over lifetime). */
  utilization: number;
  /** From a task's call to its start in the worker. */
  waitTime: TimeSummary;
  /** From a task's start to its end, in the worker. */
  runTime: TimeSummary;
}

/**
 * One live worker in Pool.stats(): WorkerStats plus its TaskFigures.
 *
 * @example
 * ```ts
 * for (const w of pool.stats().workers) console.log(w.name, w.completed, w.runTime.p90);
 * ```
 */
export interface PoolWorkerStats extends WorkerStats, TaskFigures {}

/**
 * Pool.stats(): the pool's live workers, and the pool-wide figures since it started (utilization: of the live workers).
 *
 * @example
 * ```ts
 * const s: PoolStats = pool.stats();
 * console.log(`${s.workers.length} workers, ${s.completed} done, wait p99 ${s.waitTime.p99} ms`);
 * ```
 */
export interface PoolStats extends TaskFigures {
  workers: PoolWorkerStats[];
}

/** Samples kept for the percentiles (the latest ones; a power of two). */
const SAMPLES = 1024;

/** The latest SAMPLES values in a ring, with count, sum and max over every value. */
export class Samples {
  readonly #ring = new Float64Array(SAMPLES);
  #count = 0;
  #sum = 0;
  #max = 0;

  add(v: number): void {
    this.#ring[this.#count & (SAMPLES - 1)] = v;
    this.#count++;
    this.#sum += v;
    if (v > this.#max) this.#max = v;
  }

  summary(): TimeSummary {
    const n = Math.min(this.#count, SAMPLES);
    const sorted = this.#ring.slice(0, n).sort();
    const at = (q: number) => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.ceil(q * n) - 1)]!);
    return { count: this.#count, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: this.#max, mean: this.#count === 0 ? 0 : this.#sum / this.#count };
  }
}

/** What the pool counts per worker (and, in another record, for the whole pool). */
export class WorkerRecord {
  readonly born = performance.now();
  completed = 0;
  failed = 0;
  items = 0;
  busyMs = 0;
  readonly wait = new Samples();
  readonly run = new Samples();

  /** A task ended in the worker `busy` ms after it began, `wait` ms after its call. */
  ended(ok: boolean, items: number, busy: number, wait: number): void {
    if (ok) this.completed++;
    else this.failed++;
    this.items += items;
    this.busyMs += busy;
    this.run.add(busy);
    this.wait.add(wait > 0 ? wait : 0);
  }
}
