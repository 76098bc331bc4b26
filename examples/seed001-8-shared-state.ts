// Seed 001, "Sharing state between processes": a Value and a SharedArray (Python's Array) passed
// to a child, which sets the value to pi and negates every element; the parent prints both.
// expect: ^3\.1415927$
// expect: ^\[0, -1, -2, -3, -4, -5, -6, -7, -8, -9\]$
import { isMainProcess, Process, SharedArray, Value } from "multiproc";

export function f(n: Value<"d">, a: SharedArray<"i">): void {
  n.value = 3.1415927;
  for (let i = 0; i < a.length; i++) a.set(i, -a.get(i));
}

if (isMainProcess()) {
  const num = new Value("d", 0.0);
  const arr = new SharedArray("i", Array.from({ length: 10 }, (_, i) => i));
  const p = new Process({ target: f, args: [num, arr] });
  p.start();
  await p.join();
  console.log(num.value);
  console.log(`[${arr.slice().join(", ")}]`); // Python: print(arr[:])
}
