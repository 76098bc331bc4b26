// The wait/wake layer under every primitive: cross-process futex wake-ups, timeouts, async waits
// that never block the event loop or libuv's threadpool, and the Atomics fallback without addon.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, test } from "node:test";
import { getContext, SharedMemory } from "multiproc";
import { waiter } from "#internal/native/wait.js";
import { CONTEXTS, fixture, runNode } from "./helpers.js";
import { setAndWake, waitSyncThenAck } from "./fixtures/targets.js";

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);
  describe(`futex waits across ${kind} children`, () => {
    test("an async wait is woken by a child that changes the word", async () => {
      const shm = new SharedMemory({ create: true, size: 64 });
      try {
        const words = new Int32Array(shm.buffer);
        const woken = waiter().waitAsync(words, 0, 0, { timeout: 30_000 });
        const p = new ctx.Process({ target: setAndWake, args: [shm, 1] });
        p.start();
        assert.equal(await woken, "ok");
        assert.equal(Atomics.load(words, 0), 1);
        await p.join();
      } finally {
        shm.unlink();
      }
    });

    test("a child's sync wait is woken by the parent, and a second one times out", async () => {
      const shm = new SharedMemory({ create: true, size: 64 });
      try {
        const words = new Int32Array(shm.buffer);
        const p = new ctx.Process({ target: waitSyncThenAck, args: [shm, 30_000] });
        p.start();
        // Wait for the ack asynchronously; wake the child once it is running.
        const ack = waiter().waitAsync(words, 1, 0, { timeout: 30_000 });
        Atomics.store(words, 0, 1);
        waiter().wake(words, 0);
        assert.equal(await ack, "ok");
        assert.equal(Atomics.load(words, 1), 2);
        await p.join();

        Atomics.store(words, 0, 0);
        Atomics.store(words, 1, 0);
        const q = new ctx.Process({ target: waitSyncThenAck, args: [shm, 50] });
        q.start();
        await q.join();
        assert.equal(Atomics.load(words, 1), 3, "the child's wait should have timed out");
      } finally {
        shm.unlink();
      }
    });

    test("200 concurrent async waits are all woken from another child", async () => {
      const shm = new SharedMemory({ create: true, size: 4096 });
      try {
        const words = new Int32Array(shm.buffer);
        const waits = Array.from({ length: 200 }, (_, i) => waiter().waitAsync(words, i, 0, { timeout: 30_000 }));
        const p = new ctx.Process({ target: setAndWake, args: [shm, 200] });
        p.start();
        const results = await Promise.all(waits);
        assert.deepEqual(new Set(results), new Set(["ok"]));
        await p.join();
      } finally {
        shm.unlink();
      }
    });
  });
}

describe("async waits", () => {
  test("time out after the timeout and report it", async () => {
    const words = new Int32Array(new SharedArrayBuffer(8));
    const started = performance.now();
    assert.equal(await waiter().waitAsync(words, 0, 0, { timeout: 50 }), "timed-out");
    assert.ok(performance.now() - started >= 49);
    assert.equal(await waiter().waitAsync(words, 0, 5, { timeout: 50 }), "not-equal");
    assert.equal(waiter().wait(words, 0, 0, 20), "timed-out");
  });

  test("an AbortSignal ends a wait with an AbortError", async () => {
    const words = new Int32Array(new SharedArrayBuffer(8));
    const controller = new AbortController();
    const pending = waiter().waitAsync(words, 0, 0, { signal: controller.signal });
    controller.abort(new Error("stop"));
    await assert.rejects(pending, { name: "AbortError", code: "ERR_ABORTED" });
    await assert.rejects(waiter().waitAsync(words, 0, 0, { signal: controller.signal }), { code: "ERR_ABORTED" });
  });

  test("pending waits do not hold back fs.readFile (libuv's threadpool stays free)", async () => {
    const words = new Int32Array(new SharedArrayBuffer(64));
    // More waits than libuv has pool threads (4): if they sat on the pool, readFile would starve.
    const waits = Array.from({ length: 16 }, (_, i) => waiter().waitAsync(words, i, 0));
    const read = readFile(new URL(import.meta.url), "utf8").then(() => "read");
    const deadline = new Promise<string>((r) => setTimeout(() => r("starved"), 10_000).unref());
    assert.equal(await Promise.race([read, deadline]), "read");
    for (let i = 0; i < 16; i++) {
      Atomics.store(words, i, 1);
      waiter().wake(words, i);
    }
    assert.deepEqual(new Set(await Promise.all(waits)), new Set(["ok"]));
  });

  test("the waitv-less fallback (one thread per wait) gives the same results", async () => {
    const r = await runNode(fixture("fallback-waits.js"), { env: { MULTIPROC_NO_WAITV: "1" } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ok ok timed-out aborted/);
  });
});

test("without the addon, the thread context still runs and shares memory", async () => {
  const r = await runNode(fixture("no-native.js"), { env: { MULTIPROC_NO_NATIVE: "1" } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /kind=atomics sum=20000 woken=ok process=ERR_NATIVE_UNAVAILABLE/);
});
