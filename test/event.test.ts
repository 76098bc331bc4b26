// Event: CPython's behaviours (wait 0 and 100 ms give false, a set wakes every waiter, wait
// returns at once while set), across processes and threads, sync and async waits.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCodes, Event, RawValue } from "multiproc";
import { setEvent, waitEvent, waitEventSync } from "./fixtures/sync.js";
import { joinAll, MIXES, startAll } from "./sync-helpers.js";

describe("Event in one thread", () => {
  test("wait 0 and 100 ms give false while unset; true at once while set", async () => {
    using ev = new Event();
    assert.equal(ev.isSet(), false);
    assert.equal(await ev.wait({ timeout: 0 }), false);
    assert.equal(ev.waitSync({ timeout: 0 }), false);
    let started = performance.now();
    assert.equal(await ev.wait({ timeout: 100 }), false);
    assert.ok(performance.now() - started >= 95);
    started = performance.now();
    assert.equal(ev.waitSync({ timeout: 100 }), false);
    assert.ok(performance.now() - started >= 95);
    ev.set();
    assert.equal(ev.isSet(), true);
    assert.equal(await ev.wait(), true);
    assert.equal(ev.waitSync({ timeout: 0 }), true);
    ev.clear();
    assert.equal(ev.isSet(), false);
  });

  test("a waiter woken by set() returns true even when clear() follows at once", async () => {
    using ev = new Event();
    const pending = ev.wait({ timeout: 60_000 });
    ev.set();
    ev.clear();
    assert.equal(await pending, true);
  });

  test("abort and bad input", async () => {
    using ev = new Event();
    const controller = new AbortController();
    const pending = ev.wait({ signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, { code: ErrorCodes.ABORTED });
    assert.equal(await ev.wait({ timeout: -1 }), false, "a negative timeout is 0, as in CPython");
    assert.throws(() => ev.waitSync({ timeout: "x" as unknown as number }), { code: ErrorCodes.INVALID_ARG_TYPE });
    ev.close();
    assert.throws(() => ev.set(), { code: ErrorCodes.CLOSED });
  });
});

for (const mix of MIXES) {
  describe(`Event (${mix.name})`, () => {
    test("children waiting (sync and async) are all woken by the parent's set", async () => {
      using ev = new Event();
      using a = new RawValue("i", 0);
      using b = new RawValue("i", 0);
      const [p] = startAll([mix.kinds[0]], waitEvent, [ev, a, 60_000]);
      const [q] = startAll([mix.kinds[1]], waitEventSync, [ev, b, 60_000]);
      ev.set();
      await joinAll([p!, q!]);
      assert.deepEqual([a.value, b.value], [1, 1]);
    });

    test("the parent's wait gives false after 100 ms, then is woken by a child", async () => {
      using ev = new Event();
      const started = performance.now();
      assert.equal(await ev.wait({ timeout: 100 }), false);
      assert.ok(performance.now() - started >= 95);
      const pending = ev.wait({ timeout: 60_000 });
      const [p] = startAll([mix.kinds[1]], setEvent, [ev]);
      assert.equal(await pending, true);
      assert.equal(ev.isSet(), true);
      await p!.join();
    });

    test("a child's timed wait gives false when nobody sets it", async () => {
      using ev = new Event();
      using a = new RawValue("i", 0);
      const ps = [...startAll([mix.kinds[0]], waitEvent, [ev, a, 100]), ...startAll([mix.kinds[1]], waitEventSync, [ev, a, 100])];
      await joinAll(ps);
      assert.equal(a.value, 2);
    });
  });
}
