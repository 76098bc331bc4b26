// Seed 003, "a 20-worker pipeline with a result writer": the parent spreads ids over 20 input
// queues (maxsize 1000 each, chosen at random) and prints how many it wrote; 20 daemon workers
// turn ids into results on one result queue (maxsize 3000); a writer process prints each result
// as it comes ("第N个,id,desc") and, at the end, writes them all to state.csv (pandas' layout, in
// a temporary directory) and prints "保存进程退出". The seed's workers poll qsize() and stop after
// a long idle time; here a null at the end of each queue tells them to stop, which is exact.
// expect: ^写入队列个数:\d+$
// expect: ^第1个,\d+,id \d+ done by worker \d+$
// expect: ^保存进程退出$
// expect: ^state\.csv: \d+ rows, header ,id,desc$
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMainProcess, Process, Queue } from "multiproc";
import { scaled } from "./util.js";

const WORKERS = 20;

interface Result {
  id: number;
  desc: string;
}

export async function output(queue: Queue<Result | null>, i: number, csvPath: string): Promise<void> {
  const rows = new Map<number, Result>(); // pandas' df.loc[id] = [...]: one row per id
  let finished = 0;
  while (finished < WORKERS) {
    const result = await queue.get();
    if (result === null) {
      finished++;
      continue;
    }
    i = i + 1;
    console.log(`第${i}个,${result.id},${result.desc}`);
    rows.set(result.id, result);
  }
  const lines = [",id,desc", ...[...rows.values()].map((r) => `${r.id},${r.id},${r.desc}`)];
  writeFileSync(csvPath, lines.join("\n") + "\n");
  console.log("保存进程退出");
}

export async function input(queue: Queue<number | null>, queueresult: Queue<Result | null>, worker: number): Promise<void> {
  for (;;) {
    const id = await queue.get();
    if (id === null) break;
    await dowork(id, queueresult, worker);
  }
  await queueresult.put(null);
}

async function dowork(id: number, queueresult: Queue<Result | null>, worker: number): Promise<void> {
  // The processing of one id goes here.
  await queueresult.put({ id, desc: `id ${id} done by worker ${worker}` });
}

if (isMainProcess()) {
  const dir = mkdtempSync(join(tmpdir(), "multiproc-seed003-"));
  const csvPath = join(dir, "state.csv");
  const ids = Array.from({ length: Math.max(WORKERS, Math.round(scaled(400))) }, (_, k) => 1000 + k);
  const queues: Queue<number | null>[] = [];
  const queueresult = new Queue<Result | null>({ maxsize: 3000 });
  const processes: Process[] = [];
  for (let w = 0; w < WORKERS; w++) {
    const queue = new Queue<number | null>({ maxsize: 1000 });
    queues.push(queue);
    processes.push(new Process({ target: input, args: [queue, queueresult, w] }));
  }
  processes.push(new Process({ target: output, args: [queueresult, 0, csvPath] }));
  let j = 0;
  for (const id of ids) {
    const q = queues[Math.floor(Math.random() * queues.length)]!; // random.choice(queues)
    await q.put(id);
    j = j + 1;
  }
  console.log(`写入队列个数:${j}`);
  for (const q of queues) await q.put(null);
  for (const p of processes) {
    p.daemon = true;
    p.start();
  }
  for (const p of processes) await p.join();
  const csv = readFileSync(csvPath, "utf8").trimEnd().split("\n");
  console.log(`state.csv: ${csv.length - 1} rows, header ${csv[0]}`);
  for (const q of [...queues, queueresult]) q.close();
  rmSync(dir, { recursive: true, force: true });
}
