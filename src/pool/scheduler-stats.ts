// Pool.stats(): a snapshot of the live workers' records and the pool's own (stats.ts has the
// types). Apart from scheduler.ts because none of it runs per task: the scheduler only counts.
import type { PoolStats, PoolWorkerStats, TaskLog } from "./stats.js";
import type { WorkerHandle } from "./worker-handle.js";

/** The snapshot, with `waiting` tasks not yet handed to any worker. */
export function poolStats(workers: Iterable<WorkerHandle>, pool: TaskLog, waiting: number): PoolStats {
  const now = performance.now();
  const rows: PoolWorkerStats[] = [];
  let queued = waiting;
  let running = 0;
  let busy = 0;
  let life = 0;
  for (const h of workers) {
    const r = h.record;
    const run = h.running;
    const held = h.inflight.length - run;
    queued += held;
    running += run;
    busy += r.busyMs;
    life += now - r.born;
    rows.push({
      name: h.name,
      pid: h.pid,
      threadId: h.threadId,
      tasks: r.completed + r.failed,
      items: r.items,
      busyMs: r.busyMs,
      queued: held,
      running: run,
      completed: r.completed,
      failed: r.failed,
      utilization: utilization(r.busyMs, now - r.born),
      ...pool.summaries(r),
    });
  }
  return {
    workers: rows,
    queued,
    running,
    completed: pool.completed,
    failed: pool.failed,
    utilization: utilization(busy, life),
    ...pool.summaries(pool),
  };
}

function utilization(busy: number, life: number): number {
  return life <= 0 ? 0 : Math.min(1, busy / life);
}
