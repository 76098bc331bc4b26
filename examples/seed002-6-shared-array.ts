// Seed 002, "進程之間共享數據(數組型)": a SharedArray("i") (Python's Array) changed by a child.
// expect: ^\[1, 2, 9999, 4, 5\]$
import { isMainProcess, Process, SharedArray } from "multiproc";

export function func(num: SharedArray<"i">): void {
  num.set(2, 9999); // the child changes the array; the parent sees the change
}

if (isMainProcess()) {
  const num = new SharedArray("i", [1, 2, 3, 4, 5]);
  const p = new Process({ target: func, args: [num] });
  p.start();
  await p.join();
  console.log(`[${num.slice().join(", ")}]`); // Python: print(num[:])
}
