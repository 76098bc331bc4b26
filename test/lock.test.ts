// Lock across processes and threads: exact mutual exclusion, timeouts, guards, Python's release
// rules, bad input, and a holder that dies (SIGKILLed 100 times at random: lock-kill.test.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCodes, Event, getContext, Lock, OwnerDiedError, RawValue } from "multiproc";
import { holdForever, holdUntil, lockedIncrements, lockedIncrementsAsync, tryRelease } from "./fixtures/sync.js";
import { CONTEXTS } from "./helpers.js";
import { joinAll, MIXES, startAll } from "./sync-helpers.js";

for (const mix of MIXES) {
  describe(`Lock (${mix.name})`, () => {
    test("2 children x 20,000 locked increments, plus the parent's async ones, are exact", async () => {
      using lock = new Lock();
      using counter = new RawValue("i", 0);
      const ps = startAll(mix.kinds, lockedIncrements, [lock, counter, 20_000]);
      await lockedIncrementsAsync(lock, counter, 2_000);
      await joinAll(ps);
      assert.deepEqual(ps.map((p) => p.exitCode), [0, 0]);
      assert.equal(counter.value, 42_000);
      assert.equal(await lock.acquire({ block: false }), true);
      lock.release();
    });

    test("a timed acquire fails while a child holds it, then succeeds once it lets go", async () => {
      using lock = new Lock();
      using held = new Event();
      using go = new Event();
      const [p] = startAll([mix.kinds[1]], holdUntil, [lock, held, go]);
      assert.equal(await held.wait({ timeout: 30_000 }), true);
      assert.equal(await lock.acquire({ block: false }), false);
      assert.equal(lock.acquireSync({ block: false }), false);
      const started = performance.now();
      assert.equal(await lock.acquire({ timeout: 100 }), false);
      assert.ok(performance.now() - started >= 95);
      await assert.rejects(lock.hold({ timeout: 20 }), { code: ErrorCodes.TIMEOUT });
      go.set();
      assert.equal(await lock.acquire({ timeout: 30_000 }), true);
      assert.equal(lock.ownerDied, false);
      lock.release();
      await p!.join();
      assert.equal(p!.exitCode, 0);
    });

    test("any process or thread may release a Lock; releasing a free one throws ERR_NOT_HELD", async () => {
      using lock = new Lock();
      using result = new RawValue("i", 0);
      await lock.acquire();
      const [p] = startAll([mix.kinds[0]], tryRelease, [lock, result]);
      await p!.join();
      assert.equal(result.value, 1);
      assert.equal(await lock.acquire({ block: false }), true);
      lock.release();
      const [q] = startAll([mix.kinds[1]], tryRelease, [lock, result]);
      await q!.join();
      assert.equal(result.value, 2);
      assert.throws(() => lock.release(), { code: ErrorCodes.NOT_HELD });
    });
  });
}

describe("Lock in one thread", () => {
  test("guards release at the end of the scope, sync and async", async () => {
    using lock = new Lock();
    {
      await using g = await lock.hold();
      assert.equal(g.ownerDied, false);
      assert.equal(lock.isMine(), true);
      assert.equal(await lock.acquire({ block: false }), false);
    }
    assert.equal(lock.isMine(), false);
    {
      using _ = lock.holdSync();
      assert.equal(lock.acquireSync({ block: false }), false);
    }
    const g = lock.holdSync({ timeout: 10 });
    g.release();
    g.release(); // a guard releases once
    assert.equal(lock.acquireSync({ timeout: 0 }), true);
    lock.release();
  });

  test("an aborted acquire rejects with AbortError and leaves the lock to others", async () => {
    using lock = new Lock();
    await lock.acquire();
    const controller = new AbortController();
    const pending = lock.acquire({ signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, { code: ErrorCodes.ABORTED });
    await assert.rejects(lock.acquire({ signal: AbortSignal.abort() }), { code: ErrorCodes.ABORTED });
    lock.release();
    assert.equal(await lock.acquire({ block: false }), true);
    lock.release();
  });

  test("bad input is refused at the call", async () => {
    using lock = new Lock();
    assert.equal(await lock.acquire({ timeout: -1 }), true, "a negative timeout is 0, as in CPython");
    lock.release();
    await assert.rejects(lock.acquire({ timeout: "1" as unknown as number }), { code: ErrorCodes.INVALID_ARG_TYPE });
    await assert.rejects(lock.acquire({ block: false, timeout: 5 }), { code: ErrorCodes.INVALID_ARG_VALUE });
    await assert.rejects(lock.acquire({ block: 1 as unknown as boolean }), { code: ErrorCodes.INVALID_ARG_TYPE });
    await assert.rejects(lock.acquire("now" as never), { code: ErrorCodes.INVALID_ARG_TYPE });
    await assert.rejects(lock.acquire({ signal: {} as AbortSignal }), { code: ErrorCodes.INVALID_ARG_TYPE });
    assert.throws(() => lock.acquireSync({ timeout: NaN }), { code: ErrorCodes.INVALID_ARG_TYPE });
    assert.equal(lock.isMine(), false);
  });

  test("use after close throws, never hangs", async () => {
    const lock = new Lock();
    lock.close();
    await assert.rejects(lock.acquire(), { code: ErrorCodes.CLOSED });
    assert.throws(() => lock.release(), { code: ErrorCodes.CLOSED });
    lock.close();
  });
});

describe("Lock whose holder dies", () => {
  // A thread child is stopped with terminate(): the lock word holds its kernel thread id.
  for (const kind of CONTEXTS) {
    test(`${kind}: the next acquirer gets it and is told, by the flag or by OwnerDiedError`, async () => {
      for (const strict of [false, true]) {
        using lock = new Lock();
        using held = new Event();
        const p = new (getContext(kind).Process)({ target: holdForever, args: [lock, held] });
        p.start();
        assert.equal(await held.wait({ timeout: 30_000 }), true);
        p.kill();
        await p.join();
        if (strict) {
          await assert.rejects(lock.acquire({ timeout: 30_000, throwIfOwnerDied: true }), (err: unknown) => err instanceof OwnerDiedError);
          assert.equal(lock.isMine(), true);
        } else {
          const g = await lock.hold({ timeout: 30_000 });
          assert.equal(g.ownerDied, true);
          assert.equal(lock.ownerDied, true);
          g.release();
          assert.equal(await lock.acquire(), true);
          assert.equal(lock.ownerDied, false);
        }
        lock.release();
      }
    });

    test(`${kind}: a non-blocking acquire takes over from a dead holder too`, async () => {
      using lock = new Lock();
      using held = new Event();
      const p = new (getContext(kind).Process)({ target: holdForever, args: [lock, held] });
      p.start();
      assert.equal(await held.wait({ timeout: 30_000 }), true);
      assert.equal(lock.acquireSync({ block: false }), false);
      p.kill();
      await p.join();
      assert.equal(lock.acquireSync({ block: false }), true);
      assert.equal(lock.ownerDied, true);
      lock.release();
    });
  }
});
