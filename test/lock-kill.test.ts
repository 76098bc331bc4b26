// Lock holders SIGKILLed 100 times at random moments (bare-node victims, cheap to start): the
// survivors, in a process child, a thread child and the parent, never hang and are told.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { Lock, RawValue } from "multiproc";
import { lockOwner } from "#internal/sync/mutex.js";
import { kReduce, reduce, type Reducible } from "#internal/transport/handles.js";
import { fixture } from "./helpers.js";
import { lockSurvivor } from "./fixtures/sync.js";
import { joinAll, startAll } from "./sync-helpers.js";

/** The lock's own words (the robust mutex is word 0), seen through a thread handle. */
function lockWords(lock: Lock): Int32Array {
  // The lock's word sits in an arena block, after its 8-byte header.
  const { state } = (lock as unknown as Reducible)[kReduce]("thread") as { state: { block: { block: { arena: { buffer: SharedArrayBuffer }; at: number } } } };
  return new Int32Array(state.block.block.arena.buffer, state.block.block.at + 8, 1);
}

test("holders SIGKILLed 100 times at random moments: the survivors never hang", async () => {
  using lock = new Lock();
  using counter = new RawValue("i", 0);
  using takeovers = new RawValue("i", 0);
  // Survivors: a process child and a thread child, plus the parent, all taking the lock.
  const survivors = startAll(["process", "thread"], lockSurvivor, [lock, counter, 3_000, takeovers]);
  const handles = JSON.stringify(reduce([lock, counter], "bytes").value);
  const VICTIMS = 100;
  const AT_ONCE = 10;
  let killedHolding = 0;
  const victim = async () => {
    const child = spawn(process.execPath, [fixture("lock-victim.js"), handles], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = once(child, "exit");
    await once(child.stdout, "data");
    await new Promise((r) => setTimeout(r, Math.random() * 10));
    if (lockOwner(lockWords(lock), 0) === child.pid) killedHolding++;
    child.kill("SIGKILL");
    await exited;
  };
  for (let batch = 0; batch < VICTIMS / AT_ONCE; batch++) {
    await Promise.all(Array.from({ length: AT_ONCE }, victim));
    // The parent is a survivor too: it gets the lock after every batch.
    assert.equal(await lock.acquire({ timeout: 30_000 }), true);
    if (lock.ownerDied) takeovers.add(1);
    lock.release();
  }
  await joinAll(survivors);
  assert.deepEqual(survivors.map((p) => p.exitCode), [0, 0]);
  assert.equal(await lock.acquire({ timeout: 30_000 }), true);
  lock.release();
  assert.ok(killedHolding > 0, "no victim was killed while holding the lock");
  assert.ok(takeovers.value > 0, "no takeover from a dead holder was reported");
});
