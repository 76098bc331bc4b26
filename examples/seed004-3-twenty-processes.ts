// Seed 004, "Value, Array, dict, list and Lock from one Manager": 20 processes each, under the
// manager's Lock, add 1 to a Value, set two dict items and add 1 to every list item.
// expect: ^\[21, 22, 23, 24, 25\]$
// expect: ^\{1: '1', 2: '2'\}$
// expect: ^array\('i', \[0, 1, 2, 3, 4, 5, 6, 7, 8, 9\]\)$
// expect: ^Value\('i', 21\)$
import { isMainProcess, Manager, Process, type DictProxy, type ListProxy, type LockProxy, type ValueProxy } from "multiproc";
import { pyRepr } from "./py-repr.js";

export async function func1(shareList: ListProxy<number>, shareValue: ValueProxy<number>, shareDict: DictProxy<number, string>, lock: LockProxy): Promise<void> {
  await using _ = await lock.hold(); // Python's `with lock:`
  await shareValue.set((await shareValue.get()) + 1);
  await shareDict.set(1, "1");
  await shareDict.set(2, "2");
  const length = await shareList.length();
  for (let i = 0; i < length; i++) await shareList.set(i, (await shareList.get(i)) + 1);
}

if (isMainProcess()) {
  await using manager = await Manager();
  const list1 = await manager.list([1, 2, 3, 4, 5]);
  const dict1 = await manager.dict<number, string>();
  const array1 = await manager.Array("i", Array.from({ length: 10 }, (_, i) => i));
  const value1 = await manager.Value("i", 1);
  const lock = await manager.Lock();
  const proc = Array.from({ length: 20 }, () => new Process({ target: func1, args: [list1, value1, dict1, lock] }));
  for (const p of proc) p.start();
  for (const p of proc) await p.join();
  console.log(pyRepr(await list1.toArray()));
  console.log(pyRepr(new Map([...(await dict1.copy())].sort((a, b) => a[0] - b[0]))));
  console.log(`array('i', ${pyRepr(await array1.toArray())})`);
  console.log(`Value('i', ${await value1.get()})`);
}
