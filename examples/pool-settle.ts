// One bad item should not sink a whole map: with { settle: true } every item gets a record, as
// Promise.allSettled gives them, and the failures carry the worker's error (stack in .cause).
// expect: ^fulfilled: 7, rejected: 3$
// expect: ^item 3: RangeError: 3 is divisible by 3$
import { isMainProcess, Pool } from "multiproc";

export function parse(x: number): number {
  if (x > 0 && x % 3 === 0) throw new RangeError(`${x} is divisible by 3`);
  return x * 10;
}

if (isMainProcess()) {
  await using pool = new Pool(2);
  const records = await pool.map(parse, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], { settle: true });
  const bad = records.filter((r) => r.status === "rejected");
  console.log(`fulfilled: ${records.length - bad.length}, rejected: ${bad.length}`);
  const third = records[3]!;
  if (third.status === "rejected") console.log(`item 3: ${String(third.reason)}`);
}
