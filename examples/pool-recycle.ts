// Workers that grow are replaced: maxMemoryPerChild (MiB of RSS) retires a worker after the task
// that took it over the limit; the finalizer runs in every worker as it retires (here: on
// recycling and on close). resourceLimits gives each worker its own heap limit.
// expect: ^recycled after the big task: yes$
// expect: ^finalizer runs: 2$
// expect: ^worker heap limit: \d+ MiB$
import { getHeapStatistics } from "node:v8";
import { isMainProcess, Pool, SharedMemory } from "multiproc";

const kept: Buffer[] = [];
export function grow(mb: number): number {
  kept.push(Buffer.alloc(mb * 1024 * 1024, 1));
  return process.pid;
}

export function goodbye(shm: SharedMemory): void {
  Atomics.add(new Int32Array(shm.buffer), 0, 1); // close files, flush buffers, ...
}

export function heapLimit(): number {
  return Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
}

if (isMainProcess()) {
  const shm = new SharedMemory({ create: true, size: 8 });
  const pool = new Pool({ processes: 1, maxMemoryPerChild: 200, finalizer: goodbye, finalargs: [shm], resourceLimits: { maxOldGenerationSizeMb: 64 } });
  const first = await pool.apply(grow, [300]);
  const second = await pool.apply(grow, [1]);
  console.log(`recycled after the big task: ${first !== second ? "yes" : "no"}`);
  const limit = await pool.apply(heapLimit);
  pool.close();
  await pool.join();
  console.log(`finalizer runs: ${Atomics.load(new Int32Array(shm.buffer), 0)}`);
  console.log(`worker heap limit: ${limit} MiB`);
  shm.close();
  shm.unlink();
}
