// Seed 004, "Manager's dict": 10 processes each store d[key] = value in a manager dict, then the
// parent prints the results (enumerating the keys, as the seed does).
// expect: ^Results:$
// expect: ^0=0$
// expect: ^9=9$
import { isMainProcess, Manager, Process, type DictProxy } from "multiproc";

export async function worker(d: DictProxy<number, number>, key: number, value: number): Promise<void> {
  await d.set(key, value);
}

if (isMainProcess()) {
  await using mgr = await Manager();
  const d = await mgr.dict<number, number>();
  const jobs = Array.from({ length: 10 }, (_, i) => new Process({ target: worker, args: [d, i, i * 2] }));
  for (const j of jobs) j.start();
  for (const j of jobs) await j.join();
  console.log("Results:");
  // Python's `for key, value in enumerate(dict(d))` pairs each position with a key.
  (await d.keys()).sort((a, b) => a - b).forEach((key, index) => console.log(`${index}=${key}`));
}
