// PriorityQueue: lowest priority first, ties in arrival order, across processes; the heap stays
// right under random use; items that are not (priority, data) throw at put.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getContext, PriorityQueue } from "multiproc";
import { CONTEXTS } from "./helpers.js";
import { relay } from "./fixtures/queues.js";

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);
  describe(`PriorityQueue (${kind})`, () => {
    test("a child relays [priority, data] items into a PriorityQueue; they come out by priority", async () => {
      await using inbox = new ctx.Queue<[number, string]>();
      await using q = new ctx.PriorityQueue<[number, string]>();
      const items: [number, string][] = [[5, "e"], [1, "a"], [3, "c"], [1, "a2"], [4, "d"], [2, "b"], [-1, "first"]];
      const p = new ctx.Process({ target: relay, args: [inbox, q, items.length] });
      p.start();
      for (const item of items) await inbox.put(item);
      await p.join();
      assert.equal(p.exitCode, 0);
      const got: string[] = [];
      while (!q.empty()) got.push((await q.get())[1]);
      assert.deepEqual(got, ["first", "a", "a2", "b", "c", "d", "e"]);
    });
  });
}

describe("PriorityQueue in one process", () => {
  test("random puts and gets match a sorted model", async () => {
    await using q = new PriorityQueue<[number, number, string]>({ capacity: 64 * 1024 });
    const model: [number, number, string][] = [];
    let seq = 0;
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let step = 0; step < 3000; step++) {
      if (model.length === 0 || random() < 0.55) {
        const item: [number, number, string] = [Math.floor(random() * 50), seq++, "x".repeat(Math.floor(random() * 150))];
        await q.put(item);
        model.push(item);
        model.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      } else {
        assert.deepEqual(await q.get(), model.shift());
      }
      assert.equal(q.qsize(), model.length);
    }
    while (model.length > 0) assert.deepEqual(q.getNowait(), model.shift());
  });

  test("numbers and bigints are their own priority; other items throw at put", async () => {
    await using q = new PriorityQueue<unknown>({ maxsize: 10 });
    await q.put(3);
    await q.put(10n);
    await q.put([2.5, { data: true }]);
    await q.put(-Infinity);
    assert.equal(await q.get(), -Infinity);
    assert.deepEqual(await q.get(), [2.5, { data: true }]);
    assert.equal(await q.get(), 3);
    assert.equal(await q.get(), 10n);
    await assert.rejects(q.put("text"), { code: "ERR_INVALID_ARG_TYPE", message: /PriorityQueue/ });
    await assert.rejects(q.put(["a", 1]), { code: "ERR_INVALID_ARG_TYPE" });
    assert.throws(() => q.putNowait(NaN), { code: "ERR_INVALID_ARG_TYPE" });
    assert.throws(() => q.putNowait({}), { code: "ERR_INVALID_ARG_TYPE" });
    assert.equal(q.empty(), true);
  });

  test("large items go out of line and keep their place", async () => {
    await using q = new PriorityQueue<[number, Uint8Array]>({ capacity: 8192 });
    await q.put([2, new Uint8Array(3000).fill(2)]);
    await q.put([1, new Uint8Array(1_500_000).fill(1)]);
    await q.put([3, new Uint8Array(10).fill(3)]);
    for (const p of [1, 2, 3]) {
      const [priority, data] = await q.get();
      assert.equal(priority, p);
      assert.ok(data.every((b) => b === p));
    }
  });
});
