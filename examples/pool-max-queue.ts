// Backpressure for apply: with maxQueue, a call that would leave more than that many tasks waiting
// for a busy pool rejects at once with Full, instead of piling up work in memory.
// expect: ^accepted 3, refused 7 \(ERR_QUEUE_FULL\)$
import { Full, isMainProcess, Pool } from "multiproc";
import { sleep } from "./util.js";

export async function slow(x: number): Promise<number> {
  await sleep(100);
  return x;
}

if (isMainProcess()) {
  await using pool = new Pool({ processes: 1, maxQueue: 2 });
  await pool.apply(slow, [0]);
  const calls = Array.from({ length: 10 }, (_, i) => pool.apply(slow, [i]).then(() => "ok", (err: unknown) => (err instanceof Full ? err.code : "other")));
  const outcomes = await Promise.all(calls);
  const refused = outcomes.filter((o) => o !== "ok");
  console.log(`accepted ${outcomes.length - refused.length}, refused ${refused.length} (${refused[0]})`);
}
