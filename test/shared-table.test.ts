// SharedTable: an Arrow table with int, float, string and null columns is shared with children of
// both kinds, which compute the same column sums as the parent without copying it; the segment
// is gone once every holder released it.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Float64, Int32, Table, tableFromArrays, vectorFromArray } from "apache-arrow";
import { ErrorCodes, getContext, SharedMemory } from "multiproc";
import { SharedTable } from "multiproc/arrow";
import { dumps, loadsAsync } from "#internal/transport/serialize.js";
import { CONTEXTS, shmEntries } from "./helpers.js";
import { columnSums } from "./fixtures/tables.js";

const tag = `${process.env.MULTIPROC_SHM_PREFIX ?? ""}tab${process.pid}_`;
process.env.MULTIPROC_SHM_PREFIX = tag;
const mine = () => [...shmEntries()].filter((n) => n.startsWith(tag)).length;

function sample(rows: number) {
  const i = Array.from({ length: rows }, (_, k) => k % 1000);
  const f = vectorFromArray(Array.from({ length: rows }, (_, k) => (k % 7 === 0 ? null : k / 4)), new Float64());
  const s = Array.from({ length: rows }, (_, k) => (k % 5 === 0 ? null : "abc".slice(0, k % 4)));
  return new Table({ i: vectorFromArray(i, new Int32()), f, s: vectorFromArray(s) });
}

function sums(table: Table): number[] {
  const out = new Float64Array(5);
  columnSums({ table } as SharedTable, out, 0);
  return [...out];
}

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);
  describe(`SharedTable (${kind})`, () => {
    test("two children compute the parent's column sums from the shared table", async () => {
      const before = mine();
      const table = sample(200_000);
      const expected = sums(table);
      const shared = SharedTable.from(table);
      using out = new SharedMemory({ create: true, size: 8 * 10 });
      try {
        const results = new Float64Array(out.buffer);
        const ps = [0, 1].map((slot) => new ctx.Process({ target: columnSums, args: [shared, results, slot] }));
        ps.forEach((p) => p.start());
        await Promise.all(ps.map((p) => p.join()));
        assert.deepEqual(ps.map((p) => p.exitCode), [0, 0]);
        assert.deepEqual([...results.subarray(0, 5)], expected);
        assert.deepEqual([...results.subarray(5, 10)], expected);
        assert.equal(shared.numRows, 200_000);
      } finally {
        out.unlink();
        shared.release();
      }
      assert.throws(() => shared.table, { code: ErrorCodes.CLOSED });
      assert.equal(mine(), before, "the table's segment is gone once every holder released it");
    });
  });
}

describe("SharedTable in one process", () => {
  test("a received table reads the shared bytes in place", async () => {
    const table = tableFromArrays({ x: new Float64Array([1, 2, 3]) });
    const shared = SharedTable.from(table);
    const received = (await loadsAsync(dumps(shared))) as SharedTable;
    const values = received.table.getChild("x")!.data[0]!.values as Float64Array;
    assert.ok(values.buffer instanceof SharedArrayBuffer, "columns are views into the segment");
    assert.deepEqual([...values], [1, 2, 3]);
    received.release();
    shared.release();
  });

  test("over a socket (maybe another machine) it travels as bytes and lands in new shared memory", async () => {
    const shared = SharedTable.from(tableFromArrays({ x: new Float64Array([4, 5]) }));
    const received = (await loadsAsync(dumps(shared, "socket"))) as SharedTable;
    assert.deepEqual([...received.table.getChild("x")!], [4, 5]);
    assert.ok((received.table.getChild("x")!.data[0]!.values as Float64Array).buffer instanceof SharedArrayBuffer);
    shared.release();
    assert.deepEqual([...received.table.getChild("x")!], [4, 5], "the copy does not depend on the sender's segment");
    received.release();
  });

  test("a plain Table travels through a segment on this machine, and as IPC bytes over a socket", async () => {
    const before = mine();
    const table = tableFromArrays({ x: new Float64Array([1.5, 2.5]), s: ["a", null] });
    const frame = dumps(table);
    assert.equal(mine(), before + 1, "the message names a segment that holds the table");
    const received = (await loadsAsync(frame)) as Table;
    assert.ok(received instanceof Table);
    assert.ok((received.getChild("x")!.data[0]!.values as Float64Array).buffer instanceof SharedArrayBuffer);
    assert.deepEqual([...received.getChild("s")!], ["a", null]);
    assert.equal(mine(), before, "the receiver's Table keeps the memory mapped; the name is gone");
    const copy = (await loadsAsync(dumps(table, "socket"))) as Table;
    assert.deepEqual([...copy.getChild("x")!], [1.5, 2.5]);
    assert.equal(mine(), before);
  });

  test("bad input is refused with a code", () => {
    assert.throws(() => SharedTable.from({} as never), { code: ErrorCodes.INVALID_ARG_TYPE });
  });
});
