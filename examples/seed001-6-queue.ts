// Seed 001, "Exchanging objects between processes: Queues": a child puts [42, None, 'hello'] on a
// Queue and the parent prints what it gets (Python prints [42, None, 'hello']; Node prints the
// same list its own way).
// expect: ^\[ 42, null, 'hello' \]$
import { isMainProcess, Process, Queue } from "multiproc";

export async function f(q: Queue<unknown[]>): Promise<void> {
  await q.put([42, null, "hello"]);
}

if (isMainProcess()) {
  await using q = new Queue<unknown[]>();
  const p = new Process({ target: f, args: [q] });
  p.start();
  console.log(await q.get()); // prints "[ 42, null, 'hello' ]"
  await p.join();
}
