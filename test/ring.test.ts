// The shared-memory ring under Pipe and the Pool: every message size (empty, fragmented through a
// small ring, out-of-line >= 1 MiB) arrives whole and in order across processes and threads;
// backpressure, timeouts, EOF on close and on the writer's death.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getContext, SharedMemory } from "multiproc";
import { initRing, RingReader, RingWriter } from "#internal/transport/ring.js";
import { pidAlive } from "#internal/runtime.js";
import { CONTEXTS } from "./helpers.js";
import { CAPACITY, echo, flood, message, RING_B } from "./fixtures/ring.js";

function freshRings(): SharedMemory {
  const shm = new SharedMemory({ create: true, size: 2 * RING_B });
  initRing(shm.buffer, 0, CAPACITY);
  initRing(shm.buffer, RING_B, CAPACITY);
  return shm;
}

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);
  describe(`ring (${kind})`, () => {
    test("300 messages of every size go there and back whole and in order", async () => {
      using shm = freshRings();
      try {
        const count = 300;
        const p = new ctx.Process({ target: echo, args: [shm, process.pid, count] });
        p.start();
        const writer = new RingWriter(shm.buffer, 0);
        const reader = new RingReader(shm.buffer, RING_B, () => p.exitCode !== null);
        const sending = (async () => {
          for (let i = 0; i < count; i++) await writer.send(message(i));
        })();
        for (let i = 0; i < count; i++) {
          const got = await reader.recv({ timeout: 30_000 });
          assert.deepEqual(got, message(i), `message ${i} (${message(i).length} bytes)`);
        }
        await sending;
        await assert.rejects(reader.recv({ timeout: 30_000 }), { code: "ERR_EOF" });
        await p.join();
      } finally {
        shm.unlink();
      }
    });

    test("a writer killed mid-stream: the reader gets whole messages, then EOF", async () => {
      using shm = freshRings();
      try {
        const p = new ctx.Process({ target: flood, args: [shm, 1_000_000] });
        p.start();
        const reader = new RingReader(shm.buffer, RING_B, () => (kind === "process" ? !pidAlive(p.pid!) : p.exitCode !== null));
        for (let i = 0; i < 50; i++) assert.deepEqual(await reader.recv({ timeout: 30_000 }), message(i));
        p.kill();
        let i = 50;
        await assert.rejects(async () => {
          for (;;) assert.deepEqual(await reader.recv({ timeout: 30_000 }), message(i++));
        }, { code: "ERR_EOF" });
        await p.join();
      } finally {
        shm.unlink();
      }
    });
  });
}

describe("ring in one process", () => {
  test("backpressure: a full ring blocks the writer until the reader drains it", async () => {
    const buffer = new SharedArrayBuffer(RING_B);
    initRing(buffer, 0, CAPACITY);
    const writer = new RingWriter(buffer, 0);
    const reader = new RingReader(buffer, 0);
    const big = new Uint8Array(CAPACITY / 2 - 4); // a frame of exactly half the ring
    await writer.send(big);
    await writer.send(big);
    await assert.rejects(writer.send(big, { timeout: 50 }), { code: "ERR_TIMEOUT" });
    const blocked = writer.send(big);
    let done = false;
    void blocked.then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false);
    assert.equal((await reader.recv()).length, big.length);
    await blocked;
    assert.equal((await reader.recv()).length, big.length);
    assert.equal((await reader.recv()).length, big.length);
    assert.equal(reader.available(), false);
  });

  test("tryRecvIn hands over every message whole: in place when it can, else a copy", async () => {
    const buffer = new SharedArrayBuffer(RING_B);
    initRing(buffer, 0, CAPACITY);
    const writer = new RingWriter(buffer, 0);
    const reader = new RingReader(buffer, 0);
    const take = (bytes: Uint8Array, start: number, end: number) => ({ got: bytes.slice(start, end), inPlace: bytes.buffer === buffer });
    assert.equal(reader.tryRecvIn(take), undefined);
    // Sizes that wrap around the ring's end, and ones over half the ring (fragments, a copy).
    const sizes = [0, 1, 5, 1000, 3000, 2044, 7, 2045, 9000, 13, 1500, 2600];
    const seen = new Set<boolean>();
    for (let round = 0; round < 3; round++) {
      for (const [i, size] of sizes.entries()) {
        const m = new Uint8Array(size).map((_, k) => (k * 7 + i + round) & 0xff);
        const sent = writer.send(m);
        let r = reader.tryRecvIn(take);
        // A fragmented message arrives piece by piece as the writer gets room.
        while (r === undefined) {
          await new Promise((resolve) => setImmediate(resolve));
          r = reader.tryRecvIn(take);
        }
        await sent;
        assert.deepEqual(r.got, m, `message of ${size} bytes`);
        seen.add(r.inPlace);
      }
    }
    assert.deepEqual([...seen].sort(), [false, true]);
    // What `use` throws comes out, and the message is consumed all the same.
    writer.sendSync(new Uint8Array([1, 2]));
    writer.sendSync(new Uint8Array([3]));
    assert.throws(
      () =>
        reader.tryRecvIn(() => {
          throw new Error("boom");
        }),
      /boom/,
    );
    assert.deepEqual(reader.tryRecvIn(take)?.got, new Uint8Array([3]));
  });

  test("recv timeouts, poll, aborts and EOF after close", async () => {
    const buffer = new SharedArrayBuffer(RING_B);
    initRing(buffer, 0, CAPACITY);
    const writer = new RingWriter(buffer, 0);
    const reader = new RingReader(buffer, 0);
    const started = performance.now();
    await assert.rejects(reader.recv({ timeout: 100 }), { code: "ERR_TIMEOUT" });
    assert.ok(performance.now() - started >= 99);
    assert.equal(await reader.poll(), false);
    const controller = new AbortController();
    const pending = reader.recv({ signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, { code: "ERR_ABORTED" });
    writer.sendSync(new Uint8Array([1, 2, 3]));
    assert.equal(await reader.poll({ timeout: 1000 }), true);
    const waiting = reader.recv();
    assert.deepEqual(await waiting, new Uint8Array([1, 2, 3]));
    const eof = reader.recv();
    writer.close();
    await assert.rejects(eof, { code: "ERR_EOF" });
    assert.equal(await reader.poll(), true);
    assert.throws(() => writer.sendSync(new Uint8Array(1)), { code: "ERR_CLOSED" });
    reader.close();
    await assert.rejects(reader.recv(), { code: "ERR_CLOSED" });
  });
});
