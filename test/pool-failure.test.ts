// A Pool never hangs: workers that die (SIGKILL, exit) fail exactly the task they were running,
// tasks they held but had not begun run elsewhere, dead workers are replaced, and workers that
// cannot start make the pool give up after a few tries instead of respawning in a storm.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getContext, SharedMemory, WorkerLostError } from "multiproc";
import { waiter } from "#internal/native/wait.js";
import { CONTEXTS } from "./helpers.js";
import { die, dieAt, dieAt57, double, initFail, initWaitForGo, sqr } from "./fixtures/pool-targets.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);

  describe(`Pool failures (${kind})`, () => {
    test("a killed worker rejects exactly its task; the tasks it held run elsewhere; the pool serves the next", async () => {
      await using pool = new ctx.Pool(2);
      // Warm up, so that workers hold many quick tasks each.
      await pool.map(double, range(1000), { chunksize: 1 });
      const before = range(40).map((x) => pool.applyAsync(double, [x]));
      const dying = pool.applyAsync(die);
      const after = range(40).map((x) => pool.applyAsync(double, [x]));
      await assert.rejects(dying.get(), (err: unknown) => err instanceof WorkerLostError && err.code === "ERR_WORKER_LOST");
      assert.deepEqual(await Promise.all([...before, ...after].map((r) => r.get())), [...range(40), ...range(40)].map((x) => 2 * x));
      assert.equal(await pool.apply(sqr, [5]), 25);
      assert.equal(pool.stats().workers.length, 2);
    });

    test("imap over 200 items where a worker dies loses only that chunk's items; map never hangs", async () => {
      await using pool = new ctx.Pool(2);
      const got: number[] = [];
      await assert.rejects(async () => {
        for await (const v of pool.imap(dieAt57, range(200), { chunksize: 10 })) got.push(v);
      }, { code: "ERR_WORKER_LOST" });
      assert.deepEqual(got, range(50));
      await assert.rejects(pool.map(dieAt57, range(200)), { code: "ERR_WORKER_LOST" });
      await assert.rejects(pool.starmap(dieAt, range(200).map((x) => [x, 57] as [number, number]), { chunksize: 10 }), { code: "ERR_WORKER_LOST" });
      assert.deepEqual(await pool.map(sqr, range(200)), range(200).map((x) => x * x));
    });

    test("a task that calls process.exit fails with WorkerLostError naming the exit code", async () => {
      await using pool = new ctx.Pool(1);
      await assert.rejects(pool.apply((code: number) => process.exit(code), [3]), (err: unknown) => err instanceof WorkerLostError && /code 3/.test(err.message));
      assert.equal(await pool.apply(sqr, [2]), 4);
    });

    test("workers that fail at start-up: the pool gives up after a few tries with the start-up error", async () => {
      using shm = new SharedMemory({ create: true, size: 8 });
      const pool = new ctx.Pool({ processes: 2, initializer: initFail, initargs: [shm] });
      await assert.rejects(pool.map(sqr, range(10)), (err: unknown) => {
        const e = err as Error & { code: string; cause: Error };
        return e.code === "ERR_WORKER_START" && e.cause.name === "RangeError" && e.cause.message === "initializer refuses";
      });
      await assert.rejects(pool.apply(sqr, [1]), { code: "ERR_WORKER_START" });
      await pool.join();
      const tries = Atomics.load(new Int32Array(shm.buffer), 0);
      assert.ok(tries >= 3 && tries <= 5, `the initializer ran ${tries} times`);
      shm.unlink();
    });
  });
}

// Process workers only: a thread worker has no pid of its own to SIGKILL.
test("workers SIGKILLed during start-up, 4 in a row, are replaced; the pool does not break (process)", async () => {
  using shm = new SharedMemory({ create: true, size: 16 });
  const w = new Int32Array(shm.buffer);
  await using pool = new (getContext("process").Pool)({ processes: 1, initializer: initWaitForGo, initargs: [shm] });
  const result = pool.map(sqr, range(10));
  result.catch(() => undefined);
  const deadline = Date.now() + 30_000;
  for (let k = 1; k <= 4; k++) {
    // The k-th worker is in its initializer (before it is ready): kill it there.
    for (let seen = Atomics.load(w, 0); seen < k && Date.now() < deadline; seen = Atomics.load(w, 0)) {
      await waiter().waitAsync(w, 0, seen, { timeout: 1000 });
    }
    assert.equal(Atomics.load(w, 0), k, `no worker ${k} started (the pool gave up?)`);
    process.kill(Atomics.load(w, 1), "SIGKILL");
  }
  Atomics.store(w, 2, 1);
  assert.deepEqual(await result, range(10).map((x) => x * x));
  shm.unlink();
});
