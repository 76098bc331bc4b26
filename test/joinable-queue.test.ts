// JoinableQueue: taskDone/join across processes and threads, over-calling taskDone, join timeouts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getContext, JoinableQueue, Queue } from "multiproc";
import { CONTEXTS } from "./helpers.js";
import { squareWorker } from "./fixtures/queues.js";

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);
  describe(`JoinableQueue (${kind})`, () => {
    test("join resolves after 4 workers have finished 10 items", async () => {
      await using tasks = new ctx.JoinableQueue<number | null>();
      await using results = new ctx.Queue<number>();
      const workers = Array.from({ length: 4 }, () => new ctx.Process({ target: squareWorker, args: [tasks, results] }));
      for (const w of workers) w.start();
      for (let i = 0; i < 10; i++) await tasks.put(i);
      assert.equal(await tasks.join({ timeout: 60_000 }), true);
      const squares: number[] = [];
      while (!results.empty()) squares.push(results.getNowait());
      assert.deepEqual(squares.sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i * i));
      for (let i = 0; i < 4; i++) await tasks.put(null);
      assert.equal(await tasks.join({ timeout: 60_000 }), true);
      await Promise.all(workers.map((w) => w.join()));
      for (const w of workers) assert.equal(w.exitCode, 0);
    });
  });
}

describe("JoinableQueue in one process", () => {
  test("taskDone called too often throws; join waits for the last one", async () => {
    await using q = new JoinableQueue<string>();
    assert.equal(await q.join(), true, "nothing put: joined at once");
    assert.throws(() => q.taskDone(), { code: "ERR_TASK_DONE_TOO_MANY" });
    await q.put("a");
    await q.put("b");
    assert.equal(await q.get(), "a");
    q.taskDone();
    const started = performance.now();
    assert.equal(await q.join({ timeout: 100 }), false);
    assert.ok(performance.now() - started >= 99);
    assert.equal(q.joinSync({ timeout: 0 }), false);
    const joined = q.join();
    assert.equal(q.getNowait(), "b");
    q.taskDone();
    assert.equal(await joined, true);
    assert.throws(() => q.taskDone(), { code: "ERR_TASK_DONE_TOO_MANY" });
    assert.equal(q.joinSync(), true);
  });

  test("a plain Queue has no taskDone; close stops a pending join", async () => {
    const plain = new Queue();
    assert.equal("taskDone" in plain, false);
    plain.close();
    const q = new JoinableQueue();
    await q.put(1);
    const joined = q.join();
    q.close();
    await assert.rejects(joined, { code: "ERR_CLOSED" });
    assert.throws(() => q.taskDone(), { code: "ERR_CLOSED" });
    await assert.rejects(q.join({ timeout: "5" as unknown as number }), { code: "ERR_INVALID_ARG_TYPE" });
  });
});
