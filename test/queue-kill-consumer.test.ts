// Kill test: consumers SIGKILLed in the middle of get, 100 times, at random moments, while the
// parent keeps putting items. The parent never hangs; no item is received twice; every item put is
// received or still queued, except at most one per killed consumer (the item it had taken when it
// died, lost with it).
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

function randomDelay(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 8));
}

describe("Queue consumers SIGKILLed (process)", () => {
  test(`${KILLS} consumers killed mid-get: no item twice, at most one lost per dead consumer`, async (t) => {
    const before = { ...recoveries };
    const items = 1 << 19;
    await using q = new Queue<number>({ maxsize: 32 });
    using shm = new SharedMemory({ create: true, size: 4 * (1 + items) });
    const words = new Int32Array(shm.buffer);
    let produced = 0;
    let stop = false;
    const producer = (async () => {
      while (!stop && produced < items) {
        try {
          await q.put(produced, { timeout: 100 });
          produced++;
        } catch (err) {
          if (!(err instanceof Error) || (err as { code?: string }).code !== "ERR_QUEUE_FULL") throw err;
        }
      }
    })();
    try {
      for (let first = 0; first < KILLS; first += PARALLEL) {
        await Promise.all(
          Array.from({ length: PARALLEL }, async () => {
            const before = Atomics.load(words, 0);
            const kill = startVictim(["consume", q, shm]);
            // Wait until some consumer (likely this one) has taken an item since it was started.
            while (Atomics.load(words, 0) === before) await waiter().waitAsync(words, 0, before, { timeout: 1000 });
            await randomDelay();
            await kill();
          }),
        );
      }
    } finally {
      stop = true;
      await producer;
    }
    const drained: number[] = [];
    for (;;) {
      try {
        drained.push(q.getNowait());
      } catch (err) {
        assert.ok(err instanceof Empty);
        break;
      }
    }
    for (const item of drained) words[1 + item]! += 1;
    let lost = 0;
    for (let item = 0; item < produced; item++) {
      const seen = words[1 + item]!;
      assert.ok(seen <= 1, `item ${item} was received ${seen} times`);
      if (seen === 0) lost++;
    }
    for (let item = produced; item < items; item++) assert.equal(words[1 + item], 0);
    assert.ok(lost <= KILLS, `${lost} items lost for ${KILLS} killed consumers`);
    assert.ok(produced > KILLS, `only ${produced} items went through`);
    t.diagnostic(`${lost} items lost with their consumers; the parent took the lock over from ${recoveries.takeovers - before.takeovers} dead holders, replaying ${recoveries.replays - before.replays} journals`);
  });
});
