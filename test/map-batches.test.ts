// mapBatches: a function over row ranges of a shared Arrow table on a Pool of either kind, results
// in row order, the table shared once and freed after.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RecordBatch, Table, tableFromArrays } from "apache-arrow";
import { ErrorCodes, Pool } from "multiproc";
import { mapBatches, rowRanges, SharedTable } from "multiproc/arrow";
import { CONTEXTS, shmEntries } from "./helpers.js";
import { sliceStats, type SliceStats } from "./fixtures/batches.js";

const tag = `${process.env.MULTIPROC_SHM_PREFIX ?? ""}mb${process.pid}_`;
process.env.MULTIPROC_SHM_PREFIX = tag;
const mine = () => [...shmEntries()].filter((n) => n.startsWith(tag)).length;

function table(rows: number): Table {
  return tableFromArrays({ x: Float64Array.from({ length: rows }, (_, i) => i), y: Int32Array.from({ length: rows }, (_, i) => i % 3) });
}

for (const kind of CONTEXTS) {
  describe(`mapBatches (${kind})`, () => {
    test("sums of every slice add up to the whole, in row order, and nothing is left behind", async () => {
      const before = mine();
      const rows = 100_003;
      await using pool = new Pool({ processes: 2, context: kind });
      const results: SliceStats[] = await mapBatches(pool, sliceStats, table(rows));
      assert.equal(results.length, 8, "4 tasks per worker");
      assert.deepEqual(results.map((r) => r.start), [...results.map((r) => r.start)].sort((a, b) => a - b));
      assert.equal(results.reduce((n, r) => n + r.rows, 0), rows);
      assert.equal(results.reduce((n, r) => n + r.sum, 0), (rows * (rows - 1)) / 2);
      await pool.join().catch(() => undefined);
      assert.equal(mine(), before, "the temporary SharedTable is freed once the map is done");
    });

    test("a SharedTable is used as it is, along its record batches", async () => {
      const batches: RecordBatch[] = Array.from({ length: 8 }, (_, b) => table(1000 + b).batches[0]!);
      const shared = SharedTable.from(new Table(batches));
      await using pool = new Pool({ processes: 2, context: kind });
      try {
        const results: SliceStats[] = await mapBatches(pool, sliceStats, shared);
        assert.deepEqual(results.map((r) => r.rows), batches.map((b) => b.numRows));
        assert.equal(shared.released, false, "the caller's SharedTable stays the caller's");
      } finally {
        shared.release();
      }
    });
  });
}

describe("mapBatches arguments", () => {
  test("row ranges cover the table", () => {
    assert.deepEqual(rowRanges(table(10), 1, 4), [
      { start: 0, end: 4 },
      { start: 4, end: 8 },
      { start: 8, end: 10 },
    ]);
  });

  test("bad input is refused with a code", async () => {
    await using pool = new Pool({ processes: 1, context: "thread" });
    await assert.rejects(mapBatches(pool, sliceStats, {} as Table), { code: ErrorCodes.INVALID_ARG_TYPE });
    await assert.rejects(mapBatches(pool, sliceStats, table(10), { rowsPerTask: 0 }), { code: ErrorCodes.OUT_OF_RANGE });
    await assert.rejects(mapBatches(pool, 5 as never, table(10)), { code: ErrorCodes.INVALID_ARG_TYPE });
  });
});
