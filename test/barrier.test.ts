// Barrier: 5 parties in lockstep over 1,000 passes (exactly one 0 per pass, the action once per
// pass), under each context and a mix, sync and async; abort, reset, timeouts; a party that dies.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Barrier, BrokenBarrierError, ErrorCodes, Event, getContext, RawValue, SharedArray } from "multiproc";
import { barrierOnce, barrierPartyWithAction, barrierThenHang, countAction, useActionCounter } from "./fixtures/sync.js";
import { joinAll, MIXES, startAll } from "./sync-helpers.js";

const PASSES = 1_000;

for (const mix of MIXES) {
  describe(`Barrier (${mix.name})`, () => {
    test("5 parties in lockstep over 1,000 passes: one 0 per pass, the action once per pass", async () => {
      using runs = new RawValue("i", 0);
      using barrier = new Barrier(5, { action: countAction });
      using zeros = new SharedArray("i", PASSES);
      using arrivals = new SharedArray("i", PASSES);
      using errors = new RawValue("i", 0);
      // Four children (two sync, two async waits), and the parent as the fifth party.
      const ps = [
        ...startAll(mix.kinds, barrierPartyWithAction, [runs, barrier, PASSES, zeros, arrivals, errors, true]),
        ...startAll(mix.kinds, barrierPartyWithAction, [runs, barrier, PASSES, zeros, arrivals, errors, false]),
      ];
      await barrierPartyWithAction(runs, barrier, PASSES, zeros, arrivals, errors, false);
      await joinAll(ps);
      assert.deepEqual(ps.map((p) => p.exitCode), [0, 0, 0, 0]);
      assert.equal(errors.value, 0);
      assert.equal(runs.value, PASSES);
      assert.ok(zeros.slice().every((z) => z === 1), "a pass without exactly one index 0");
      assert.equal(barrier.nWaiting, 0);
      assert.equal(barrier.broken, false);
    });

    test("abort breaks waiting children; reset makes it usable again", async () => {
      using barrier = new Barrier(3);
      using a = new RawValue("i", 0);
      using b = new RawValue("i", 0);
      const ps = [...startAll([mix.kinds[0]], barrierOnce, [barrier, a]), ...startAll([mix.kinds[1]], barrierOnce, [barrier, b])];
      while (barrier.nWaiting < 2) await new Promise((r) => setTimeout(r, 5));
      barrier.abort();
      await joinAll(ps);
      assert.deepEqual([a.value, b.value], [2, 2]);
      assert.equal(barrier.broken, true);
      await assert.rejects(barrier.wait(), BrokenBarrierError);
      barrier.reset();
      assert.equal(barrier.broken, false);
      const qs = [...startAll([mix.kinds[0]], barrierOnce, [barrier, a]), ...startAll([mix.kinds[1]], barrierOnce, [barrier, b])];
      const index = await barrier.wait({ timeout: 60_000 });
      await joinAll(qs);
      assert.ok(index >= 0 && index < 3);
      assert.deepEqual([a.value, b.value], [1, 1]);
    });

    test("reset while children wait gives them BrokenBarrierError", async () => {
      using barrier = new Barrier(3);
      using a = new RawValue("i", 0);
      const ps = startAll(mix.kinds, barrierOnce, [barrier, a]);
      while (barrier.nWaiting < 2) await new Promise((r) => setTimeout(r, 5));
      barrier.reset();
      await joinAll(ps);
      assert.equal(a.value, 2);
      assert.equal(barrier.broken, false);
      assert.equal(barrier.nWaiting, 0);
    });

    test("a child's timeout breaks the barrier for everyone", async () => {
      using barrier = new Barrier(3);
      using a = new RawValue("i", 0);
      using b = new RawValue("i", 0);
      const [p] = startAll([mix.kinds[0]], barrierOnce, [barrier, a]);
      while (barrier.nWaiting < 1) await new Promise((r) => setTimeout(r, 5));
      const [q] = startAll([mix.kinds[1]], barrierOnce, [barrier, b, 100]);
      await joinAll([p!, q!]);
      assert.deepEqual([a.value, b.value], [2, 2]);
      assert.equal(barrier.broken, true);
    });
  });
}

describe("Barrier in one thread", () => {
  test("parties 1: every wait returns 0 at once and runs the action", async () => {
    using runs = new RawValue("i", 0);
    useActionCounter(runs);
    using barrier = new Barrier(1, { action: countAction });
    assert.equal(await barrier.wait(), 0);
    assert.equal(barrier.waitSync(), 0);
    assert.equal(runs.value, 2);
    assert.equal(barrier.parties, 1);
  });

  test("a timed wait breaks the barrier after >= ~100 ms; the constructor's timeout is the default", async () => {
    using barrier = new Barrier(2, { timeout: 100 });
    const started = performance.now();
    await assert.rejects(barrier.wait(), { code: ErrorCodes.BROKEN_BARRIER });
    assert.ok(performance.now() - started >= 95);
    assert.equal(barrier.broken, true);
    assert.throws(() => barrier.waitSync(), { code: ErrorCodes.BROKEN_BARRIER });
    barrier.reset();
    assert.throws(() => barrier.waitSync({ timeout: 10 }), { code: ErrorCodes.BROKEN_BARRIER });
  });

  test("an action that throws breaks the barrier; its error goes to the party that ran it", async () => {
    using barrier = new Barrier(2, {
      action: () => {
        throw new Error("action failed");
      },
    });
    const results = await Promise.allSettled([barrier.wait(), barrier.wait()]);
    const reasons = results.map((r) => (r.status === "rejected" ? (r.reason as Error) : undefined));
    assert.equal(reasons.filter((e) => e?.message === "action failed").length, 1);
    assert.equal(reasons.filter((e) => e instanceof BrokenBarrierError).length, 1);
    assert.equal(barrier.broken, true);
  });

  test("an aborted wait breaks the barrier", async () => {
    using barrier = new Barrier(2);
    const controller = new AbortController();
    const pending = barrier.wait({ signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, { code: ErrorCodes.ABORTED });
    assert.equal(barrier.broken, true);
  });

  test("bad input", () => {
    assert.throws(() => new Barrier(0), { code: ErrorCodes.OUT_OF_RANGE });
    assert.throws(() => new Barrier(2.5), { code: ErrorCodes.INVALID_ARG_TYPE });
    assert.throws(() => new Barrier(2, { action: 3 as unknown as () => void }), { code: ErrorCodes.INVALID_ARG_TYPE });
    assert.throws(() => new Barrier(2, { timeout: "1" as unknown as number }), { code: ErrorCodes.INVALID_ARG_TYPE });
  });
});

test("Barrier: a party killed while waiting breaks it instead of hanging the others", async () => {
  using barrier = new Barrier(3);
  using arrived = new Event();
  const p = new (getContext("process").Process)({ target: barrierThenHang, args: [barrier, arrived] });
  p.start();
  assert.equal(await arrived.wait({ timeout: 30_000 }), true);
  while (barrier.nWaiting < 1) await new Promise((r) => setTimeout(r, 5));
  // Handle the rejection from the start: under load it can come before join() returns.
  const pending = assert.rejects(barrier.wait(), BrokenBarrierError);
  p.kill();
  await p.join();
  await pending;
  barrier.reset();
  assert.equal(barrier.nWaiting, 0);
  assert.equal(barrier.broken, false);
});
