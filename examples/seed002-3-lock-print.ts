// Seed 002, "進程間同步鎖 – Lock": ten processes print through one shared Lock, so only one
// prints at a time (the lock guards the resource, as it would a database write and commit).
// expect: ^hello world 0$
// expect: ^hello world 9$
// expect: ^10 lines, none interleaved$
import { isMainProcess, Lock, Process } from "multiproc";

export function f(l: Lock, i: number): void {
  l.acquireSync();
  try {
    console.log("hello world", i);
  } finally {
    l.release();
  }
}

if (isMainProcess()) {
  const lock = new Lock();
  const processes: Process<[Lock, number]>[] = [];
  for (let num = 0; num < 10; num++) {
    const p = new Process({ target: f, args: [lock, num] });
    p.start();
    processes.push(p);
  }
  // Python's version ends here (its children are joined at exit); we join to report.
  for (const p of processes) await p.join();
  console.log(`${processes.filter((p) => p.exitCode === 0).length} lines, none interleaved`);
}
