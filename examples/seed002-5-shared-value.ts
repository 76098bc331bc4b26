// Seed 002, "共享變量": a Value("d") shared with a child; the child's write is seen by the parent.
// expect: ^10\.78$
import { isMainProcess, Process, Value } from "multiproc";

export function func(num: Value<"d">): void {
  num.value = 10.78; // the child changes the value; the parent sees the change
}

if (isMainProcess()) {
  const num = new Value("d", 10.0); // "d": a double, shared by parent and child
  const p = new Process({ target: func, args: [num] });
  p.start();
  await p.join();
  console.log(num.value);
}
