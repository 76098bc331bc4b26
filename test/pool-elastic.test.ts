// The Pool's workers over time (issue 16): an elastic pool (minProcesses + idleTimeout), workers
// replaced past maxMemoryPerChild, a worker's own heap limits (resourceLimits), the finalizer on
// every way a worker retires, and bad options refused at construction. Both start methods.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getContext } from "multiproc";
import { CONTEXTS, eventually, fixture, runNode } from "./helpers.js";
import { board, range, release, untilWord, word } from "./pool-feature-helpers.js";
import { blockUntilGo, countFinal, countFinalLater, heapLimitMb, hog, rendezvous, untilAborted, who } from "./fixtures/pool-features.js";

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);

  describe(`Pool elastic and recycled workers (${kind})`, () => {
    test("minProcesses: 1 starts one worker, grows to processes while work waits, and shrinks back after idleTimeout", async () => {
      const shm = board();
      try {
        await using pool = new ctx.Pool({ processes: 3, minProcesses: 1, idleTimeout: 200 });
        assert.equal(pool.stats().workers.length, 1);
        // Three tasks that finish only when all three run at once: three workers are needed.
        await Promise.all(range(3).map(() => pool.apply(rendezvous, [shm, 3])));
        assert.equal(pool.stats().workers.length, 3);
        assert.ok(await eventually(() => pool.stats().workers.length === 1, 20_000), `workers: ${pool.stats().workers.length}`);
        assert.equal(typeof (await pool.apply(who)), "string");
      } finally {
        release(shm);
      }
    });

    test("maxMemoryPerChild: a worker over the limit is replaced after its task; one under it stays", async () => {
      await using pool = new ctx.Pool({ processes: 1, maxMemoryPerChild: 150 });
      const small = await pool.apply(who);
      assert.equal(await pool.apply(who), small, "under the limit the worker stays");
      const hogger = await pool.apply(hog, [250]);
      assert.equal(hogger, small);
      const next = await pool.apply(who);
      assert.notEqual(next, hogger, "the worker over the limit was replaced");
      assert.deepEqual(await pool.map(who, range(3)), [next, next, next].map(() => next));
    });

    test("resourceLimits.maxOldGenerationSizeMb sets the worker's own heap limit", async () => {
      await using pool = new ctx.Pool({ processes: 1, resourceLimits: { maxOldGenerationSizeMb: 48 } });
      const limit = await pool.apply(heapLimitMb);
      assert.ok(limit >= 40 && limit < 160, `heap limit ${limit} MiB`);
      await using plain = new ctx.Pool(1);
      assert.ok((await plain.apply(heapLimitMb)) > 200, "without resourceLimits a worker keeps the default");
    });
  });

  describe(`Pool finalizer (${kind})`, () => {
    test("the finalizer runs in each worker on close(), with finalargs", async () => {
      const shm = board();
      try {
        const pool = new ctx.Pool({ processes: 2, finalizer: countFinal, finalargs: [shm, 1] });
        await pool.map(who, range(10), { chunksize: 1 });
        pool.close();
        await pool.join();
        assert.equal(word(shm, 3), 2);
        assert.equal(word(shm, 5), 2);
      } finally {
        release(shm);
      }
    });

    test("the finalizer runs when a worker is recycled (maxTasksPerChild) and is awaited", async () => {
      const shm = board();
      try {
        const pool = new ctx.Pool({ processes: 1, maxTasksPerChild: 1, finalizer: countFinalLater, finalargs: [shm] });
        for (let i = 0; i < 3; i++) await pool.apply(who);
        await untilWord(shm, 3, 2);
        pool.close();
        await pool.join();
        assert.ok(word(shm, 3) >= 3, `finalizer runs: ${word(shm, 3)}`);
      } finally {
        release(shm);
      }
    });

    test("the finalizer runs on terminate(), also in a worker whose task is running, and on idle timeout", async () => {
      const shm = board();
      try {
        const pool = new ctx.Pool({ processes: 2, finalizer: countFinal, finalargs: [shm, 0] });
        const running = pool.apply(untilAborted, [shm, 60_000]);
        running.catch(() => undefined);
        await untilWord(shm, 0, 1);
        await pool.terminate();
        assert.equal(word(shm, 3), 2);
        await assert.rejects(running, { code: "ERR_POOL_TERMINATED" });

        const elastic = new ctx.Pool({ processes: 2, minProcesses: 0, idleTimeout: 100, finalizer: countFinal, finalargs: [shm, 2] });
        try {
          await elastic.apply(who);
          await untilWord(shm, 6, 1); // retired for idleness, finalizer run
          assert.ok(await eventually(() => elastic.stats().workers.length === 0, 20_000));
          assert.equal(typeof (await elastic.apply(who)), "string", "a new worker starts for new work");
        } finally {
          await elastic.terminate();
        }
      } finally {
        release(shm);
      }
    });

    test("a finalizer that throws is reported and ends nothing else", async () => {
      const shm = board();
      try {
        const pool = new ctx.Pool({ processes: 1, finalizer: blockUntilGo, finalargs: [3] });
        assert.equal(typeof (await pool.apply(who)), "string");
        pool.close();
        await pool.join();
      } finally {
        release(shm);
      }
    });
  });

  describe(`Pool options checked at construction (${kind})`, () => {
    test("bad minProcesses, idleTimeout, maxMemoryPerChild, resourceLimits, concurrentTasksPerWorker, maxQueue, finalizer and finalargs throw with a code", () => {
      const bad: [object, string][] = [
        [{ processes: 2, minProcesses: 3 }, "ERR_OUT_OF_RANGE"],
        [{ minProcesses: -1 }, "ERR_OUT_OF_RANGE"],
        [{ minProcesses: 1.5 }, "ERR_INVALID_ARG_TYPE"],
        [{ idleTimeout: -5 }, "ERR_OUT_OF_RANGE"],
        [{ idleTimeout: "1s" }, "ERR_INVALID_ARG_TYPE"],
        [{ maxMemoryPerChild: 0 }, "ERR_OUT_OF_RANGE"],
        [{ maxMemoryPerChild: "1G" }, "ERR_INVALID_ARG_TYPE"],
        [{ resourceLimits: 64 }, "ERR_INVALID_ARG_TYPE"],
        [{ resourceLimits: { maxOldSpace: 64 } }, "ERR_INVALID_ARG_VALUE"],
        [{ resourceLimits: { maxOldGenerationSizeMb: -1 } }, "ERR_OUT_OF_RANGE"],
        [{ concurrentTasksPerWorker: 0 }, "ERR_OUT_OF_RANGE"],
        [{ concurrentTasksPerWorker: 2.5 }, "ERR_INVALID_ARG_TYPE"],
        [{ maxQueue: -1 }, "ERR_OUT_OF_RANGE"],
        [{ finalizer: 3 }, "ERR_INVALID_ARG_TYPE"],
        [{ finalargs: 3 }, "ERR_INVALID_ARG_TYPE"],
      ];
      for (const [options, code] of bad) {
        assert.throws(() => new ctx.Pool(options), { code }, JSON.stringify(options));
      }
    });
  });
}

describe("resourceLimits are the worker's own, never the parent's", () => {
  test("a parent run with --max-old-space-size=96 gives its workers the limit they ask for, in both contexts", async () => {
    const r = await runNode(fixture("pool-heap-limits.js"), { nodeArgs: ["--max-old-space-size=96"], timeout: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const seen = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { parent: number; process: number; thread: number };
    assert.ok(seen.parent < 200, `parent ${seen.parent}`);
    for (const k of ["process", "thread"] as const) assert.ok(seen[k] >= 300, `${k} worker ${seen[k]}`);
  });
});
