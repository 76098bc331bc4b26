// Process under both start methods: lifecycle, CPython's exit-code rules, identity, shared memory
// updated by children, and bad input rejected at the call.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { activeChildren, ErrorCodes, getContext, isMainProcess, SharedMemory } from "multiproc";
import { CONTEXTS } from "./helpers.js";
import { addMany, asyncWrite, exitWith, hang, reportEnv, reportIdentity, throwError } from "./fixtures/targets.js";

function readText(shm: SharedMemory): string {
  const bytes = shm.buf;
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(bytes.subarray(0, end < 0 ? bytes.length : end));
}

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);

  describe(`Process (${kind})`, () => {
    test("exit code 0 when the target returns", async () => {
      const p = new ctx.Process({ target: exitWith, args: [0] });
      assert.equal(p.exitCode, null);
      p.start();
      await p.join();
      assert.equal(p.exitCode, 0);
      assert.equal(p.isAlive(), false);
    });

    test("exit code N for process.exit(N)", async () => {
      const p = new ctx.Process({ target: exitWith, args: [7] });
      p.start();
      await p.join();
      assert.equal(p.exitCode, 7);
    });

    test("exit code 1 for an uncaught error", async () => {
      const p = new ctx.Process({ target: throwError, args: ["boom from the child"] });
      p.start();
      await p.join();
      assert.equal(p.exitCode, 1);
    });

    test("terminate() gives -15 and kill() gives -9", async () => {
      const t = new ctx.Process({ target: hang });
      const k = new ctx.Process({ target: hang });
      t.start();
      k.start();
      await t.join({ timeout: 50 });
      assert.equal(t.isAlive(), true);
      t.terminate();
      k.kill();
      await t.join();
      await k.join();
      assert.equal(t.exitCode, -15);
      assert.equal(k.exitCode, -9);
    });

    test("join with a timeout returns while the child still runs", async () => {
      const p = new ctx.Process({ target: hang });
      p.start();
      const started = Date.now();
      await p.join({ timeout: 100 });
      assert.ok(Date.now() - started >= 95);
      assert.equal(p.exitCode, null);
      assert.ok(activeChildren().includes(p));
      p.kill();
      await p.join();
      assert.ok(!activeChildren().includes(p));
    });

    test("start twice, join before start, close while running, use after close", async () => {
      const p = new ctx.Process({ target: hang });
      await assert.rejects(p.join(), { code: ErrorCodes.NOT_STARTED });
      p.start();
      assert.throws(() => p.start(), { code: ErrorCodes.ALREADY_STARTED });
      assert.throws(() => p.close(), /still running/);
      p.kill();
      await p.join();
      p.close();
      assert.throws(() => p.exitCode, { code: ErrorCodes.CLOSED });
      assert.throws(() => p.start(), { code: ErrorCodes.CLOSED });
    });

    test("children can atomically update shared memory made by the parent", async () => {
      const shm = new SharedMemory({ create: true, size: 4096 });
      try {
        const ps = [0, 1].map(() => new ctx.Process({ target: addMany, args: [shm, 100_000] }));
        ps.forEach((p) => p.start());
        await Promise.all(ps.map((p) => p.join()));
        assert.deepEqual(
          ps.map((p) => p.exitCode),
          [0, 0],
        );
        assert.equal(new Int32Array(shm.buffer)[0], 200_000);
      } finally {
        shm.unlink();
      }
    });

    test("the child knows who it is and who its parent is", async () => {
      const shm = new SharedMemory({ create: true, size: 4096 });
      try {
        const p = new ctx.Process({ target: reportIdentity, args: [shm], name: "worker-7" });
        p.start();
        await p.join();
        const report = JSON.parse(readText(shm)) as { name: string; pid: number; main: boolean; parent: number };
        assert.equal(report.name, "worker-7");
        assert.equal(report.main, false);
        assert.equal(report.parent, process.pid);
        assert.equal(report.pid, p.pid);
        assert.equal(isMainProcess(), true);
        if (kind === "process") assert.notEqual(p.pid, process.pid);
        else assert.equal(p.pid, process.pid);
      } finally {
        shm.unlink();
      }
    });

    test("async targets are awaited, and default names count up", async () => {
      const shm = new SharedMemory({ create: true, size: 64 });
      try {
        const p = new ctx.Process({ target: asyncWrite, args: [shm, "done"] });
        p.start();
        assert.match(p.name, /^Process-\d+$/);
        await p.join();
        assert.equal(p.exitCode, 0);
        assert.equal(readText(shm), "done");
      } finally {
        shm.unlink();
      }
    });

    test("a child sees the parent's environment and directory as they are at start()", async () => {
      const shm = new SharedMemory({ create: true, size: 4096 });
      const cwd = process.cwd();
      try {
        // Start one child first, so that a spare child is waiting with the old environment.
        const first = new ctx.Process({ target: exitWith, args: [0] });
        first.start();
        await first.join();
        process.env.MULTIPROC_TEST_GONE = "old";
        await new Promise((r) => setImmediate(r));
        process.env.MULTIPROC_TEST_VALUE = `v${Date.now()}`;
        delete process.env.MULTIPROC_TEST_GONE;
        process.chdir("/tmp");
        const p = new ctx.Process({ target: reportEnv, args: [shm, "MULTIPROC_TEST_VALUE"] });
        p.start();
        await p.join();
        assert.equal(readText(shm), `/tmp|${process.env.MULTIPROC_TEST_VALUE}|(unset)`);
      } finally {
        process.chdir(cwd);
        delete process.env.MULTIPROC_TEST_VALUE;
        shm.unlink();
      }
    });

    test("bad input throws at the call with a code", async () => {
      assert.throws(() => new ctx.Process({ target: 42 as unknown as () => void }), { code: ErrorCodes.INVALID_ARG_TYPE, message: /target/ });
      assert.throws(() => new ctx.Process({ target: hang, args: "x" as unknown as [] }), { code: ErrorCodes.INVALID_ARG_TYPE, message: /args/ });
      assert.throws(() => new ctx.Process({ target: Math.max }), { code: ErrorCodes.TARGET_NOT_FOUND });
      assert.throws(() => new ctx.Process({ target: hang.bind(null) }), { code: ErrorCodes.TARGET_NOT_FOUND });
      const p = new ctx.Process({ target: hang });
      // Promise-returning calls reject at once instead of throwing.
      await assert.rejects(p.join({ timeout: "1" as unknown as number }), { code: ErrorCodes.INVALID_ARG_TYPE });
    });

    test("an unsendable argument fails at start and starts nothing", () => {
      const p = new ctx.Process({ target: hang, args: [Symbol("nope")] as unknown as [] });
      const before = activeChildren().length;
      assert.throws(() => p.start(), { code: ErrorCodes.UNSERIALIZABLE });
      assert.equal(activeChildren().length, before);
    });
  });
}

test("getContext rejects an unknown start method", () => {
  assert.throws(() => getContext("fork" as "process"), { code: ErrorCodes.UNKNOWN_CONTEXT });
});
