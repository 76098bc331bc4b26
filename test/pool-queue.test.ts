// Async tasks interleaved in one worker (concurrentTasksPerWorker) and a bounded queue (maxQueue:
// a call beyond it rejects with Full, and the pool goes on). Issue 16; both start methods.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Full, getContext } from "multiproc";
import { CONTEXTS } from "./helpers.js";
import { board, range, release, setWord, untilWord } from "./pool-feature-helpers.js";
import { blockUntilGo, rendezvous, sleepFor, who } from "./fixtures/pool-features.js";

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);

  describe(`Pool concurrentTasksPerWorker (${kind})`, () => {
    test("five async tasks run at once on one worker with concurrency 5, each with its own currentTask()", async () => {
      const shm = board();
      try {
        await using pool = new ctx.Pool({ processes: 1, concurrentTasksPerWorker: 5 });
        const ids = await Promise.all(range(5).map(() => pool.apply(rendezvous, [shm, 5])));
        assert.equal(new Set(ids).size, 5, `ids ${ids.join()}`);
        assert.ok(ids.every((id) => id > 0));
        // The worker still runs ordinary work, and maps of async items.
        assert.deepEqual(await pool.map(sleepFor, [5, 1, 3, 2], { chunksize: 1 }), [5, 1, 3, 2]);
        assert.equal(pool.stats().workers.length, 1);
      } finally {
        release(shm);
      }
    });
  });

  describe(`Pool maxQueue (${kind})`, () => {
    test("with every worker busy, calls beyond maxQueue reject with Full; once work ends calls are taken again", async () => {
      const shm = board();
      try {
        await using pool = new ctx.Pool({ processes: 1, maxQueue: 2 });
        await pool.apply(who);
        const running = pool.apply(blockUntilGo, [shm]);
        await untilWord(shm, 0, 1);
        const queued = [pool.apply(who), pool.apply(who)];
        await assert.rejects(pool.apply(who), (err: unknown) => err instanceof Full && err.code === "ERR_QUEUE_FULL");
        await assert.rejects(pool.map(who, range(10), { chunksize: 1 }), Full);
        setWord(shm, 2, 1);
        await running;
        await Promise.all(queued);
        assert.equal((await pool.map(who, range(2), { chunksize: 1 })).length, 2);
      } finally {
        release(shm);
      }
    });
  });
}
