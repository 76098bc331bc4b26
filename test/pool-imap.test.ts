// imap, imapUnordered and lazy inputs under both start methods: order, laziness with a bound on
// items in flight, early exit, AbortSignal, errors in order.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { getContext, Pool, SharedMemory } from "multiproc";
import { CONTEXTS } from "./helpers.js";
import { countAndSleep, double, fail, sqr, tick } from "./fixtures/pool-targets.js";

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

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);

  describe(`Pool.imap (${kind})`, () => {
    let pool: Pool;
    before(() => {
      pool = new ctx.Pool(2);
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
