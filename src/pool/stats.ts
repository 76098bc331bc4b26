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
 * for (const w of pool.stats()) console.log(w.name, w.tasks, w.items, w.busyMs);
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
