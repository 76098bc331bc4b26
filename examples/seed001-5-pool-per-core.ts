// Seed 001's advice: as many workers as CPUs (cpu_count()), more only slows CPU-bound work down.
// new Pool() makes cpuCount() workers; a CPU-bound map (counting primes in ranges) spreads over all
// of them, with per-worker statistics, and runs about cpuCount() times faster than in one process.
// expect: ^pool of \d+ processes \(cpuCount\(\) = \d+\)$
// expect: ^primes below \d+: \d+ \(serial\), \d+ \(pool\)$
// expect: ^  PoolWorker-\d+: \d+ tasks, \d+ items, busy \d+ ms$
// expect: ^serial \d+\.\d\d s, pool \d+\.\d\d s$
import { cpuCount, isMainProcess, Pool } from "multiproc";
import { scaled } from "./util.js";

/** Primes in [from, from + 10000). */
export function primesIn(from: number): number {
  let count = 0;
  for (let n = Math.max(2, from); n < from + 10_000; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

if (isMainProcess()) {
  const below = Math.max(10_000, Math.round(scaled(4_000_000) / 10_000) * 10_000);
  const starts = Array.from({ length: below / 10_000 }, (_, i) => i * 10_000);

  let t = performance.now();
  const serial = starts.map(primesIn).reduce((a, b) => a + b, 0);
  const serialTime = (performance.now() - t) / 1000;

  const pool = new Pool(); // cpuCount() processes
  console.log(`pool of ${pool.processes} processes (cpuCount() = ${cpuCount()})`);
  await pool.apply(primesIn, [0]); // workers started and warm
  t = performance.now();
  const result = pool.mapAsync(primesIn, starts);
  const counts = await result;
  const poolTime = (performance.now() - t) / 1000;
  await pool.terminate();
  console.log(`primes below ${below}: ${serial} (serial), ${counts.reduce((a, b) => a + b, 0)} (pool)`);
  for (const w of result.stats) console.log(`  ${w.name}: ${w.tasks} tasks, ${w.items} items, busy ${Math.round(w.busyMs)} ms`);
  console.log(`serial ${serialTime.toFixed(2)} s, pool ${poolTime.toFixed(2)} s`);
}
