// Pool under both start methods: the shared conformance cases (conformance/pool-cases.ts: apply,
// map, starmap, AsyncResult, task errors, timeouts, bad input, lifetime), plus what only a local
// pool has: start methods, per-worker statistics of idle workers, maxTasksPerChild, construction.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getContext, Pool } from "multiproc";
import { CONTEXTS, fixture, runNode } from "./helpers.js";
import { callCases, lifetimeCases } from "./conformance/pool-cases.js";
import { double, readInit, initSet, repeatChar, sqr, whoAmI } from "./fixtures/pool-targets.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);

  callCases(`Pool (${kind})`, (n) => new ctx.Pool(n));

  describe(`Pool workers (${kind})`, () => {
    test("the pool runs on the context's start method; stats() lists every live worker", async () => {
      await using pool = new ctx.Pool(2);
      assert.equal(await pool.apply(sqr, [5]), 25);
      assert.equal(pool.startMethod, kind);
      assert.equal(pool.processes, 2);
      await pool.map(sqr, range(50), { chunksize: 5 });
      assert.equal(pool.stats().workers.length, 2);
      for (const s of pool.stats().workers) assert.match(s.name, /^PoolWorker-\d+$/);
    });

    test("numbers come back whole and in order: runs short and long, ints and floats, chunks that are not all numbers", async () => {
      await using pool = new ctx.Pool(2);
      const xs = range(5000).map((i) => (i % 7 === 0 ? i / 4 : i));
      const doubled = xs.map((x) => x * 2);
      for (const chunksize of [1, 3, 16, 17, 1000, undefined]) {
        assert.deepEqual(await pool.map(double, xs, chunksize === undefined ? {} : { chunksize }), doubled, `chunksize ${chunksize}`);
      }
      const some = (x: number) => (x === 33 ? "thirty-three" : x === 34 ? -0 : x * 2);
      assert.deepEqual(await pool.map(some, range(60), { chunksize: 10 }), range(60).map(some));
      assert.deepEqual(await pool.map(some, new Set(range(60)), { chunksize: 20 }), range(60).map(some));
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

    test("results larger than the result ring (sent in fragments) arrive, one after another and together", async () => {
      const pool = new Pool({ processes: 2, context: ctx });
      try {
        // 600,000 bytes: more than the 256 KiB ring, less than the 1 MiB that goes out of line.
        assert.equal((await pool.apply(repeatChar, [600_000])).length, 600_000);
        const lengths = (await pool.map(repeatChar, [300_000, 10, 600_000, 200_000], { chunksize: 1 })).map((r) => r.length);
        assert.deepEqual(lengths, [300_000, 10, 600_000, 200_000]);
      } finally {
        await pool.terminate();
      }
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
  });

  lifetimeCases(`Pool lifetime (${kind})`, (n) => new ctx.Pool(n));
}

test("without the addon (no wake pipe), a thread Pool reads its workers' rings and serves apply and map", async () => {
  const r = await runNode(fixture("pool-no-native.js"), { env: { MULTIPROC_NO_NATIVE: "1" } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /apply=25 map=ok sequential=40425/);
});
