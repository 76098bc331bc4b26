// Seed 001's lesson on Process: CPU-bound work split over one process per core finishes in about
// 1/cores of the serial time. Each job counts the primes below a bound; the parent collects the
// counts through a shared array and prints both timings.
// expect: ^serial time: \d+\.\d\d s$
// expect: ^parallel: \d+ processes, primes below 150000: 13848(, 13848)*$
import { cpuCount, isMainProcess, Process, SharedMemory } from "multiproc";
import { scaled } from "./util.js";

export function countPrimes(below: number): number {
  let count = 0;
  for (let n = 2; n < below; n++) {
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

export function job(results: SharedMemory, slot: number, below: number): void {
  new Float64Array(results.buffer)[slot] = countPrimes(below);
}

if (isMainProcess()) {
  const jobs = cpuCount();
  const below = Math.round(scaled(3_000_000));

  let start = performance.now();
  const serial: number[] = [];
  for (let i = 0; i < jobs; i++) serial.push(countPrimes(below));
  const serialTime = (performance.now() - start) / 1000;
  console.log(`serial:   ${jobs} jobs, primes below ${below}: ${serial.join(", ")}`);
  console.log(`serial time: ${serialTime.toFixed(2)} s`);

  using results = new SharedMemory({ create: true, size: 8 * jobs });
  start = performance.now();
  const processes = Array.from({ length: jobs }, (_, slot) => new Process({ target: job, args: [results, slot, below] }));
  for (const p of processes) p.start();
  for (const p of processes) await p.join();
  const parallelTime = (performance.now() - start) / 1000;
  console.log(`parallel: ${jobs} processes, primes below ${below}: ${[...new Float64Array(results.buffer)].join(", ")}`);
  console.log(`parallel time: ${parallelTime.toFixed(2)} s (${(serialTime / parallelTime).toFixed(2)}x faster on ${jobs} cores)`);
  results.unlink();
}
