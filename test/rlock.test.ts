// RLock: recursion by its owner (process, thread), exclusion of everyone else, Python's release
// rules, and a holding process that dies.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCodes, Event, getContext, RawValue, RLock } from "multiproc";
import { holdForever, holdUntil, lockedIncrements, lockedIncrementsAsync, rlockNested, tryRelease } from "./fixtures/sync.js";
import { CONTEXTS } from "./helpers.js";
import { joinAll, MIXES, startAll } from "./sync-helpers.js";

for (const mix of MIXES) {
  describe(`RLock (${mix.name})`, () => {
    test("2 children x 20,000 locked increments, plus the parent's, are exact", async () => {
      using lock = new RLock();
      using counter = new RawValue("i", 0);
      const ps = startAll(mix.kinds, lockedIncrements, [lock, counter, 20_000]);
      await lockedIncrementsAsync(lock, counter, 2_000);
      await joinAll(ps);
      assert.equal(counter.value, 42_000);
    });

    test("the owner re-enters; another process or thread cannot release it", async () => {
      using lock = new RLock();
      using result = new RawValue("i", 0);
      const [p] = startAll([mix.kinds[0]], rlockNested, [lock, result]);
      await p!.join();
      assert.equal(result.value, 1);
      await lock.acquire();
      await lock.acquire();
      const [q] = startAll([mix.kinds[1]], tryRelease, [lock, result]);
      await q!.join();
      assert.equal(result.value, 2, "a foreign release must throw ERR_NOT_HELD");
      lock.release();
      assert.equal(lock.isMine(), true);
      lock.release();
      assert.equal(lock.isMine(), false);
      assert.throws(() => lock.release(), { code: ErrorCodes.NOT_HELD });
    });

    test("a child's hold excludes the parent until it lets go", async () => {
      using lock = new RLock();
      using held = new Event();
      using go = new Event();
      const [p] = startAll([mix.kinds[1]], holdUntil, [lock, held, go]);
      assert.equal(await held.wait({ timeout: 30_000 }), true);
      assert.equal(await lock.acquire({ timeout: 50 }), false);
      assert.equal(lock.acquireSync({ block: false }), false);
      go.set();
      assert.equal(await lock.acquire({ timeout: 30_000 }), true);
      lock.release();
      await p!.join();
    });
  });
}

describe("RLock in one thread", () => {
  test("counts its levels and releases at the end of each guard", async () => {
    using lock = new RLock();
    {
      await using _a = await lock.hold();
      {
        using _b = lock.holdSync();
        assert.equal(lock.toString(), "<RLock owned by this thread, count=2>");
      }
      assert.equal(lock.isMine(), true);
    }
    assert.equal(lock.isMine(), false);
    assert.equal(lock.toString(), "<RLock unlocked>");
  });

  for (const kind of CONTEXTS) {
    test(`${kind}: a holder that dies (a killed process, a terminated thread) is taken over`, async () => {
      using lock = new RLock();
      using held = new Event();
      const p = new (getContext(kind).Process)({ target: holdForever, args: [lock, held] });
      p.start();
      assert.equal(await held.wait({ timeout: 30_000 }), true);
      p.kill();
      await p.join();
      assert.equal(await lock.acquire({ timeout: 30_000 }), true);
      assert.equal(lock.ownerDied, true);
      assert.equal(await lock.acquire(), true); // one more level, then both released
      lock.release();
      lock.release();
      assert.equal(lock.isMine(), false);
    });
  }
});
