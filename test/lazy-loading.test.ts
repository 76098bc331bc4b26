// Loading on first use (issue #15.3): the package root loads almost nothing, each feature loads
// when first used and then works as before (both contexts), the stand-ins are the classes for
// `new`, `instanceof`, `extends` and statics, handles revive in children that never loaded their
// class, and spare children wait until the program's first child runs, then serve later starts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as root from "multiproc";
import * as connection from "multiproc/connection";
import * as managers from "multiproc/managers";
import * as sharedMemory from "multiproc/shared-memory";
import { BaseManager, fromModule, getContext, Lock, Process, Queue, SharedMemory, Value } from "multiproc";
import { CONTEXTS, fixture, runNode } from "./helpers.js";
import type * as Targets from "./fixtures/lazy-targets.js";

const targets = fromModule<typeof Targets>(new URL("./fixtures/lazy-targets.js", import.meta.url));

interface LazyReport {
  steps: Record<"import" | "lock" | "process", string[]>;
  fromChild: number;
  exit: number;
  squared: number;
  got: string;
  lockIsLock: boolean;
}

const HEAVY = /^(pool|managers|cluster|arrow|connection|queues|sync|shared)\//;

for (const kind of CONTEXTS) {
  describe(`loading on first use (${kind})`, () => {
    test("a fresh program loads no feature at import, then each works on first use from the root", async () => {
      const r = await runNode(fixture("lazy-main.js"), { args: [kind], timeout: 120_000 });
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as LazyReport;
      assert.deepEqual(report.steps.import.filter((f) => HEAVY.test(f)), [], "the import loaded feature files");
      assert.ok(report.steps.import.length <= 15, `the import loaded ${report.steps.import.length} files: ${report.steps.import.join(" ")}`);
      assert.ok(report.steps.lock.includes("sync/lock.js"));
      assert.deepEqual(report.steps.lock.filter((f) => /^(pool|managers|cluster|queues)\//.test(f)), [], "a Lock loaded unrelated features");
      assert.ok(!report.steps.process.some((f) => f.startsWith("pool/")), "a Process loaded the pool");
      assert.equal(report.exit, 0);
      assert.equal(report.fromChild, 42);
      assert.equal(report.squared, 49);
      assert.equal(report.got, "v");
      assert.equal(report.lockIsLock, true);
    });

    test("a child that never loaded Lock revives one from a sync get", async () => {
      const ctx = getContext(kind);
      const q = new ctx.Queue<{ lock: Lock }>();
      const out = new ctx.Value("i", 0);
      const lock = new ctx.Lock();
      const p = new ctx.Process({ target: targets.takeLockSync, args: [q, out] });
      p.start();
      await q.put({ lock });
      await p.join();
      assert.equal(p.exitCode, 0);
      assert.equal(out.value, 1);
      q.close();
    });

    test("spares launched after a first start serve the next one", async () => {
      const ctx = getContext(kind);
      const warm = new ctx.Process({ target: targets.reportOrigin, args: [new Value("d", 0)] });
      warm.start();
      await warm.join();
      // The refill is queued (setImmediate) by the time join() settles; let it run.
      await new Promise((resolve) => setImmediate(resolve));
      const origin = new ctx.Value("d", 0);
      const before = performance.timeOrigin + performance.now();
      const p = new ctx.Process({ target: targets.reportOrigin, args: [origin] });
      p.start();
      await p.join();
      assert.equal(p.exitCode, 0);
      assert.ok(origin.value < before, "the child began when start() was called: no spare served it");
    });
  });
}

describe("the lazy stand-ins", () => {
  test("are the classes: new, instanceof, extends, statics, names", () => {
    const lock = new Lock();
    assert.ok(lock instanceof Lock);
    assert.ok(!(lock instanceof Queue));
    assert.equal(Lock.name, "Lock");
    assert.equal(typeof Lock, "function");
    assert.equal(Object.getPrototypeOf(lock), Lock.prototype);
    class Named extends Process {
      label(): string {
        return `named ${this.name}`;
      }
    }
    const p = new Named({ target: () => undefined, name: "n1" });
    assert.ok(p instanceof Named && p instanceof Process);
    assert.equal(p.label(), "named n1");
    class MyManager extends BaseManager {}
    const Registered = MyManager.register("Thing", () => ({}));
    assert.equal(Registered, MyManager);
    assert.deepEqual(MyManager.typeids(), ["Thing"]);
    assert.deepEqual(BaseManager.typeids(), [], "register on a subclass changed BaseManager");
    assert.throws(() => (Lock as unknown as () => unknown)(), TypeError);
  });

  test("the subpath entries give the very same names as the root", () => {
    assert.equal(sharedMemory.SharedMemory, root.SharedMemory);
    assert.equal(sharedMemory.ShareableList, root.ShareableList);
    assert.equal(connection.Pipe, root.Pipe);
    assert.equal(connection.Listener, root.Listener);
    assert.equal(managers.SyncManager, root.SyncManager);
    assert.equal(managers.Manager, root.Manager);
    assert.equal(getContext("thread").Lock, root.Lock);
    assert.equal(getContext("process").Process, getContext("process").Process, "a context's bound class changes between reads");
    const shm = new SharedMemory({ create: true, size: 8 });
    try {
      assert.ok(shm instanceof sharedMemory.SharedMemory);
    } finally {
      shm.unlink();
    }
  });

  test("a context's Process is bound to its start method and is a Process", () => {
    const ctx = getContext("thread");
    const p = new ctx.Process({ target: () => undefined });
    assert.ok(p instanceof Process);
    assert.equal(p.startMethod, "thread");
  });
});

describe("spare children and the first start", () => {
  test("no spare launches while the first child starts; spares launched after serve the next start", async () => {
    const r = await runNode(fixture("spares-main.js"), { env: { MULTIPROC_SPARE_PROCESSES: "2" }, timeout: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { whileStarting: number; firstExit: number; afterwards: number; secondExit: number; servedBySpare: boolean };
    assert.equal(report.whileStarting, 1, "spares were launched beside the first child");
    assert.equal(report.firstExit, 0);
    assert.equal(report.afterwards, 2);
    assert.equal(report.secondExit, 0);
    assert.equal(report.servedBySpare, true);
  });
});
