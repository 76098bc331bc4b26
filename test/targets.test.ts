// The three target forms (exported, fromModule, self-contained source), from compiled JavaScript
// and from TypeScript run through tsx, and the errors for targets that cannot work.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fromModule, getContext, SharedMemory } from "multiproc";
import { CONTEXTS, fixture, ROOT, runNode } from "./helpers.js";
import type * as Targets from "./fixtures/targets.js";

const targets = fromModule<typeof Targets>(new URL("./fixtures/targets.js", import.meta.url));

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);
  describe(`targets (${kind})`, () => {
    test("fromModule gives a typed reference the child imports", async () => {
      const shm = new SharedMemory({ create: true, size: 64 });
      try {
        const p = new ctx.Process({ target: targets.addMany, args: [shm, 5] });
        p.start();
        await p.join();
        assert.equal(p.exitCode, 0);
        assert.equal(new Int32Array(shm.buffer)[0], 5);
      } finally {
        shm.unlink();
      }
    });

    test("a self-contained inline function is sent as source", async () => {
      const shm = new SharedMemory({ create: true, size: 64 });
      try {
        const p = new ctx.Process({
          target: async (s: SharedMemory, x: bigint, m: Map<string, number>) => {
            await Promise.resolve();
            new BigInt64Array(s.buffer)[0] = x * 2n + BigInt(m.get("k") ?? 0);
          },
          args: [shm, 20n, new Map([["k", 2]])],
        });
        p.start();
        await p.join();
        assert.equal(p.exitCode, 0);
        assert.equal(new BigInt64Array(shm.buffer)[0], 42n);
      } finally {
        shm.unlink();
      }
    });

    test("a closure over outer variables fails in the child with an error naming the forms", async () => {
      const outer = 5;
      const p = new ctx.Process({ target: (x: number) => x + outer, args: [1] });
      p.start();
      await p.join();
      assert.equal(p.exitCode, 1);
    });

    test("a fromModule reference to a missing export exits 1", async () => {
      const p = new ctx.Process({ target: (targets as unknown as Record<string, () => void>).noSuchExport! });
      p.start();
      await p.join();
      assert.equal(p.exitCode, 1);
    });
  });
}

describe("targets in whole programs", () => {
  test("the closure error message says what is wrong and names the other forms", async () => {
    const r = await runNode(fixture("closure-main.js"));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /exit=1/);
    assert.match(r.stderr, /ERR_TARGET_NOT_SELF_CONTAINED|uses names from its surroundings/);
    assert.match(r.stderr, /offset is not defined/);
    assert.match(r.stderr, /exported from its module.*fromModule/s);
  });

  test("a main module with top-level await passes its own exports and inline functions", async () => {
    const r = await runNode(fixture("main-tla.js"));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /square=49 inline=42 exit=0,0/);
    // The child imported the main module again, where isMainProcess() is false.
    assert.match(r.stdout, /module evaluated, main=false/);
  });

  test("TypeScript run through tsx: the child gets the same loader", async () => {
    const tsx = join(ROOT, "node_modules/tsx/dist/loader.mjs");
    const r = await runNode(join(ROOT, "test/fixtures/ts-main.ts"), { nodeArgs: ["--import", `file://${tsx}`] });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /tsx result=42 exit=0/);
  });

  test("an unguarded main module cannot make its children start processes", async () => {
    const r = await runNode(fixture("unguarded-main.js"));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /value=99 exit=0/);
  });
});
