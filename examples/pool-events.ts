// Progress from inside a task: currentTask().emit(value) sends values to the caller's onEvent
// option, in order and before the task's result (mpire's and piscina's users ask for this).
// expect: ^progress: 25% 50% 75% 100%$
// expect: ^result: 4950$
import { currentTask, isMainProcess, Pool } from "multiproc";

export function sumWithProgress(n: number): number {
  const task = currentTask()!;
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += i;
    if ((i + 1) % (n / 4) === 0) task.emit(`${((i + 1) * 100) / n}%`);
  }
  return total;
}

if (isMainProcess()) {
  await using pool = new Pool(2);
  const seen: unknown[] = [];
  const total = await pool.apply(sumWithProgress, [100], { onEvent: (v) => seen.push(v) });
  console.log(`progress: ${seen.join(" ")}`);
  console.log(`result: ${total}`);
}
