// The robust futex mutex under Lock and the queues: exact mutual exclusion across processes and
// threads, timeouts, aborts, and a holder that dies is replaced instead of hanging everyone.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getContext, SharedMemory } from "multiproc";
import { lockAsync, lockOwner, LockResult, lockSync, SELF, tryLock, unlock } from "#internal/sync/mutex.js";
import { waiter } from "#internal/native/wait.js";
import { CONTEXTS } from "./helpers.js";
import { holdForever, incrementLocked } from "./fixtures/mutex.js";

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);
  describe(`mutex (${kind})`, () => {
    test("2 children x 20,000 locked increments of a plain counter are exact", async () => {
      using shm = new SharedMemory({ create: true, size: 64 });
      try {
        const ps = [0, 1].map(() => new ctx.Process({ target: incrementLocked, args: [shm, 20_000] }));
        ps.forEach((p) => p.start());
        // The parent competes too, with the async path.
        const words = new Int32Array(shm.buffer);
        for (let i = 0; i < 2_000; i++) {
          assert.equal(await lockAsync(words, 0), LockResult.Acquired);
          words[1] = words[1]! + 1;
          unlock(words, 0);
        }
        await Promise.all(ps.map((p) => p.join()));
        assert.equal(words[1], 42_000);
        assert.equal(lockOwner(words, 0), 0);
      } finally {
        shm.unlink();
      }
    });

    test("a holder killed while holding: the next acquirer gets the lock and is told", async () => {
      using shm = new SharedMemory({ create: true, size: 64 });
      try {
        const words = new Int32Array(shm.buffer);
        const p = new ctx.Process({ target: holdForever, args: [shm] });
        p.start();
        assert.equal(await waiter().waitAsync(words, 2, 0, { timeout: 30_000 }), "ok");
        assert.equal(tryLock(words, 0), false);
        // The word holds the holder's kernel thread id: the child's pid, or a worker thread's own id.
        if (kind === "process") assert.equal(lockOwner(words, 0), p.pid);
        else assert.notEqual(lockOwner(words, 0), process.pid);
        p.kill();
        await p.join();
        assert.equal(await lockAsync(words, 0, { timeout: 30_000 }), LockResult.OwnerDied);
        assert.equal(lockOwner(words, 0), SELF);
        unlock(words, 0);
        assert.equal(lockSync(words, 0, 1000), LockResult.Acquired);
        unlock(words, 0);
      } finally {
        shm.unlink();
      }
    });
  });
}

describe("mutex in one process", () => {
  test("timeouts and aborts while another holds it", async () => {
    const words = new Int32Array(new SharedArrayBuffer(8));
    assert.equal(tryLock(words, 0), true);
    assert.equal(tryLock(words, 0), false);
    const started = performance.now();
    assert.equal(await lockAsync(words, 0, { timeout: 100 }), LockResult.TimedOut);
    assert.ok(performance.now() - started >= 99);
    assert.equal(lockSync(words, 0, 0), LockResult.TimedOut);
    const controller = new AbortController();
    const pending = lockAsync(words, 0, { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, { code: "ERR_ABORTED" });
    assert.equal(unlock(words, 0), process.pid);
    assert.equal(lockSync(words, 0), LockResult.Acquired);
    unlock(words, 0);
  });

  test("a waiter is woken by the release, not by its slice", async () => {
    const words = new Int32Array(new SharedArrayBuffer(8));
    assert.equal(tryLock(words, 0), true);
    const pending = lockAsync(words, 0, { timeout: 60_000 });
    setImmediate(() => unlock(words, 0));
    assert.equal(await pending, LockResult.Acquired);
    unlock(words, 0);
  });
});
