// Managers serving Arrow tables and big arrays (issue 7, part 4): a local client (Unix socket, or
// TCP on this machine) gets tables that read one shared segment in place, a client that does not
// share /dev/shm gets a correct copy (Arrow IPC bytes), and /dev/shm returns to its start once the
// tables leave the server.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Table } from "apache-arrow";
import { getContext, Manager, SharedMemory, type ManagerOptions } from "multiproc";
import { SharedTable } from "multiproc/arrow";
import { CONTEXTS, eventually, fixture, runNode, shmEntries } from "./helpers.js";
import { column, makeTable, TableManager, writeIntoNamespaceTable, writeIntoSharedTable, type TableServerProxy } from "./fixtures/manager-tables.js";

const tag = `${process.env.MULTIPROC_SHM_PREFIX ?? ""}mtab${process.pid}_`;
process.env.MULTIPROC_SHM_PREFIX = tag;
const mine = () => [...shmEntries()].filter((n) => n.startsWith(tag)).length;

function sums(table: Table): [number, number, number] {
  let x = 0;
  let n = 0;
  let s = 0;
  for (const v of table.getChild("x")!) x += v as number;
  for (const v of table.getChild("n")!) n += v as number;
  for (const v of table.getChild("s")!) s += v === null ? 0 : (v as string).length;
  return [x, n, s];
}

const ROWS = 50_000;

for (const kind of CONTEXTS) {
  describe(`a manager's tables for local clients (${kind} child)`, () => {
    for (const [where, options] of [
      ["Unix socket", {}],
      ["TCP 127.0.0.1", { address: ["127.0.0.1", 0] }],
    ] as [string, ManagerOptions][]) {
      test(`a Namespace table is shared, not copied (${where})`, async () => {
        const before = mine();
        {
          await using m = await Manager(options);
          const ns = await m.Namespace();
          const table = makeTable(ROWS);
          await ns.set("table", table);
          const mineNow = await ns.get<Table>("table");
          assert.ok(column(mineNow).buffer instanceof SharedArrayBuffer, "the parent's table reads shared memory");
          assert.deepEqual(sums(mineNow), sums(table));
          assert.equal(mine(), before + 1, "one segment holds the table for every reader");
          const again = await ns.get<Table>("table");
          assert.equal(mine(), before + 1, "a second hand-out maps the same segment");
          const p = new (getContext(kind).Process)({ target: writeIntoNamespaceTable, args: [ns, 7, -1] });
          p.start();
          await p.join();
          assert.equal(p.exitCode, 0);
          assert.equal(column(mineNow)[7], -1, "the child's write is seen through the parent's table: same memory");
          assert.equal(column(again)[7], -1);
          await ns.delete("table");
          assert.equal(mine(), before, "the segment's name goes when the table leaves the Namespace");
          assert.equal(column(mineNow)[8], 8, "tables already handed out stay readable");
        }
        assert.equal(mine(), before);
      });
    }

    test("a SharedTable in a Namespace is handed out from its own segment", async () => {
      const before = mine();
      {
        await using m = await Manager();
        const ns = await m.Namespace();
        const shared = SharedTable.from(makeTable(1000));
        await ns.set("shared", shared);
        assert.equal(mine(), before + 1, "the server holds the client's segment; no copy was made");
        const p = new (getContext(kind).Process)({ target: writeIntoSharedTable, args: [ns, 3, 33.5] });
        p.start();
        await p.join();
        assert.equal(p.exitCode, 0);
        assert.equal(column(shared.table)[3], 33.5, "the child wrote into the segment this SharedTable reads");
        shared.release();
        assert.equal(mine(), before + 1, "the server still holds it");
        await ns.delete("shared");
        assert.equal(mine(), before, "the server released its holder with the attribute");
      }
      assert.equal(mine(), before);
    });
  });
}

describe("a manager's tables for clients on other machines", () => {
  test("a client that does not share /dev/shm gets a correct copy (Arrow IPC bytes)", async () => {
    const before = mine();
    {
      await using m = await Manager({ address: ["127.0.0.1", 0], sharedMemory: false });
      const ns = await m.Namespace();
      const table = makeTable(ROWS);
      await ns.set("table", table);
      const a = await ns.get<Table>("table");
      const b = await ns.get<Table>("table");
      assert.ok(!(column(a).buffer instanceof SharedArrayBuffer), "a copy in this process's heap");
      assert.deepEqual(sums(a), sums(table));
      assert.deepEqual(a.schema.fields.map((f) => String(f.type)), table.schema.fields.map((f) => String(f.type)));
      column(a)[1] = 99;
      assert.equal(column(b)[1], 1, "each get is a copy of its own");
      assert.equal(mine(), before, "nothing was placed in shared memory");
    }
    assert.equal(mine(), before);
  });

  test("a SharedTable reaches a remote client as a SharedTable of its own", async () => {
    const before = mine();
    await using m = await Manager({ address: ["127.0.0.1", 0], sharedMemory: false });
    const ns = await m.Namespace();
    const shared = SharedTable.from(makeTable(100));
    await ns.set("shared", shared);
    const got = await ns.get<SharedTable>("shared");
    assert.ok(got instanceof SharedTable);
    assert.deepEqual(sums(got.table), sums(shared.table));
    column(got.table)[2] = 7.5;
    assert.equal(column(shared.table)[2], 2, "a copy: the original is untouched");
    got.release();
    shared.release();
    await ns.delete("shared");
    await m.shutdown();
    assert.equal(mine(), before);
  });
});

describe("a registered object holding a table", () => {
  test("hands the same shared table to local clients and a copy to remote ones", async () => {
    const before = mine();
    {
      await using m = new TableManager({ address: ["127.0.0.1", 0] });
      await m.start();
      const server = (await m.create("TableServer", 1000)) as TableServerProxy;
      const a = await server.getTable();
      const b = await server.getTable();
      assert.ok(column(a).buffer instanceof SharedArrayBuffer);
      assert.equal(mine(), before + 1, "the server placed its table in shared memory once");
      column(a)[4] = 4.5;
      assert.equal(column(b)[4], 4.5, "both hand-outs read one segment");
      assert.equal(await server.valueAt(4), 4, "the server's own table is not the shared copy");

      await using remote = new TableManager({ address: m.address!, sharedMemory: false });
      await remote.connect();
      const far = (await remote.create("TableServer", 1000)) as TableServerProxy;
      const copy = await far.getTable();
      assert.ok(!(column(copy).buffer instanceof SharedArrayBuffer));
      assert.deepEqual(sums(copy), sums(makeTable(1000)));
    }
    assert.equal(mine(), before, "the server's shared copy goes when it stops");
  });
});

describe("who frees a manager's table segment", () => {
  test("the server, when the last proxy of the Namespace holding it is released", async () => {
    const before = mine();
    await using m = await Manager();
    const ns = await m.Namespace();
    await ns.set("table", makeTable(100));
    await ns.get<Table>("table");
    assert.equal(mine(), before + 1);
    ns._release();
    const d = await m.dict(); // a request after the decref on the same connection: it was applied
    await d.set("x", 1);
    assert.equal(mine(), before, "freed with the Namespace");
  });

  test("the resource tracker, when the server and its program are SIGKILLed", async () => {
    const prefix = `${tag}crash_`;
    const count = () => [...shmEntries()].filter((n) => n.startsWith(prefix)).length;
    const r = await runNode(fixture("manager-table-crash.js"), { env: { MULTIPROC_SHM_PREFIX: prefix } });
    assert.equal(r.signal, "SIGKILL");
    const m = /^pinned 3, segments (\d+)$/m.exec(r.stdout);
    assert.ok(m !== null, `${r.stdout}\n${r.stderr}`);
    assert.ok(Number(m[1]) >= 1, "the table was in shared memory when everything died");
    assert.ok(await eventually(() => count() === 0, 10_000), "the tracker unlinked the table's segment");
  });
});

describe("big typed arrays in a manager", () => {
  test("an array over a SharedMemory block travels by name: writes are seen both ways", async () => {
    await using m = await Manager();
    const ns = await m.Namespace();
    using shm = new SharedMemory({ create: true, size: 8 * 1024 });
    const mineArr = new Float64Array(shm.buffer);
    await ns.set("a", mineArr);
    const got = await ns.get<Float64Array>("a");
    got[10] = 3.25;
    assert.equal(mineArr[10], 3.25);
    shm.unlink();
  });

  test("a plain 4 MiB array reaches a local client through a segment, intact", async () => {
    const before = mine();
    await using m = await Manager();
    const ns = await m.Namespace();
    const big = Float64Array.from({ length: 512 * 1024 }, (_, i) => i * 0.5);
    await ns.set("big", big);
    const got = await ns.get<Float64Array>("big");
    assert.ok(got.buffer instanceof SharedArrayBuffer, "handed over through a segment");
    assert.deepEqual(got, big);
    assert.equal(mine(), before, "hand-over segments are unlinked by their receiver");
  });
});
