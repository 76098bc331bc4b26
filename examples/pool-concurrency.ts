// Async tasks that wait on I/O interleave in one worker with concurrentTasksPerWorker: five
// 200 ms tasks on one worker take about 200 ms with a concurrency of 5 (1,000 ms one at a time).
// expect: ^concurrency 1: 5 tasks in \d+ ms$
// expect: ^concurrency 5: 5 tasks in \d+ ms$
import { isMainProcess, Pool } from "multiproc";
import { scaled, sleep } from "./util.js";

export async function fetchLike(ms: number): Promise<number> {
  await sleep(ms);
  return ms;
}

if (isMainProcess()) {
  for (const concurrentTasksPerWorker of [1, 5]) {
    await using pool = new Pool({ processes: 1, concurrentTasksPerWorker });
    await pool.apply(fetchLike, [0]);
    const t0 = performance.now();
    await Promise.all([1, 2, 3, 4, 5].map(() => pool.apply(fetchLike, [scaled(200)])));
    console.log(`concurrency ${concurrentTasksPerWorker}: 5 tasks in ${Math.round(performance.now() - t0)} ms`);
  }
}
