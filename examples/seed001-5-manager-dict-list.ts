// Seed 001, "Manager Class": a manager's dict and list shared by 4 processes; each sets d[ii] = ii
// and appends ii. A manager's objects live in its server process and every process reaches them
// through proxies (usable from a Pool too).
// expect: ^\{0: 0, 1: 1, 2: 2, 3: 3\}$
// expect: ^\[0, 1, 2, 3, 4, 5, 6, 7, 8, 9(, [0-3]){4}\]$
import { isMainProcess, Manager, Process, type DictProxy, type ListProxy } from "multiproc";
import { pyRepr } from "./py-repr.js";

export async function f(d: DictProxy<number, number>, l: ListProxy<number>, ii: number): Promise<void> {
  await d.set(ii, ii);
  await l.append(ii);
}

if (isMainProcess()) {
  await using manager = await Manager();
  const d = await manager.dict<number, number>();
  const l = await manager.list(Array.from({ length: 10 }, (_, i) => i));
  const pList = [0, 1, 2, 3].map((xx) => new Process({ target: f, args: [d, l, xx] }));
  for (const p of pList) p.start();
  for (const p of pList) await p.join();
  console.log(pyRepr(new Map([...(await d.copy())].sort((a, b) => a[0] - b[0]))));
  console.log(pyRepr(await l.toArray()));
}
