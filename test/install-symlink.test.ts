// A symlinked install (npm link, workspaces, pnpm's store): node_modules/multiproc is a link to the
// package folder, and a pool worker then loads the package twice, once by its real path (the
// worker's entry) and once through the link (the user's module importing "multiproc"). Before
// issue #22 the second copy's registerThread added a duplicate environment cleanup hook and Node
// aborted every such worker (SIGABRT).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, runNode } from "./helpers.js";

const PROGRAM = `
import { isMainProcess, Pool, Process, Queue } from "multiproc";
export function square(x) { return x * x; }
export async function send(q) { await q.put({ from: "child", list: [1, 2] }); }
if (isMainProcess()) {
  const pool = new Pool({ processes: 1, maxTasksPerChild: 1 });
  const out = [];
  for (let i = 1; i <= 3; i++) out.push(await pool.apply(square, [i]));
  pool.close();
  await pool.join();
  const q = new Queue();
  const p = new Process({ target: send, args: [q] });
  p.start();
  const got = await q.get({ timeout: 60000 });
  await p.join();
  q.close();
  console.log(JSON.stringify({ out, got, exitCode: p.exitCode }));
}
`;

test("a symlinked install: pool workers that load the package twice run every task, a Queue crosses", async () => {
  const app = mkdtempSync(join(tmpdir(), "multiproc-linked-"));
  try {
    mkdirSync(join(app, "node_modules"));
    symlinkSync(ROOT, join(app, "node_modules/multiproc"));
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "linked-app", private: true, type: "module" }));
    writeFileSync(join(app, "main.js"), PROGRAM);
    const r = await runNode(join(app, "main.js"), { timeout: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim()), { out: [1, 4, 9], got: { from: "child", list: [1, 2] }, exitCode: 0 });
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
});

test("the addon tolerates registerThread twice in one thread (a second copy of the package)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "multiproc-twice-"));
  try {
    const addon = (createRequire(join(ROOT, "package.json"))("node-gyp-build") as { resolve(dir: string): string }).resolve(ROOT);
    const script = join(dir, "twice.cjs");
    writeFileSync(
      script,
      `const { threadId } = require("node:worker_threads");
       const b = require(${JSON.stringify(addon)});
       b.registerThread(threadId);
       b.registerThread(threadId);
       console.log(b.threadAlive(threadId));`,
    );
    const r = await runNode(script);
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "true");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
