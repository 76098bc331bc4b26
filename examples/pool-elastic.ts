// An elastic pool: one worker while idle, up to four while work waits, back to one after
// idleTimeout. stats() shows the workers and the pool's counts, utilization and times.
// expect: ^idle: 1 worker$
// expect: ^busy: [2-4] workers, 40 completed, run p50 \d+(\.\d+)? ms, utilization 0\.\d+$
// expect: ^idle again: 1 worker$
import { isMainProcess, Pool } from "multiproc";
import { sleep } from "./util.js";

export async function work(ms: number): Promise<number> {
  await sleep(ms);
  return ms;
}

if (isMainProcess()) {
  await using pool = new Pool({ processes: 4, minProcesses: 1, idleTimeout: 300 });
  console.log(`idle: ${pool.stats().workers.length} worker`);
  await pool.map(work, Array.from({ length: 40 }, () => 25), { chunksize: 1 });
  const s = pool.stats();
  console.log(`busy: ${s.workers.length} workers, ${s.completed} completed, run p50 ${s.runTime.p50.toFixed(1)} ms, utilization ${s.utilization.toFixed(2)}`);
  while (pool.stats().workers.length > 1) await sleep(50);
  console.log(`idle again: ${pool.stats().workers.length} worker`);
}
