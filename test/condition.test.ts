// Condition: CPython's notify / notifyAll / waitFor behaviours across processes and threads,
// timeouts, the lock rules, and a waiter that dies.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Condition, ErrorCodes, getContext, Lock, RawValue, RLock } from "multiproc";
import { kReduce, type Reducible } from "#internal/transport/handles.js";
import { conditionStepper, conditionWaiter, conditionWaitFor } from "./fixtures/sync.js";
import { joinAll, MIXES, startAll } from "./sync-helpers.js";

/** Resolves once `count` waiters have counted themselves in and released the lock to wait. */
async function waitersAsleep(cond: Condition, waiting: RawValue<"i">, count: number): Promise<void> {
  // A waiter counts itself holding the lock and releases it only by sleeping in wait(): once we
  // get the lock after the count is reached, every counted waiter is asleep.
  for (;;) {
    await cond.acquire();
    const n = waiting.value;
    cond.release();
    if (n >= count) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** How many waiters sleep in the condition's slot table, not yet notified (state 1). */
function asleep(cond: Condition): number {
  // The condition's words sit in an arena block: 8 bytes of block header, then the words.
  const { state } = (cond as unknown as Reducible)[kReduce]("thread") as { state: { block: { block: { arena: { buffer: SharedArrayBuffer }; at: number } } } };
  const words = new Int32Array(state.block.block.arena.buffer, state.block.block.at + 8);
  let n = 0;
  for (let i = 0; i < 1022; i++) if (Atomics.load(words, 4 + 4 * i) === 1) n++;
  return n;
}

describe("Condition in one thread", () => {
  test("wait with a timeout gives false after >= ~100 ms and keeps the lock", async () => {
    using cond = new Condition();
    await cond.acquire();
    const started = performance.now();
    assert.equal(await cond.wait({ timeout: 100 }), false);
    assert.ok(performance.now() - started >= 95);
    assert.equal(cond.lock.isMine(), true);
    assert.equal(cond.waitSync({ timeout: 10 }), false);
    assert.equal(await cond.waitFor(() => 0, { timeout: 30 }), 0);
    assert.equal(cond.waitForSync(() => "yes"), "yes");
    cond.release();
  });

  test("wait, notify and notifyAll need the lock (ERR_NOT_HELD); bad input", async () => {
    using cond = new Condition(new Lock());
    await assert.rejects(cond.wait(), { code: ErrorCodes.NOT_HELD });
    assert.throws(() => cond.notify(), { code: ErrorCodes.NOT_HELD });
    assert.throws(() => cond.notifyAll(), { code: ErrorCodes.NOT_HELD });
    assert.throws(() => cond.waitSync(), { code: ErrorCodes.NOT_HELD });
    assert.throws(() => new Condition({} as Lock), { code: ErrorCodes.INVALID_ARG_TYPE });
    await cond.acquire();
    assert.throws(() => cond.notify(-1), { code: ErrorCodes.OUT_OF_RANGE });
    await assert.rejects(cond.waitFor("x" as unknown as () => boolean), { code: ErrorCodes.INVALID_ARG_TYPE });
    cond.release();
    cond.lock.close();
  });

  test("an RLock held twice is released fully while waiting and restored after", async () => {
    using lock = new RLock();
    using cond = new Condition(lock);
    await lock.acquire();
    await lock.acquire();
    // wait() releases both levels before its first await, so another task can take the lock.
    const waiting = cond.wait({ timeout: 60_000 });
    assert.equal(lock.isMine(), false);
    await cond.acquire();
    cond.notify();
    cond.release();
    assert.equal(await waiting, true);
    lock.release();
    assert.equal(lock.isMine(), true);
    lock.release();
    assert.equal(lock.isMine(), false);
  });

  test("an aborted wait takes the lock back, then rejects", async () => {
    using cond = new Condition();
    await cond.acquire();
    const controller = new AbortController();
    const pending = cond.wait({ signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, { code: ErrorCodes.ABORTED });
    assert.equal(cond.lock.isMine(), true);
    cond.release();
  });
});

for (const mix of MIXES) {
  describe(`Condition (${mix.name})`, () => {
    test("notify wakes exactly one waiter at a time, notifyAll the rest", async () => {
      using cond = new Condition();
      using waiting = new RawValue("i", 0);
      using woken = new RawValue("i", 0);
      const ps = [
        ...startAll(mix.kinds, conditionWaiter, [cond, waiting, woken, false]),
        ...startAll(mix.kinds, conditionWaiter, [cond, waiting, woken, true]),
      ];
      await waitersAsleep(cond, waiting, 4);
      assert.equal(woken.value, 0);
      assert.equal(asleep(cond), 4);
      await cond.acquire();
      cond.notify();
      assert.equal(asleep(cond), 3);
      cond.release();
      while (woken.value < 1) await new Promise((r) => setTimeout(r, 5));
      await cond.acquire();
      cond.notify(2);
      assert.equal(asleep(cond), 1);
      cond.release();
      while (woken.value < 3) await new Promise((r) => setTimeout(r, 5));
      await cond.acquire();
      assert.equal(woken.value, 3);
      assert.equal(asleep(cond), 1);
      cond.notifyAll();
      assert.equal(asleep(cond), 0);
      cond.release();
      await joinAll(ps);
      assert.equal(woken.value, 4);
      assert.deepEqual(ps.map((p) => p.exitCode), [0, 0, 0, 0]);
    });

    test("waitFor in children sees the parent's and a child's updates", async () => {
      using cond = new Condition();
      using state = new RawValue("i", 0);
      using doneA = new RawValue("i", 0);
      using doneB = new RawValue("i", 0);
      const ps = [
        ...startAll([mix.kinds[0]], conditionWaitFor, [cond, state, 10, doneA]),
        ...startAll([mix.kinds[1]], conditionWaitFor, [cond, state, 20, doneB]),
      ];
      await conditionStepper(cond, state, 10);
      const stepper = startAll([mix.kinds[1]], conditionStepper, [cond, state, 10]);
      await joinAll([...ps, ...stepper]);
      assert.deepEqual([doneA.value, doneB.value], [1, 1]);
      assert.equal(state.value, 20);
    });
  });
}

test("Condition: a waiter whose process died is skipped by notify", async () => {
  using cond = new Condition();
  using waiting = new RawValue("i", 0);
  using woken = new RawValue("i", 0);
  const ctx = getContext("process");
  const doomed = new ctx.Process({ target: conditionWaiter, args: [cond, waiting, woken, false] });
  doomed.start();
  await waitersAsleep(cond, waiting, 1);
  doomed.kill();
  await doomed.join();
  const survivor = new ctx.Process({ target: conditionWaiter, args: [cond, waiting, woken, true] });
  survivor.start();
  await waitersAsleep(cond, waiting, 2);
  await cond.acquire();
  cond.notify(); // the dead waiter is older; the notification must reach the live one
  cond.release();
  await survivor.join();
  assert.equal(woken.value, 1);
});
