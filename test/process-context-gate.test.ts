// The process context without the addon, and off Linux (issue #22): the thread context works, and
// every process-context call rejects (or, for the synchronous Process.start, throws) with a coded
// error; nothing escapes as an uncaught exception. The platform is simulated through the seam in
// native/platform.ts, in a program of its own, with the addon absent as it is on macOS/Windows.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fixture, runNode } from "./helpers.js";

async function gate(platform: string): Promise<Record<string, string>> {
  const r = await runNode(fixture("process-context-gate.js"), { args: [platform], env: { MULTIPROC_NO_NATIVE: "1" } });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Record<string, string>;
}

test("Linux without the addon: a process-context Pool's calls reject with ERR_NATIVE_UNAVAILABLE; threads work", async () => {
  assert.deepEqual(await gate("linux"), {
    thread: "1,4,9",
    map: "ERR_NATIVE_UNAVAILABLE",
    apply: "ERR_NATIVE_UNAVAILABLE",
    imap: "ERR_NATIVE_UNAVAILABLE",
    start: "skipped",
    manager: "skipped",
  });
});

for (const platform of ["darwin", "win32"]) {
  test(`${platform}: every process-context call fails with ERR_PLATFORM_UNSUPPORTED; threads work`, async () => {
    assert.deepEqual(await gate(platform), {
      thread: "1,4,9",
      map: "ERR_PLATFORM_UNSUPPORTED",
      apply: "ERR_PLATFORM_UNSUPPORTED",
      imap: "ERR_PLATFORM_UNSUPPORTED",
      start: "ERR_PLATFORM_UNSUPPORTED",
      manager: "ERR_PLATFORM_UNSUPPORTED",
    });
  });
}
