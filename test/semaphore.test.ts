// Semaphore and BoundedSemaphore: CPython's counting and timeout behaviours, across processes and
// threads, with the bounded rule and bad input.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BoundedSemaphore, ErrorCodes, Event, RawValue, Semaphore } from "multiproc";
import { semaphoreWorker, takeUnitsSync, tryRelease } from "./fixtures/sync.js";
import { joinAll, MIXES, startAll } from "./sync-helpers.js";

describe("Semaphore in one thread", () => {
  test("Semaphore(2) counts like CPython's", async () => {
    using sem = new Semaphore(2);
    assert.equal(sem.getValue(), 2);
    assert.equal(await sem.acquire(), true);
    assert.equal(sem.getValue(), 1);
    assert.equal(sem.acquireSync(), true);
    assert.equal(sem.getValue(), 0);
    assert.equal(await sem.acquire({ block: false }), false);
    assert.equal(sem.acquireSync({ block: false }), false);
    sem.release();
    assert.equal(sem.getValue(), 1);
    sem.release();
    assert.equal(sem.getValue(), 2);
    sem.release(); // a plain Semaphore may go above its start value
    assert.equal(sem.getValue(), 3);
  });

  test("timeouts: false after >= ~100 ms, and a release wakes a waiter", async () => {
    using sem = new Semaphore(0);
    let started = performance.now();
    assert.equal(await sem.acquire({ timeout: 100 }), false);
    assert.ok(performance.now() - started >= 95);
    started = performance.now();
    assert.equal(sem.acquireSync({ timeout: 100 }), false);
    assert.ok(performance.now() - started >= 95);
    const pending = sem.acquire({ timeout: 60_000 });
    setImmediate(() => sem.release());
    assert.equal(await pending, true);
    assert.equal(sem.getValue(), 0);
  });

  test("an aborted waiter passes its wake-up on", async () => {
    using sem = new Semaphore(0);
    const controller = new AbortController();
    const aborted = sem.acquire({ signal: controller.signal });
    const other = sem.acquire({ timeout: 60_000 });
    sem.release();
    controller.abort();
    const results = await Promise.allSettled([aborted, other]);
    const taken = results.filter((r) => r.status === "fulfilled" && r.value).length;
    assert.equal(taken, 1);
    assert.equal(sem.getValue(), 0);
  });

  test("BoundedSemaphore refuses to go above its start value", async () => {
    using sem = new BoundedSemaphore(2);
    assert.throws(() => sem.release(), { code: ErrorCodes.RELEASED_TOO_MANY });
    await sem.acquire();
    sem.release();
    assert.throws(() => sem.release(), { code: ErrorCodes.RELEASED_TOO_MANY });
    assert.equal(sem.getValue(), 2);
    {
      using _ = sem.holdSync();
      assert.equal(sem.getValue(), 1);
    }
    assert.equal(sem.getValue(), 2);
    assert.equal(sem.toString(), "<BoundedSemaphore value=2 maxvalue=2>");
  });

  test("bad input is refused at the call", async () => {
    assert.throws(() => new Semaphore(-1), { code: ErrorCodes.OUT_OF_RANGE });
    assert.throws(() => new Semaphore(1.5), { code: ErrorCodes.INVALID_ARG_TYPE });
    assert.throws(() => new BoundedSemaphore("2" as unknown as number), { code: ErrorCodes.INVALID_ARG_TYPE });
    using sem = new Semaphore();
    assert.equal(await sem.acquire({ timeout: -5 }), true, "a negative timeout is 0, as in CPython");
    sem.release();
    await assert.rejects(sem.hold({ timeout: 0, signal: AbortSignal.abort() }), { code: ErrorCodes.ABORTED });
    assert.equal(sem.getValue(), 1);
  });
});

for (const mix of MIXES) {
  describe(`Semaphore (${mix.name})`, () => {
    test("Semaphore(2) lets at most 2 in at once, and a child can hold both units", async () => {
      using sem = new Semaphore(2);
      using inside = new RawValue("i", 0);
      using max = new RawValue("i", 0);
      const ps = startAll([...mix.kinds, ...mix.kinds], semaphoreWorker, [sem, inside, max, 300]);
      await joinAll(ps);
      assert.deepEqual(ps.map((p) => p.exitCode), [0, 0, 0, 0]);
      assert.ok(max.value <= 2, `saw ${max.value} inside at once`);
      assert.equal(inside.value, 0);
      assert.equal(sem.getValue(), 2);
      // Two units are really there: a child takes both, the parent cannot take one until it gives them back.
      using held = new Event();
      using go = new Event();
      const [p] = startAll([mix.kinds[1]], takeUnitsSync, [sem, 2, held, go]);
      assert.equal(await held.wait({ timeout: 30_000 }), true);
      assert.equal(await sem.acquire({ timeout: 50 }), false);
      go.set();
      assert.equal(await sem.acquire({ timeout: 30_000 }), true);
      sem.release();
      await p!.join();
      assert.equal(sem.getValue(), 2);
    });

    test("a child's release above a BoundedSemaphore's start throws there", async () => {
      using sem = new BoundedSemaphore(1);
      using result = new RawValue("i", 0);
      const [p] = startAll([mix.kinds[0]], tryRelease, [sem, result]);
      await p!.join();
      assert.equal(result.value, 3); // ERR_RELEASED_TOO_MANY, not ERR_NOT_HELD
      assert.equal(sem.getValue(), 1);
    });
  });
}
