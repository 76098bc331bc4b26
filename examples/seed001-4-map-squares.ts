// Seed 001, "map map_async": squares of [1..6], each taking a second. Serially that is 6 s; a
// Pool(4) map does it in 2 rounds, 2 s, and returns the results in input order.
// expect: ^serial:$
// expect: ^serial time: \d+\.\d\d$
// expect: ^parallel:$
// expect: ^parallel time: \d+\.\d\d$
// expect: ^\[1, 4, 9, 16, 25, 36\]$
import { isMainProcess, Pool } from "multiproc";
import { scaled, sleepSync } from "./util.js";

/** fn: one element of the list. */
export function run(fn: number): number {
  sleepSync(scaled(1000));
  return fn * fn;
}

if (isMainProcess()) {
  const testFL = [1, 2, 3, 4, 5, 6];
  console.log("serial:"); // one after another, in this process
  const s = performance.now();
  for (const fn of testFL) run(fn);
  const e1 = performance.now();
  console.log(`serial time: ${((e1 - s) / 1000).toFixed(2)}`);

  console.log("parallel:"); // a pool of 4 processes
  const pool = new Pool(4);
  const rl = await pool.map(run, testFL, { chunksize: 1 });
  pool.close(); // no new work
  await pool.join(); // wait for the workers to exit
  const e2 = performance.now();
  console.log(`parallel time: ${((e2 - e1) / 1000).toFixed(2)}`);
  console.log(`[${rl.join(", ")}]`);
}
