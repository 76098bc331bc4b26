// mapBatches: run a function over row ranges of an Arrow table on a Pool, in parallel, with the
// table shared rather than copied to each task. The table is placed in shared memory once (or
// used as is when it is a SharedTable already); every task receives the SharedTable handle and a
// row range, and the worker hands the user's function a zero-copy slice of the shared table.
import type { Table } from "apache-arrow";
import { ArgumentError, ErrorCodes } from "../errors.js";
import type { Pool } from "../pool/pool.js";
import { resolveTarget, type TargetDescriptor } from "../target.js";
import { reviveTarget } from "../target-revive.js";
import { checkInteger, checkOptions, checkSignal, describe } from "../validate.js";
import { SharedTable } from "./shared-table.js";

/**
 * A slice of a table's rows: `start` to `end` (exclusive), as mapBatches hands them to your function.
 *
 * @example
 * ```ts
 * import type { RowRange } from "multiproc/arrow";
 * const firstHundred: RowRange = { start: 0, end: 100 };
 * ```
 */
export interface RowRange {
  /** First row of the slice in the whole table. */
  start: number;
  /** One past the last row. */
  end: number;
}

/**
 * Options of mapBatches: the rows per task and an AbortSignal.
 *
 * @example
 * ```ts
 * import { mapBatches, type MapBatchesOptions } from "multiproc/arrow";
 * const options: MapBatchesOptions = { rowsPerTask: 10_000, signal: AbortSignal.timeout(60_000) };
 * ```
 */
export interface MapBatchesOptions {
  /**
   * Rows per task. Default: one task per record batch when the table has at least 4 per worker,
   * otherwise the rows split evenly into 4 tasks per worker.
   */
  rowsPerTask?: number;
  signal?: AbortSignal;
}

/**
 * Ranges covering `rows` rows: along record batches when there are enough, else even splits.
 *
 * @example
 * ```ts
 * import { tableFromArrays } from "apache-arrow";
 * import { rowRanges } from "multiproc/arrow";
 * const table = tableFromArrays({ x: new Float64Array(10) });
 * console.log(rowRanges(table, 1, 4)); // [ {start:0,end:4}, {start:4,end:8}, {start:8,end:10} ]
 * ```
 */
export function rowRanges(table: Table, workers: number, rowsPerTask?: number): RowRange[] {
  const rows = table.numRows;
  const ranges: RowRange[] = [];
  if (rowsPerTask === undefined && table.batches.length >= 4 * workers) {
    let start = 0;
    for (const batch of table.batches) {
      if (batch.numRows > 0) ranges.push({ start, end: start + batch.numRows });
      start += batch.numRows;
    }
    return ranges;
  }
  const step = rowsPerTask ?? Math.max(1, Math.ceil(rows / (4 * workers)));
  for (let start = 0; start < rows; start += step) ranges.push({ start, end: Math.min(rows, start + step) });
  return ranges;
}

/**
 * Runs `fn(slice, range)` on `pool` for every row range of `table` and resolves with the results
 * in row order. `fn` is a target like any pool function (exported, fromModule, or self-contained).
 *
 * @example
 * ```ts
 * import { tableFromArrays, type Table } from "apache-arrow";
 * import { isMainProcess, Pool } from "multiproc";
 * import { mapBatches } from "multiproc/arrow";
 *
 * export function total(slice: Table): number {
 *   let sum = 0;
 *   for (const v of slice.getChild("x")!) sum += v as number;
 *   return sum;
 * }
 *
 * if (isMainProcess()) {
 *   await using pool = new Pool(2);
 *   const table = tableFromArrays({ x: Float64Array.from({ length: 1e6 }, (_, i) => i) });
 *   const sums = await mapBatches(pool, total, table); // one sum per row range, in row order
 *   console.log(sums.reduce((a, b) => a + b));
 * }
 * ```
 */
export async function mapBatches<R>(
  pool: Pool,
  fn: (slice: Table, range: RowRange) => R | Promise<R>,
  table: Table | SharedTable,
  options: MapBatchesOptions = {},
): Promise<Awaited<R>[]> {
  const opts = checkOptions(options) as MapBatchesOptions;
  const signal = checkSignal(opts.signal);
  if (opts.rowsPerTask !== undefined) checkInteger(opts.rowsPerTask, "rowsPerTask", 1);
  const target = await resolveTarget(fn, "fn");
  const owned = table instanceof SharedTable ? undefined : SharedTable.from(checkTable(table));
  const shared = owned ?? (table as SharedTable);
  try {
    const ranges = rowRanges(shared.table, pool.processes, opts.rowsPerTask);
    const tasks = ranges.map((r): [TargetDescriptor, SharedTable, number, number] => [target, shared, r.start, r.end]);
    return (await pool.starmap(runOnSlice, tasks, { chunksize: 1, signal })) as Awaited<R>[];
  } finally {
    owned?.release();
  }
}

function checkTable(table: unknown): Table {
  if (typeof table !== "object" || table === null || typeof (table as Partial<Table>).slice !== "function") {
    throw new ArgumentError(`table must be an apache-arrow Table or a SharedTable, got ${describe(table)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  return table as Table;
}

/** Worker side: the user's function on one slice. Exported so that workers can locate it. */
export async function runOnSlice(target: TargetDescriptor, shared: SharedTable, start: number, end: number): Promise<unknown> {
  try {
    const fn = await reviveTarget(target);
    return await fn(shared.table.slice(start, end), { start, end });
  } finally {
    shared.release();
  }
}
