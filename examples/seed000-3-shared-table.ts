// Seed 000 asks how to give one DataFrame to many processes; its answers (a Manager Namespace, a
// data server) pickle a full copy for every reader. The Node way: an Apache Arrow table placed in
// shared memory once (SharedTable) and read in place by every pool worker, each computing a
// statistic over its slice. Compared with sending each worker a copy (Arrow IPC bytes), with the
// timings printed.
// expect: ^table: \d+ rows x 3 columns \([\d.]+ MiB\)$
// expect: ^shared \(SharedTable, mapBatches\): mean x = [\d.]+, max y = 96, in [\d.]+ ms$
// expect: ^copied \(IPC bytes per task\):     mean x = [\d.]+, max y = 96, in [\d.]+ ms$
// expect: ^same answers: true$
import { tableFromArrays, tableFromIPC, tableToIPC, type Table } from "apache-arrow";
import { isMainProcess, Pool } from "multiproc";
import { mapBatches, SharedTable } from "multiproc/arrow";
import { scaled } from "./util.js";

interface Stat {
  rows: number;
  sumX: number;
  maxY: number;
}

function statOf(slice: Table): Stat {
  let sumX = 0;
  let maxY = -Infinity;
  for (const v of slice.getChild("x")!) sumX += v as number;
  for (const v of slice.getChild("y")!) maxY = Math.max(maxY, v as number);
  return { rows: slice.numRows, sumX, maxY };
}

/** Runs in a worker: a statistic over a slice of the shared table. */
export function sliceStat(slice: Table): Stat {
  return statOf(slice);
}

/** Runs in a worker: the same over a copy of the rows it was sent. */
export function copyStat(ipc: Uint8Array): Stat {
  return statOf(tableFromIPC(ipc));
}

function combine(stats: Stat[]): string {
  const rows = stats.reduce((n, s) => n + s.rows, 0);
  const mean = stats.reduce((n, s) => n + s.sumX, 0) / rows;
  return `mean x = ${mean.toFixed(3)}, max y = ${Math.max(...stats.map((s) => s.maxY))}`;
}

if (isMainProcess()) {
  const rows = Math.round(scaled(2_000_000));
  const table = tableFromArrays({
    x: Float64Array.from({ length: rows }, (_, i) => (i % 1000) / 10),
    y: Float64Array.from({ length: rows }, (_, i) => i % 97),
    id: Int32Array.from({ length: rows }, (_, i) => i),
  });
  const shared = SharedTable.from(table);
  console.log(`table: ${rows} rows x 3 columns (${(shared.byteLength / 2 ** 20).toFixed(1)} MiB)`);
  await using pool = new Pool(2);
  // Start the workers and load apache-arrow in them, so neither timing below pays for it.
  await pool.map(copyStat, [tableToIPC(table.slice(0, 10)), tableToIPC(table.slice(10, 20))], { chunksize: 1 });

  let start = performance.now();
  const viaShared = combine(await mapBatches(pool, sliceStat, shared));
  console.log(`shared (SharedTable, mapBatches): ${viaShared}, in ${(performance.now() - start).toFixed(1)} ms`);

  start = performance.now();
  const tasks = 8;
  const step = Math.ceil(rows / tasks);
  const copies = Array.from({ length: tasks }, (_, k) => tableToIPC(table.slice(k * step, (k + 1) * step)));
  const viaCopies = combine(await pool.map(copyStat, copies, { chunksize: 1 }));
  console.log(`copied (IPC bytes per task):     ${viaCopies}, in ${(performance.now() - start).toFixed(1)} ms`);
  console.log(`same answers: ${viaShared === viaCopies}`);
  shared.release();
}
