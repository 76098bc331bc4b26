// Program lifetime as in Python (SPEC "Program lifetime", issue #14): a program ends when its own
// code and the work it awaits are done, whatever it left open, and at exit its pool workers and
// manager servers go with it. Each case runs test/fixtures/lifetime-main.ts as a program of its own.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { CONTEXTS, eventually, fixture, pidAlive, runNode } from "./helpers.js";

const main = fixture("lifetime-main.js");
/** A program that hangs is killed after this long (they end within a few seconds). */
const BOUND = 60_000;

async function run(scenario: string, context: string): Promise<string> {
  const r = await runNode(main, { args: [scenario, context], timeout: BOUND });
  assert.equal(r.code, 0, `exit code ${r.code} (${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

function field(stdout: string, name: string): string {
  const m = new RegExp(`^${name}=(.*)$`, "m").exec(stdout);
  assert.ok(m, `no ${name}= in ${stdout}`);
  return m[1]!;
}

for (const context of CONTEXTS) {
  describe(`program lifetime (${context})`, () => {
    test("a pool left open does not keep the program alive; its workers go with it", async () => {
      const out = await run("pool-open", context);
      assert.equal(field(out, "map"), "[1,4,9]");
      const pids = JSON.parse(field(out, "workers")) as number[];
      assert.equal(pids.length, 2);
      assert.ok(await eventually(() => pids.every((pid) => !pidAlive(pid)), 10_000), `workers still alive: ${pids.join(",")}`);
    });

    test("an applyAsync result nobody reads is dropped at exit, as CPython's finalizer terminates the pool", async () => {
      const out = await run("apply-unread", context);
      assert.equal(field(out, "apply"), "16");
      const pids = JSON.parse(field(out, "workers")) as number[];
      assert.ok(await eventually(() => pids.every((pid) => !pidAlive(pid)), 10_000), `worker still alive: ${pids.join(",")}`);
    });

    test("an awaited map keeps the program alive while it runs (no exit 13 at top-level await)", async () => {
      assert.equal(field(await run("await-map", context), "map"), "[1,4]");
    });

    test("an awaited AsyncResult keeps the program alive while it runs", async () => {
      assert.equal(field(await run("await-async-result", context), "apply"), "9");
    });

    test("an imap being iterated keeps the program alive while it runs", async () => {
      assert.equal(field(await run("await-imap", context), "imap"), "[1,4,9]");
    });

    test("a call with a callback keeps the program alive until the callback ran", async () => {
      assert.equal(field(await run("callback", context), "callback"), "25");
    });
  });
}

describe("program lifetime (manager)", () => {
  test("a manager never shut down does not keep the program alive; its server goes at exit", async () => {
    const out = await run("manager-open", "process");
    assert.equal(field(out, "dict"), "1");
    const address = JSON.parse(field(out, "address")) as string;
    assert.equal(typeof address, "string");
    assert.ok(await eventually(() => !existsSync(address), 10_000), `the server's socket ${address} is still there`);
  });
});
