// Pool under both start methods: CPython's test-suite behaviours for apply, map and starmap,
// AsyncResult, task errors, timeouts, maxTasksPerChild, statistics, and bad input refused at the call.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AsyncResult, fromModule, getContext, Pool, RemoteError, SharedMemory } from "multiproc";
import { CONTEXTS } from "./helpers.js";
import { add, countAndSleep, double, fail, readInit, returnFunction, initSet, slowSqr, sqr, throwString, whoAmI } from "./fixtures/pool-targets.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);

  describe(`Pool (${kind})`, () => {
    let pool: Pool;
    before(() => {
      pool = new ctx.Pool(2);
    });
    after(async () => {
      await pool.terminate();
    });

    test("apply(sqr, [5]) is 25; the pool runs on the context's start method", async () => {
      assert.equal(await pool.apply(sqr, [5]), 25);
      assert.equal(pool.startMethod, kind);
      assert.equal(pool.processes, 2);
    });

    test("applyAsync gives an AsyncResult: PromiseLike, get, wait, ready, successful, callback", async () => {
      let called: number | undefined;
      const r = pool.applyAsync(add, [2, 3], { callback: (v) => (called = v) });
      assert.ok(r instanceof AsyncResult);
      assert.throws(() => r.successful(), { code: "ERR_NOT_READY" });
      assert.equal(await r, 5);
      assert.equal(r.ready(), true);
      assert.equal(r.successful(), true);
      assert.equal(await r.get(), 5);
      assert.equal(await r.wait({ timeout: 0 }), true);
      assert.equal(called, 5);
      assert.equal(r.stats.reduce((n, s) => n + s.tasks, 0), 1);
    });

    test("map and starmap over 10 and 100 items (chunksize 20) keep order", async () => {
      for (const n of [10, 100]) {
        const xs = range(n);
        assert.deepEqual(await pool.map(sqr, xs), xs.map((x) => x * x));
        assert.deepEqual(await pool.map(sqr, xs, { chunksize: 20 }), xs.map((x) => x * x));
        const pairs = xs.map((x) => [x, 2 * x] as [number, number]);
        assert.deepEqual(await pool.starmap(add, pairs), xs.map((x) => 3 * x));
        assert.deepEqual(await pool.starmap(add, pairs, { chunksize: 20 }), xs.map((x) => 3 * x));
      }
    });

    test("map takes any iterable and values of any kind; empty input gives []", async () => {
      assert.deepEqual(await pool.map(double, new Set([1, 2, 3])), [2, 4, 6]);
      assert.deepEqual(await pool.map(double, [0.5, -0, 1e300]), [1, -0, 2e300]);
      assert.deepEqual(await pool.map((s: string) => s.toUpperCase(), "abc"), ["A", "B", "C"]);
      assert.deepEqual(await pool.map((o: { a: number }) => ({ b: o.a, m: new Map([[1, 2]]) }), [{ a: 1 }]), [{ b: 1, m: new Map([[1, 2]]) }]);
      assert.deepEqual(await pool.map(sqr, []), []);
      assert.deepEqual(await pool.starmap(add, []), []);
      assert.deepEqual(await pool.mapAsync(sqr, []), []);
    });

    test("mapAsync: callback, stats per worker and onProgress", async () => {
      const seen: [number, number | undefined][] = [];
      let value: number[] | undefined;
      const r = pool.mapAsync(sqr, range(50), { chunksize: 5, callback: (v) => (value = v), progress: (done, total) => seen.push([done, total]) });
      const got = await r;
      assert.deepEqual(got, range(50).map((x) => x * x));
      assert.equal(value, got);
      assert.deepEqual(seen.at(-1), [50, 50]);
      assert.equal(seen.length, 10);
      assert.equal(r.stats.reduce((n, s) => n + s.items, 0), 50);
      assert.equal(r.stats.reduce((n, s) => n + s.tasks, 0), 10);
      for (const s of r.stats) assert.ok(s.busyMs >= 0 && s.name.startsWith("PoolWorker-"));
      assert.ok(pool.stats().length >= 2);
    });

    test("get({ timeout: 100 }) on a slow task raises TimeoutError, and the task still completes", async () => {
      const r = pool.applyAsync(slowSqr, [3, 1000]);
      const started = performance.now();
      await assert.rejects(r.get({ timeout: 100 }), { name: "TimeoutError", code: "ERR_TIMEOUT" });
      assert.ok(performance.now() - started >= 99);
      assert.equal(r.ready(), false);
      assert.equal(await r.get(), 9);
    });

    test("a task's error rejects that task with the remote stack as cause; the pool keeps going", async () => {
      const err = await pool.apply(fail, ["boom"]).then(
        () => assert.fail("should have thrown"),
        (e: unknown) => e as TypeError & { code: string; cause: RemoteError },
      );
      assert.ok(err instanceof TypeError);
      assert.equal(err.message, "boom");
      assert.equal(err.code, "E_TASK");
      assert.ok(err.cause instanceof RemoteError);
      assert.match(err.cause.stack ?? "", /at fail /);
      await assert.rejects(pool.apply(throwString), { name: "RemoteError", code: "ERR_REMOTE" });
      await assert.rejects(pool.map(fail, ["a", "b"]), { code: "E_TASK" });
      let errored: unknown;
      await assert.rejects(pool.applyAsync(fail, ["cb"], { errorCallback: (e) => (errored = e) }).get(), { code: "E_TASK" });
      assert.equal((errored as Error).message, "cb");
      assert.equal(await pool.apply(sqr, [4]), 16);
    });

    test("a result that cannot be sent back, a target that cannot be found: typed errors, the pool keeps going", async () => {
      await assert.rejects(pool.apply(returnFunction), { code: "ERR_UNSERIALIZABLE" });
      const missing = fromModule<{ nope: (x: number) => number }>(new URL("./fixtures/pool-targets.js", import.meta.url));
      await assert.rejects(pool.apply(missing.nope, [1]), { code: "ERR_TARGET_NOT_FOUND" });
      await assert.rejects(pool.map(missing.nope, [1, 2]), { code: "ERR_TARGET_NOT_FOUND" });
      const outer = 3;
      await assert.rejects(pool.apply((x: number) => x + outer, [1]), { code: "ERR_TARGET_NOT_SELF_CONTAINED" });
      assert.equal(await pool.apply((x: number) => x + 1, [1]), 2);
      assert.deepEqual(await pool.map(sqr, [1, 2]), [1, 4]);
    });

    test("bad input is refused at the call with a typed error", async () => {
      assert.throws(() => pool.applyAsync(sqr, 5 as unknown as [number]), { code: "ERR_INVALID_ARG_TYPE" });
      assert.throws(() => pool.applyAsync(42 as unknown as () => void), { code: "ERR_INVALID_ARG_TYPE" });
      assert.throws(() => pool.applyAsync(Math.max), { code: "ERR_TARGET_NOT_FOUND" });
      await assert.rejects(pool.map(sqr.bind(null), [1]), { code: "ERR_TARGET_NOT_FOUND" });
      assert.throws(() => pool.applyAsync(sqr, [() => 1] as unknown as [number]), { code: "ERR_UNSERIALIZABLE" });
      await assert.rejects(pool.apply(sqr, [1], { timeout: -1 }), { code: "ERR_OUT_OF_RANGE" });
      await assert.rejects(pool.map(sqr, 42 as unknown as number[]), { code: "ERR_INVALID_ARG_TYPE" });
      await assert.rejects(pool.map(sqr, [1], { chunksize: 0 }), { code: "ERR_OUT_OF_RANGE" });
      await assert.rejects(pool.map(sqr, [1], { chunksize: 1.5 }), { code: "ERR_INVALID_ARG_TYPE" });
      await assert.rejects(pool.map(sqr, [1], { signal: "no" as unknown as AbortSignal }), { code: "ERR_INVALID_ARG_TYPE" });
      await assert.rejects(pool.map(sqr, [1], { progress: 3 as unknown as boolean }), { code: "ERR_INVALID_ARG_TYPE" });
      assert.throws(() => pool.imap(sqr, null as unknown as number[]), { code: "ERR_INVALID_ARG_TYPE" });
      await assert.rejects(pool.starmap(add, [1, 2] as unknown as [number, number][]), { name: "TypeError" });
      assert.equal(await pool.apply(sqr, [6]), 36);
    });

    test("a per-task timeout fails the task with TimeoutError and replaces its worker", async () => {
      using shm = new SharedMemory({ create: true, size: 8 });
      const started = performance.now();
      await assert.rejects(pool.apply(countAndSleep, [shm, 30_000], { timeout: 200 }), { code: "ERR_TIMEOUT" });
      assert.ok(performance.now() - started >= 199);
      assert.deepEqual(await pool.map(sqr, range(10)), range(10).map((x) => x * x));
      shm.unlink();
    });
  });

  describe(`Pool construction and lifetime (${kind})`, () => {
    test("new Pool(0), maxTasksPerChild: 0 and non-integer processes throw at construction", () => {
      assert.throws(() => new ctx.Pool(0), { code: "ERR_OUT_OF_RANGE" });
      assert.throws(() => new ctx.Pool({ processes: 0 }), { code: "ERR_OUT_OF_RANGE" });
      assert.throws(() => new ctx.Pool(1.5), { code: "ERR_INVALID_ARG_TYPE" });
      assert.throws(() => new ctx.Pool({ processes: "2" as unknown as number }), { code: "ERR_INVALID_ARG_TYPE" });
      assert.throws(() => new ctx.Pool({ maxTasksPerChild: 0 }), { code: "ERR_OUT_OF_RANGE" });
      assert.throws(() => new ctx.Pool({ initializer: 3 as unknown as () => void }), { code: "ERR_INVALID_ARG_TYPE" });
      assert.throws(() => new ctx.Pool({ initargs: 3 as unknown as [] }), { code: "ERR_INVALID_ARG_TYPE" });
      assert.throws(() => new ctx.Pool({ context: "fork" as "process" }), { code: "ERR_UNKNOWN_CONTEXT" });
    });

    test("maxTasksPerChild: 10 changes the workers over 100 tasks; the initializer runs in each", async () => {
      const pool = new Pool({ processes: 2, maxTasksPerChild: 10, context: ctx, initializer: initSet, initargs: ["ready"] });
      try {
        const results = await Promise.all(range(100).map(() => pool.apply(whoAmI)));
        assert.ok(new Set(results).size >= 10, `distinct workers: ${new Set(results).size}`);
        assert.equal(await pool.apply(readInit), "ready");
      } finally {
        await pool.terminate();
      }
    });

    test("close() refuses new work at once; join() waits for the queued work and the workers", async () => {
      const pool = new ctx.Pool(2);
      await assert.rejects(pool.join(), { code: "ERR_POOL_RUNNING" });
      const queued = range(6).map((x) => pool.apply(slowSqr, [x, 50]));
      pool.close();
      assert.throws(() => pool.applyAsync(sqr, [1]), { code: "ERR_CLOSED" });
      await assert.rejects(pool.apply(sqr, [1]), { code: "ERR_CLOSED" });
      await assert.rejects(pool.map(sqr, [1]), { code: "ERR_CLOSED" });
      assert.throws(() => pool.imap(sqr, [1]), { code: "ERR_CLOSED" });
      await pool.join();
      assert.deepEqual(await Promise.all(queued), range(6).map((x) => x * x));
    });

    test("terminate() returns promptly with 10,000 tasks queued; they all fail with ERR_POOL_TERMINATED", async () => {
      const pool = new ctx.Pool(2);
      const results = range(10_000).map((x) => pool.applyAsync(slowSqr, [x, 1000]));
      const started = performance.now();
      await pool.terminate();
      const took = performance.now() - started;
      const outcomes = await Promise.allSettled(results.map((r) => r.get()));
      assert.ok(outcomes.every((o) => o.status === "rejected" && (o.reason as { code: string }).code === "ERR_POOL_TERMINATED"));
      assert.ok(took < 10_000, `terminate took ${took} ms`);
      await assert.rejects(pool.apply(sqr, [1]), { code: "ERR_POOL_TERMINATED" });
    });

    test("await using terminates the pool at the end of the block", async () => {
      let escaped: Pool;
      {
        await using pool = new ctx.Pool(1);
        escaped = pool;
        assert.equal(await pool.apply(sqr, [3]), 9);
      }
      await assert.rejects(escaped.apply(sqr, [1]), { code: "ERR_POOL_TERMINATED" });
    });
  });
}
