// Seed 001, "apply apply_async": ten independent jobs, each sleeping a random 0-10 s, handed to a
// pool of one process per core with applyAsync. The results are collected after all were
// submitted (calling get() inside the loop would run them one by one), then the pool is closed and
// joined. Parallel time is far below the serial time (the sum of the sleeps).
// expect: ^\[\(0, \d+\), \(1, \d+\), \(2, \d+\), \(3, \d+\), \(4, \d+\), \(5, \d+\), \(6, \d+\), \(7, \d+\), \(8, \d+\), \(9, \d+\)\]$
// expect: ^parallel time: \d+\.\d\d$
// expect: ^serial time: \d+\.\d\d$
import { randomInt } from "node:crypto";
import { AsyncResult, cpuCount, isMainProcess, Pool } from "multiproc";
import { scaled, sleepSync } from "./util.js";

export function f(num: number): [number, number] {
  const randNum = randomInt(0, 11); // a different pause each time: 0 to 10 s
  sleepSync(scaled(randNum * 1000));
  return [num, randNum];
}

if (isMainProcess()) {
  const cores = cpuCount();
  const pool = new Pool({ processes: cores });
  const startTime = performance.now();
  const poolList: AsyncResult<[number, number]>[] = [];
  for (let xx = 0; xx < 10; xx++) {
    poolList.push(pool.applyAsync(f, [xx])); // no get() here: it would wait for each job in turn
  }
  const resultList = await Promise.all(poolList.map((r) => r.get()));
  pool.close();
  await pool.join();
  console.log(`[${resultList.map(([n, r]) => `(${n}, ${r})`).join(", ")}]`);
  console.log(`parallel time: ${((performance.now() - startTime) / 1000).toFixed(2)}`);
  console.log(`serial time: ${(scaled(resultList.reduce((sum, [, r]) => sum + r, 0) * 1000) / 1000).toFixed(2)}`);
}
