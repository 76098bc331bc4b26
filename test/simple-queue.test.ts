// SimpleQueue: put, get, empty and close, across processes and threads.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getContext, SimpleQueue } from "multiproc";
import { CONTEXTS } from "./helpers.js";
import { simpleEcho } from "./fixtures/queues.js";

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);
  describe(`SimpleQueue (${kind})`, () => {
    test("items go to a child and come back in order", async () => {
      await using there = new ctx.SimpleQueue<unknown>();
      await using back = new ctx.SimpleQueue<unknown>();
      const items = [1, "two", [3], { four: 4 }, null, new Uint8Array(2_000_000).fill(5)];
      const p = new ctx.Process({ target: simpleEcho, args: [there, back, items.length] });
      p.start();
      for (const item of items) await there.put(item);
      for (const item of items) assert.deepEqual(await back.get(), item);
      await p.join();
      assert.equal(back.empty(), true);
    });
  });
}

describe("SimpleQueue in one process", () => {
  test("sync calls, close, unsendable items", async () => {
    const q = new SimpleQueue<unknown>();
    assert.equal(q.empty(), true);
    q.putSync("a");
    assert.equal(q.empty(), false);
    assert.equal(q.getSync(), "a");
    await assert.rejects(q.put(Symbol("s")), { code: "ERR_UNSERIALIZABLE" });
    const pending = q.get();
    q.close();
    await assert.rejects(pending, { code: "ERR_CLOSED" });
    await assert.rejects(q.put(1), { code: "ERR_CLOSED" });
    assert.equal(q.closed, true);
  });
});
