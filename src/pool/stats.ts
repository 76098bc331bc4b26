// Per-worker statistics: how many tasks (chunks) and items a worker ran and how long it was busy.
// Kept per call (AsyncResult.stats, PoolIterator.stats) and per pool (Pool.stats()).

/**
 * One worker's share of some work.
 *
 * @example
 * ```ts
 * import { Pool } from "multiproc";
 * await using pool = new Pool(2);
 * await pool.map((x: number) => x, [1, 2, 3]);
 * for (const w of pool.stats().workers) console.log(w.name, w.tasks, w.items, w.busyMs);
 * ```
 */
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
 * import { Pool, type TimeSummary } from "multiproc";
 * await using pool = new Pool(2);
 * const { p50, p99, max }: TimeSummary = pool.stats().runTime;
 * console.log(p50, p99, max);
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
 * import { Pool, type TaskFigures } from "multiproc";
 * await using pool = new Pool(2);
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
 * import { Pool, type PoolWorkerStats } from "multiproc";
 * await using pool = new Pool(2);
 * const workers: PoolWorkerStats[] = pool.stats().workers;
 * for (const w of workers) console.log(w.name, w.completed, w.runTime.p90);
 * ```
 */
export interface PoolWorkerStats extends WorkerStats, TaskFigures {}

/**
 * Pool.stats(): the pool's live workers, and the pool-wide figures since it started (utilization: of the live workers).
 *
 * @example
 * ```ts
 * import { Pool, type PoolStats } from "multiproc";
 * await using pool = new Pool(2);
 * const s: PoolStats = pool.stats();
 * console.log(`${s.workers.length} workers, ${s.completed} done, wait p99 ${s.waitTime.p99} ms`);
 * ```
 */
export interface PoolStats extends TaskFigures {
  workers: PoolWorkerStats[];
}

/** Tasks kept for the percentiles (the latest ones; a power of two). */
const SAMPLES = 1024;
const MASK = SAMPLES - 1;

let slots = 0;

/** What the pool counts per worker: counts, sums and maxima of every task it ran. */
export class WorkerRecord {
  readonly born = performance.now();
  /** Names this worker's tasks in the pool's TaskLog. */
  readonly slot = ++slots;
  completed = 0;
  failed = 0;
  items = 0;
  busyMs = 0;
  waitMs = 0;
  runMax = 0;
  waitMax = 0;
}

/**
 * The pool's record: counts, sums and maxima of every task, and the latest SAMPLES tasks' run and
 * wait times with the slot of the worker that ran each (percentiles, per worker too, come from
 * those). One call per task, a few field writes: nothing is allocated.
 */
export class TaskLog extends WorkerRecord {
  readonly #run = new Float64Array(SAMPLES);
  readonly #wait = new Float64Array(SAMPLES);
  readonly #who = new Int32Array(SAMPLES);
  #count = 0;

  /** A task ran by `w` ended in the worker `busy` ms after it began, `wait` ms after its call. */
  ended(w: WorkerRecord, ok: boolean, items: number, busy: number, wait: number): void {
    if (wait < 0) wait = 0;
    const i = this.#count++ & MASK;
    this.#run[i] = busy;
    this.#wait[i] = wait;
    this.#who[i] = w.slot;
    if (ok) {
      this.completed++;
      w.completed++;
    } else {
      this.failed++;
      w.failed++;
    }
    this.items += items;
    w.items += items;
    this.busyMs += busy;
    w.busyMs += busy;
    this.waitMs += wait;
    w.waitMs += wait;
    if (busy > this.runMax) this.runMax = busy;
    if (busy > w.runMax) w.runMax = busy;
    if (wait > this.waitMax) this.waitMax = wait;
    if (wait > w.waitMax) w.waitMax = wait;
  }

  /** The run and wait summaries of worker `r` (this log itself: the whole pool). */
  summaries(r: WorkerRecord): { runTime: TimeSummary; waitTime: TimeSummary } {
    const n = Math.min(this.#count, SAMPLES);
    const run: number[] = [];
    const wait: number[] = [];
    for (let i = 0; i < n; i++) {
      if (r !== this && this.#who[i] !== r.slot) continue;
      run.push(this.#run[i]!);
      wait.push(this.#wait[i]!);
    }
    const count = r.completed + r.failed;
    return { runTime: summary(run, count, r.runMax, r.busyMs), waitTime: summary(wait, count, r.waitMax, r.waitMs) };
  }
}

function summary(latest: number[], count: number, max: number, sum: number): TimeSummary {
  const sorted = Float64Array.from(latest).sort();
  const n = sorted.length;
  const at = (q: number) => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.ceil(q * n) - 1)]!);
  return { count, p50: at(0.5), p90: at(0.9), p99: at(0.99), max, mean: count === 0 ? 0 : sum / count };
}
