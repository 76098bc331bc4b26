// Seed 002, "Manager": `with Manager() as manager`, a child sets d[1] = '1', d['2'] = 2,
// d[0.25] = None and reverses the list; the parent prints both.
// expect: ^\{1: '1', '2': 2, 0\.25: None\}$
// expect: ^\[9, 8, 7, 6, 5, 4, 3, 2, 1, 0\]$
import { isMainProcess, Manager, Process, type DictProxy, type ListProxy } from "multiproc";
import { pyRepr } from "./py-repr.js";

export async function f(d: DictProxy<number | string, unknown>, l: ListProxy<number>): Promise<void> {
  await d.set(1, "1");
  await d.set("2", 2);
  await d.set(0.25, null);
  await l.reverse();
}

if (isMainProcess()) {
  await using manager = await Manager();
  const d = await manager.dict<number | string, unknown>();
  const l = await manager.list(Array.from({ length: 10 }, (_, i) => i));
  const p = new Process({ target: f, args: [d, l] });
  p.start();
  await p.join();
  console.log(pyRepr(await d.copy()));
  console.log(pyRepr(await l.toArray()));
}
