// LifoQueue: last in, first out, across processes and threads; limits as Queue's.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Full, getContext, LifoQueue } from "multiproc";
import { CONTEXTS } from "./helpers.js";
import { putRangeSync } from "./fixtures/queues.js";

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);
  describe(`LifoQueue (${kind})`, () => {
    test("a child pushes 0..99; the parent pops 99..0", async () => {
      await using q = new ctx.LifoQueue<number>();
      const p = new ctx.Process({ target: putRangeSync, args: [q, 0, 100] });
      p.start();
      await p.join();
      assert.equal(p.exitCode, 0);
      assert.equal(q.qsize(), 100);
      const got: number[] = [];
      while (!q.empty()) got.push(await q.get());
      assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => 99 - i));
    });
  });
}

describe("LifoQueue in one process", () => {
  test("maxsize, capacity, large items, Full/Empty", async () => {
    await using q = new LifoQueue<unknown>({ maxsize: 3, capacity: 4096 });
    await q.put("a");
    await q.put(new Uint8Array(5000).fill(9)); // out of line: larger than a quarter of the area
    await q.put("c".repeat(900));
    assert.equal(q.full(), true);
    assert.throws(() => q.putNowait("d"), Full);
    assert.equal(await q.get(), "c".repeat(900));
    assert.deepEqual(await q.get(), new Uint8Array(5000).fill(9));
    await q.put([1, 2]);
    assert.deepEqual(q.getNowait(), [1, 2]);
    assert.equal(q.getNowait(), "a");
    await assert.rejects(q.get({ timeout: 10 }), { code: "ERR_QUEUE_EMPTY" });
  });

  test("an unbounded LifoQueue fills its capacity, then put waits for room", async () => {
    await using q = new LifoQueue<Uint8Array>({ capacity: 4096 });
    let n = 0;
    try {
      for (;;) {
        q.putNowait(new Uint8Array(100));
        n++;
      }
    } catch (err) {
      assert.ok(err instanceof Full);
    }
    assert.ok(n >= 30 && n <= 40, `${n} items of 100 bytes in 4 KiB`);
    const waiting = q.put(new Uint8Array(100), { timeout: 10_000 });
    await q.get();
    await waiting;
    assert.equal(q.qsize(), n);
  });
});
