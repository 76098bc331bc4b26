// Kill test: producers SIGKILLed in the middle of put, 100 times, at random moments, while the
// parent keeps taking items. The parent never hangs; every item whose put returned is received
// exactly once and in order, plus at most the one put in flight when its producer died.
// Victims are bare node programs (fixtures/queue-victim.ts) that receive the queue through our
// serialisation, because two hundred Process starts would dominate the run.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, test } from "node:test";
import { Empty, Queue, SharedMemory } from "multiproc";
import { waiter } from "#internal/native/wait.js";
import { recoveries } from "#internal/queues/core-locked.js";
import { dumps } from "#internal/transport/serialize.js";
import { fixture } from "./helpers.js";

/** Starts a victim; resolves with a function that SIGKILLs it and waits for its end. */
function startVictim(args: unknown[]): () => Promise<void> {
  const child = spawn(process.execPath, [fixture("queue-victim.js"), dumps(args).toString("hex")], { stdio: ["ignore", "inherit", "inherit"] });
  const exited = once(child, "exit");
  return async () => {
    child.kill("SIGKILL");
    const [code, signal] = (await exited) as [number | null, string | null];
    assert.equal(signal, "SIGKILL", `the victim ended on its own (exit code ${code})`);
  };
}
const KILLS = 100;
const PARALLEL = 4;
const SPAN = 1 << 20;

function randomDelay(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 8));
}

describe("Queue producers SIGKILLed (process)", () => {
  test(`${KILLS} producers killed mid-put: every returned put arrives exactly once, in order`, async (t) => {
    const before = { ...recoveries };
    await using q = new Queue<number>({ maxsize: 32 });
    using shm = new SharedMemory({ create: true, size: 4 * KILLS });
    const done = new Int32Array(shm.buffer).fill(-1);
    const got = Array.from({ length: KILLS }, () => [] as number[]);
    let stop = false;
    const consumer = (async () => {
      for (;;) {
        let item: number;
        try {
          item = await q.get({ timeout: 100 });
        } catch (err) {
          if (err instanceof Empty && stop) return;
          if (err instanceof Empty) continue;
          throw err;
        }
        got[Math.floor(item / SPAN)]!.push(item % SPAN);
      }
    })();
    try {
      for (let first = 0; first < KILLS; first += PARALLEL) {
        const victims = Array.from({ length: PARALLEL }, (_, k) => first + k);
        await Promise.all(
          victims.map(async (v) => {
            const kill = startVictim(["produce", q, shm, v, SPAN]);
            assert.equal(await waiter().waitAsync(done, v, -1, { timeout: 60_000 }), "ok", `victim ${v} never started`);
            await randomDelay();
            await kill();
          }),
        );
      }
    } finally {
      stop = true;
      await consumer;
    }
    for (let v = 0; v < KILLS; v++) {
      const items = got[v]!;
      // In order, no duplicate, no gap: exactly 0..n-1.
      assert.deepEqual(items, Array.from({ length: items.length }, (_, i) => i), `victim ${v}`);
      // Everything whose put returned, and at most the one put in flight when it died.
      assert.ok(items.length - 1 >= done[v]!, `victim ${v}: put ${done[v]} returned, got ${items.length}`);
      assert.ok(items.length - 1 <= done[v]! + 1, `victim ${v}: ${items.length} items for ${done[v]! + 1} returned puts`);
    }
    // The queue still works.
    await q.put(7);
    assert.equal(await q.get(), 7);
    t.diagnostic(`the parent took the lock over from ${recoveries.takeovers - before.takeovers} dead holders, replaying ${recoveries.replays - before.replays} journals`);
  });
});
