// Cancelling running tasks. A task reads currentTask().signal and stops early when the caller
// aborts (or the pool terminates); a task that cannot look (a tight synchronous loop) is stopped
// with killOnAbort: true, which kills its worker and starts a new one.
// expect: ^cooperative: ERR_ABORTED after \d+ of 1000 steps$
// expect: ^killOnAbort: ERR_ABORTED; a new worker answers: yes$
import { currentTask, isMainProcess, Pool } from "multiproc";
import { sleep } from "./util.js";

export async function steps(n: number): Promise<number> {
  const task = currentTask()!;
  let done = 0;
  for (; done < n && !task.signal.aborted; done++) {
    task.emit(done);
    await sleep(5);
  }
  return done;
}

export function spin(): never {
  for (;;);
}

export function pid(): number {
  return process.pid;
}

if (isMainProcess()) {
  await using pool = new Pool(1);
  let seen = 0;
  const ac = new AbortController();
  const run = pool.apply(steps, [1000], { signal: ac.signal, onEvent: () => void (++seen === 20 && ac.abort()) });
  await run.catch((err: { code?: string }) => console.log(`cooperative: ${err.code} after ${seen} of 1000 steps`));

  const before = await pool.apply(pid);
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 200);
  await pool.apply(spin, [], { signal: stop.signal, killOnAbort: true }).catch((err: { code?: string }) => {
    process.stdout.write(`killOnAbort: ${err.code}; `);
  });
  console.log(`a new worker answers: ${(await pool.apply(pid)) !== before ? "yes" : "no"}`);
}
