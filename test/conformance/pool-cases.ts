// The Pool conformance cases, shared by every pool: the local Pool under each start method
// (pool.test.ts, pool-imap.test.ts) and the ClusterPool on worker nodes (cluster-pool.test.ts).
// CPython's test-suite behaviours for apply, map, starmap, imap, AsyncResult, task errors,
// timeouts, AbortSignal, lazy inputs, and bad input refused at the call.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AsyncResult, fromModule, RemoteError, SharedMemory, type ClusterPool, type Pool } from "multiproc";
import { add, countAndSleep, double, fail, returnFunction, slowSqr, sqr, throwString, tick } from "../fixtures/pool-targets.js";

export type AnyPool = Pool | ClusterPool;
/** Makes a pool with `processes` workers (for a cluster: the parallelism it plans for). */
export type MakePool = (processes: number) => AnyPool;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

async function* slowly<T>(items: T[]): AsyncGenerator<T> {
  for (const x of items) {
    await new Promise((r) => setImmediate(r));
    yield x;
  }
}

function counter(): SharedMemory {
  return new SharedMemory({ create: true, size: 8 });
}

const runs = (shm: SharedMemory) => Atomics.load(new Int32Array(shm.buffer), 0);

/** apply, map, starmap, AsyncResult, errors and bad input, on one pool of 2. */
export function callCases(label: string, make: MakePool): void {
  describe(label, () => {
    let pool: AnyPool;
    before(() => {
      pool = make(2);
    });
    after(async () => {
      await pool.terminate();
    });

    test("apply(sqr, [5]) is 25", async () => {
      assert.equal(await pool.apply(sqr, [5]), 25);
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
      for (const s of r.stats) assert.ok(s.busyMs >= 0 && /PoolWorker-\d+$/.test(s.name), s.name);
      const stats = pool.stats();
      assert.ok((Array.isArray(stats) ? stats : stats.workers).length >= 1);
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
      const missing = fromModule<{ nope: (x: number) => number }>(new URL("../fixtures/pool-targets.js", import.meta.url));
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
}

/** close, join, terminate and `await using`, each on a fresh pool. */
export function lifetimeCases(label: string, make: MakePool): void {
  describe(label, () => {
    test("close() refuses new work at once; join() waits for the queued work and the workers", async () => {
      const pool = make(2);
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
      const pool = make(2);
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
      let escaped: AnyPool;
      {
        await using pool = make(1);
        escaped = pool;
        assert.equal(await pool.apply(sqr, [3]), 9);
      }
      await assert.rejects(escaped.apply(sqr, [1]), { code: "ERR_POOL_TERMINATED" });
    });
  });
}

/** imap, imapUnordered and lazy inputs: order, a bound on items in flight, early exit, AbortSignal, errors in order. */
export function imapCases(label: string, make: MakePool): void {
  describe(label, () => {
    let pool: AnyPool;
    before(() => {
      pool = make(2);
    });
    after(async () => {
      await pool.terminate();
    });

    test("imap over 1,000 items (chunksize 100) keeps order; imapUnordered gives the same set", async () => {
      const xs = range(1000);
      assert.deepEqual(await collect(pool.imap(double, xs, { chunksize: 100 })), xs.map((x) => 2 * x));
      assert.deepEqual(await collect(pool.imap(sqr, range(20))), range(20).map((x) => x * x));
      const unordered = await collect(pool.imapUnordered(double, xs, { chunksize: 100 }));
      assert.deepEqual(unordered.sort((a, b) => a - b), xs.map((x) => 2 * x));
      assert.deepEqual(await collect(pool.imap(sqr, [])), []);
      assert.deepEqual(await collect(pool.imapUnordered(sqr, [])), []);
    });

    test("sync generators and async iterables are read lazily; map takes them too", async () => {
      function* gen() {
        for (let i = 0; i < 50; i++) yield i;
      }
      assert.deepEqual(await collect(pool.imap(sqr, gen(), { chunksize: 7 })), range(50).map((x) => x * x));
      assert.deepEqual(await collect(pool.imap(sqr, slowly(range(30)), { chunksize: 4 })), range(30).map((x) => x * x));
      assert.deepEqual(await pool.map(sqr, slowly(range(30))), range(30).map((x) => x * x));
      assert.deepEqual(await pool.map(sqr, slowly([])), []);
      assert.deepEqual(await pool.map(sqr, slowly(range(30)), { chunksize: 8 }), range(30).map((x) => x * x));
    });

    test("an endless input: a bound on items in flight, and break stops reading it", async () => {
      let pulled = 0;
      let onFinished = () => undefined as void;
      const finished = new Promise<void>((resolve) => (onFinished = resolve));
      async function* endless() {
        try {
          for (let i = 0; ; i++) {
            pulled++;
            yield await Promise.resolve(i);
          }
        } finally {
          onFinished();
        }
      }
      const it = pool.imap(double, endless());
      assert.deepEqual(await it.next(), { done: false, value: 0 });
      // The consumer stalls: several round trips later the input is still read only so far ahead.
      for (let i = 0; i < 5; i++) await pool.apply(sqr, [i]);
      const stalled = pulled;
      assert.ok(stalled < 2 * 2 * 256 + 64 + 10, `read ${stalled} items ahead of a stalled consumer`);
      let seen = 1;
      for await (const v of it) {
        assert.equal(v, 2 * seen++);
        if (seen === 2000) break;
      }
      await finished; // the input's return() ran: its finally block says so
      assert.ok(pulled < 2000 + 2 * 2 * 256 + 64 + 10);
    });

    test("break out of imap skips the work not yet begun", async () => {
      using shm = counter();
      for await (const v of pool.imap(tick, Array.from({ length: 100 }, () => shm), { chunksize: 1 })) {
        assert.equal(typeof v, "number");
        break;
      }
      // Let the workers answer what they held: skipped tasks come back at once.
      for (let i = 0; i < 3; i++) await pool.apply(sqr, [i]);
      assert.ok(runs(shm) < 20, `${runs(shm)} of 100 tasks ran`);
      shm.unlink();
    });

    test("an AbortSignal stops a long map and an imap; the pool serves the next task", async () => {
      using shm = counter();
      const controller = new AbortController();
      const args = range(200).map(() => [shm, 20] as [SharedMemory, number]);
      const started = pool.starmap(countAndSleep, args, {
        chunksize: 1,
        signal: controller.signal,
        progress: (done) => {
          if (done === 5) controller.abort(new Error("enough"));
        },
      });
      await assert.rejects(started, { name: "AbortError", code: "ERR_ABORTED" });
      assert.equal(await pool.apply(sqr, [9]), 81);
      assert.ok(runs(shm) < 50, `${runs(shm)} of 200 tasks ran`);
      await assert.rejects(pool.map(sqr, [1], { signal: AbortSignal.abort() }), { code: "ERR_ABORTED" });
      await assert.rejects(pool.apply(sqr, [1], { signal: AbortSignal.abort() }), { code: "ERR_ABORTED" });

      const c2 = new AbortController();
      const it = pool.imap(tick, Array.from({ length: 200 }, () => shm), { signal: c2.signal });
      await it.next();
      c2.abort();
      await assert.rejects(it.next(), { code: "ERR_ABORTED" });
      assert.deepEqual(await it.next(), { done: true, value: undefined });
      shm.unlink();
    });

    test("an error in imap comes at its place in the order and ends the iteration", async () => {
      const words = ["a", "b", "c", "d", "e", "f"];
      const upper = (s: string) => {
        if (s === "d") throw new RangeError("no d");
        return s.toUpperCase();
      };
      const got: string[] = [];
      await assert.rejects(async () => {
        for await (const v of pool.imap(upper, words)) got.push(v);
      }, { name: "RangeError", message: "no d" });
      assert.deepEqual(got, ["A", "B", "C"]);
      await assert.rejects(collect(pool.imapUnordered(fail, ["x"])), { code: "E_TASK" });
      assert.deepEqual(await collect(pool.imap(sqr, [3], { progress: true })), [9]);
    });
  });
}
