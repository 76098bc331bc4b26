// currentTask() inside pool tasks (issue 16): its id and signal, cooperative cancellation when the
// caller aborts or the pool terminates, killOnAbort for tasks that cannot stop themselves, and
// emit() delivered in order to the caller's onEvent before the result. Both start methods.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AbortError, currentTask, getContext } from "multiproc";
import { CONTEXTS } from "./helpers.js";
import { board, range, release, untilWord, word } from "./pool-feature-helpers.js";
import { describeTask, emitCount, emitItem, spinForever, taskAfterAwait, untilAborted, who } from "./fixtures/pool-features.js";

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);

  describe(`Pool currentTask (${kind})`, () => {
    test("currentTask() is null outside a task and gives id, signal and emit inside one, also after an await", async () => {
      assert.equal(currentTask(), null);
      await using pool = new ctx.Pool(1);
      const inside = await pool.apply(describeTask);
      assert.ok(inside !== null && Number.isInteger(inside.id));
      assert.equal(inside.aborted, false);
      assert.equal(inside.emit, "function");
      assert.equal(typeof (await pool.apply(taskAfterAwait)), "number");
    });

    test("an abort reaches the running task's signal; the task stops and its worker goes on", async () => {
      const shm = board();
      try {
        await using pool = new ctx.Pool(1);
        const before = await pool.apply(who);
        const ac = new AbortController();
        const r = pool.apply(untilAborted, [shm, 60_000], { signal: ac.signal });
        await untilWord(shm, 0, 1);
        ac.abort(new Error("enough"));
        await assert.rejects(r, (err: unknown) => err instanceof AbortError && err.code === "ERR_ABORTED");
        await untilWord(shm, 1, 1); // the task saw its signal abort
        assert.equal(await pool.apply(who), before, "the same worker serves the next task");
      } finally {
        release(shm);
      }
    });

    test("terminate() aborts the signal of running tasks before the workers go", async () => {
      const shm = board();
      try {
        const pool = new ctx.Pool(2);
        const runs = Promise.allSettled(range(2).map(() => pool.apply(untilAborted, [shm, 60_000])));
        await untilWord(shm, 0, 2);
        await pool.terminate();
        for (const r of await runs) assert.equal(r.status === "rejected" && (r.reason as { code?: unknown }).code, "ERR_POOL_TERMINATED");
        assert.equal(word(shm, 1), 2);
      } finally {
        release(shm);
      }
    });

    test("killOnAbort: true kills the worker of a task that never yields, and a new worker takes over", async () => {
      const shm = board();
      try {
        await using pool = new ctx.Pool(1);
        const before = await pool.apply(who);
        const ac = new AbortController();
        const r = pool.apply(spinForever, [shm], { signal: ac.signal, killOnAbort: true });
        await untilWord(shm, 0, 1);
        ac.abort();
        await assert.rejects(r, { code: "ERR_ABORTED" });
        const after = await pool.applyAsync(who).get({ timeout: 30_000 });
        if (kind === "thread") assert.notEqual(after, before);
        else assert.notEqual(after.split(":")[0], before.split(":")[0]);
      } finally {
        release(shm);
      }
    });
  });

  describe(`Pool onEvent (${kind})`, () => {
    test("emit() values reach onEvent in order, all before the result", async () => {
      await using pool = new ctx.Pool(1);
      const events: unknown[] = [];
      const r = await pool.apply(emitCount, [25], { onEvent: (v) => events.push(v) });
      assert.equal(r, "done");
      assert.deepEqual(events, range(25));
      // Without onEvent, emit() is a no-op.
      assert.equal(await pool.apply(emitCount, [5]), "done");
    });

    test("map: every item's events arrive, each chunk's in order, before the map resolves", async () => {
      await using pool = new ctx.Pool(2);
      const events: number[] = [];
      const out = await pool.map(emitItem, range(40), { chunksize: 4, onEvent: (v) => events.push(v as number) });
      assert.deepEqual(out, range(40).map((x) => x * 10));
      assert.deepEqual([...events].sort((a, b) => a - b), range(40));
      for (let c = 0; c < 40; c += 4) {
        const chunk = events.filter((x) => x >= c && x < c + 4);
        assert.deepEqual(chunk, [c, c + 1, c + 2, c + 3]);
      }
    });

    test("bad call options throw at the call with a code", async () => {
      await using pool = new ctx.Pool(1);
      assert.throws(() => pool.applyAsync(who, [], { onEvent: 3 as unknown as () => void }), { code: "ERR_INVALID_ARG_TYPE" });
      assert.throws(() => pool.applyAsync(who, [], { killOnAbort: "yes" as unknown as boolean }), { code: "ERR_INVALID_ARG_TYPE" });
      assert.throws(() => pool.applyAsync(who, [], { settle: true } as object), { code: "ERR_INVALID_ARG_VALUE" });
      assert.equal(typeof (await pool.apply(who)), "string");
    });
  });
}
