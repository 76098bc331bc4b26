// Seed 001, "The Process class": one process per core; each prints its parent's pid and its own,
// sleeps 3 seconds and says hello; the parent prints how long the whole took (about 3 s, not 3 s
// per process, because they run side by side).
// expect: ^parent process: \d+$
// expect: ^process id: \d+$
// expect: ^hello xx_0$
// expect: ^spend time: \d+\.\d\d$
import { cpuCount, isMainProcess, Process } from "multiproc";
import { scaled, sleep } from "./util.js";

function info(_title: string): void {
  console.log("parent process:", process.ppid);
  console.log("process id:", process.pid);
}

export async function f(name: string): Promise<void> {
  info("function f");
  await sleep(scaled(3000));
  console.log("hello", name);
}

if (isMainProcess()) {
  const start = performance.now();
  const processes: Process<[string]>[] = [];
  for (let xx = 0; xx < cpuCount(); xx++) {
    processes.push(new Process({ target: f, args: [`xx_${xx}`] }));
  }
  for (const p of processes) p.start();
  for (const p of processes) await p.join();
  console.log(`spend time: ${((performance.now() - start) / 1000).toFixed(2)}`);
}
