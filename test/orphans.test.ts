// No orphans and no leaked segments: SIGKILL a program whose child has a child of its own; every
// descendant must be gone within a second, and its segment unlinked by the resource tracker.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { fixture, pidAlive } from "./helpers.js";

test("killing a program's main process leaves no child and no segment behind", async () => {
  const program = spawn(process.execPath, [fixture("orphan-main.js")], { stdio: ["ignore", "pipe", "inherit"] });
  const seen = new Map<string, string>();
  await new Promise<void>((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => reject(new Error(`program did not report its pids: ${buffered}`)), 30_000);
    program.stdout.on("data", (d: Buffer) => {
      buffered += d.toString();
      for (const line of buffered.split("\n")) {
        const [role, value] = line.split(" ");
        if (role !== undefined && value !== undefined) seen.set(role, value);
      }
      if (["main", "child", "grandchild", "segment"].every((k) => seen.has(k))) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const pids = ["main", "child", "grandchild"].map((k) => Number(seen.get(k)));
  const segment = `/dev/shm/${seen.get("segment")}`;
  assert.ok(pids.every(pidAlive));
  assert.ok(existsSync(segment));

  const killedAt = Date.now();
  program.kill("SIGKILL");
  while (pids.some(pidAlive) && Date.now() - killedAt < 1000) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(
    pids.filter(pidAlive),
    [],
    "every descendant should be gone within a second",
  );
  while (existsSync(segment) && Date.now() - killedAt < 5000) await new Promise((r) => setTimeout(r, 20));
  assert.equal(existsSync(segment), false, "the resource tracker should unlink the dead program's segment");
});
