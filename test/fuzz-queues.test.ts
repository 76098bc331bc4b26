// Fuzzing a queue's shared header, journal and store, short (a fixed seed and a random one;
// FUZZ_SEED=n replays it), then the bugs that fuzzing found, one test each: a foreign writer that
// damages a queue's words gets typed errors from its users, never a RangeError or a long loop,
// and a queue whose store was damaged empties itself and works again.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { ErrorCodes, JoinableQueue, LifoQueue, PriorityQueue, Queue, SharedMemory } from "multiproc";
import type { QueueCore } from "#internal/queues/core.js";
import { W } from "#internal/queues/queue-segment.js";
import { FLAG_OUT_OF_LINE } from "#internal/queues/stores.js";
import { dumps, loads } from "#internal/transport/serialize.js";
import { fuzzQueues } from "../chaos/fuzz/queues.js";

const FIXED_SEED = 20261123;
const RANDOM_SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

function wordsOf(q: Queue): Int32Array {
  return (q as unknown as { core: QueueCore }).core.words;
}

describe("fuzzing queue segments (short)", () => {
  for (const seed of [FIXED_SEED, RANDOM_SEED]) {
    test(`damaged headers, journals and stores, seed ${seed}`, async () => {
      const f = await fuzzQueues({ seed, scale: 0.01 });
      const v = f.verdicts;
      assert.equal(v.crashes, 0, `queues: ${v.crashes} untyped errors (FUZZ_SEED=${seed}):\n${v.examples.join("\n")}`);
      assert.equal(f.notRecovered, 0, `queues: not usable after emptying itself (FUZZ_SEED=${seed}):\n${v.examples.join("\n")}`);
      assert.ok(v.codes[ErrorCodes.CORRUPT]! > 0 && v.codes[ErrorCodes.SHM_BAD_LAYOUT]! > 0);
    });
  }
});

describe("queue regressions found by fuzzing", () => {
  test("a journal with a huge count replays at most its capacity (it looped 2^31 times)", () => {
    using q = new Queue({ capacity: 4096 });
    q.putNowait("a");
    const w = wordsOf(q);
    w[W.JCOUNT] = 0x7fffffff;
    Atomics.store(w, W.JVALID, 1);
    assert.equal(q.getNowait(), "a");
  });

  test("a journal pair naming the lock or the layout words is skipped", () => {
    using q = new Queue({ capacity: 4096 });
    const w = wordsOf(q);
    const magic = w[W.MAGIC];
    w[W.JOURNAL] = W.MAGIC;
    w[W.JOURNAL + 1] = 0;
    w[W.JCOUNT] = 1;
    Atomics.store(w, W.JVALID, 1);
    q.putNowait(1);
    assert.equal(w[W.MAGIC], magic);
    assert.equal(q.getNowait(), 1);
    assert.equal(loads(dumps(q)) instanceof Queue, true);
  });

  for (const [name, Kind, word] of [
    ["Queue (tail)", Queue, W.STORE + 1],
    ["LifoQueue (top)", LifoQueue, W.STORE],
    ["PriorityQueue (free list)", PriorityQueue, W.STORE],
  ] as const) {
    test(`${name}: a damaged store word makes put refuse with ERR_CORRUPT (it threw a RangeError), then the queue works`, () => {
      using q = new Kind({ capacity: 4096 });
      q.putNowait([1, "x"]);
      wordsOf(q)[word] = -1_000_000;
      assert.throws(() => q.putNowait([2, "y"]), { code: ErrorCodes.CORRUPT, message: /dropped its 1 items/ });
      assert.equal(q.qsize(), 0);
      q.putNowait([3, "z"]);
      assert.deepEqual(q.getNowait(), [3, "z"]);
    });
  }

  test("JoinableQueue: items dropped for damage count as done, so join() returns", async () => {
    using q = new JoinableQueue({ capacity: 4096 });
    q.putNowait("a");
    q.putNowait("b");
    wordsOf(q)[W.STORE] = 4095; // FIFO head, not a record boundary
    assert.throws(() => q.getNowait(), { code: ErrorCodes.CORRUPT });
    assert.equal(await q.join({ timeout: 10_000 }), true);
  });

  test("a queue received with a damaged header is refused with ERR_SHM_BAD_LAYOUT (it was a TypeError or 'gone')", () => {
    using q = new Queue({ capacity: 4096 });
    const w = wordsOf(q);
    for (const [index, value] of [[W.MAGIC, 0], [W.KIND, 7], [W.CAPACITY, 1 << 30], [W.CAPACITY, 100], [W.MAXSIZE, -1]] as const) {
      const saved = w[index]!;
      w[index] = value;
      assert.throws(() => loads(dumps(q)), { code: ErrorCodes.SHM_BAD_LAYOUT });
      w[index] = saved;
    }
  });

  test("an out-of-line item naming another segment is dropped, and that segment is not unlinked", () => {
    using q = new Queue({ capacity: 4096 });
    const victim = new SharedMemory({ create: true, size: 4096 });
    try {
      q.putNowait("x".repeat(2000)); // over the inline limit: an out-of-line item
      const w = wordsOf(q);
      // Rewrite the record in place: the victim's name instead of the item's own segment.
      const data = new Uint8Array(w.buffer, 4096, 4096);
      const view = new DataView(w.buffer, 4096);
      const header = view.getUint32(0, true);
      assert.notEqual(header & FLAG_OUT_OF_LINE, 0);
      // As long as the real reference (the length padded with zeros), so the record keeps its size.
      const name = `/${victim.name.replace(/^\//, "")}\n`;
      const ref = new TextEncoder().encode(name + "4096".padStart((header & 0x1fffffff) - name.length, "0"));
      data.set(ref, 4);
      assert.throws(() => q.getNowait(), { code: ErrorCodes.CORRUPT });
      assert.ok(existsSync(`/dev/shm/${victim.name.replace(/^\//, "")}`), "the victim segment was unlinked");
      q.putNowait("after");
      assert.equal(q.getNowait(), "after");
    } finally {
      victim.close();
      victim.unlink();
    }
  });
});
