// Big binary data between processes: typed arrays over shared segments travel as names (both
// sides see each other's writes), large plain arrays are handed over through a fresh segment
// that the receiver adopts, and no segment is left behind.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCodes, getContext, SharedMemory } from "multiproc";
import { initRing, RingReader, ringSize } from "#internal/transport/ring.js";
import { dumps, loads } from "#internal/transport/serialize.js";
import { CONTEXTS, shmEntries } from "./helpers.js";
import { bumpAndReturn, doubleInPlace } from "./fixtures/binary.js";

// Narrow the run's name tag to this file's process, so files running alongside do not count.
const tag = `${process.env.MULTIPROC_SHM_PREFIX ?? ""}bin${process.pid}_`;
process.env.MULTIPROC_SHM_PREFIX = tag;
const mine = () => [...shmEntries()].filter((n) => n.startsWith(tag)).length;

function ring(): SharedMemory {
  const shm = new SharedMemory({ create: true, size: ringSize(1 << 16) });
  initRing(shm.buffer, 0, 1 << 16);
  return shm;
}

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);
  describe(`big binary data (${kind})`, () => {
    test("a 100 MiB Float64Array goes to a child and comes back correct", async () => {
      const before = mine();
      const rings = ring();
      try {
        const n = (100 << 20) / 8;
        const data = new Float64Array(n);
        for (let i = 0; i < n; i += 4096) data[i] = i;
        data[n - 1] = 0.5;
        const p = new ctx.Process({ target: bumpAndReturn, args: [rings, data] });
        p.start();
        const reply = loads(await new RingReader(rings.buffer, 0).recv({ timeout: 60_000 })) as { data: Float64Array; kind: string; shared: boolean };
        await p.join();
        assert.equal(p.exitCode, 0);
        assert.equal(reply.kind, "Float64Array");
        assert.equal(reply.data.length, n);
        for (let i = 0; i < n; i += 4096) assert.equal(reply.data[i], i + 1);
        assert.equal(reply.data[n - 1], 1.5);
        assert.equal(data[0], 0, "the sender's own array is untouched (a hand-over by copy)");
        if (kind === "process") assert.equal(reply.shared, true, "the child's copy should map a segment, not a socket copy");
      } finally {
        rings.unlink();
      }
      assert.equal(mine(), before, "every hand-over segment was removed");
    });

    test("a typed array over shared memory is shared: the parent sees the child's writes", async () => {
      using shm = new SharedMemory({ create: true, size: 8 << 20 });
      try {
        const view = new Float64Array(shm.buffer, 8, 1000);
        view.fill(21);
        const p = new ctx.Process({ target: doubleInPlace, args: [view] });
        p.start();
        await p.join();
        assert.equal(p.exitCode, 0);
        assert.deepEqual(new Set(view), new Set([42]));
        assert.equal(new Float64Array(shm.buffer)[0], 0, "only the view's range was touched");
      } finally {
        shm.unlink();
      }
    });
  });
}

describe("binary wire format", () => {
  test("kinds survive: Buffer, ArrayBuffer, DataView, BigInt64Array, small and large", () => {
    const before = mine();
    for (const size of [16, 2 << 20]) {
      const buf = Buffer.alloc(size, 7);
      const ab = new ArrayBuffer(size);
      new Uint8Array(ab)[size - 1] = 9;
      const dv = new DataView(new ArrayBuffer(size), 8);
      dv.setUint8(0, 5);
      const big = new BigInt64Array(size / 8).fill(-3n);
      const out = loads(dumps({ buf, ab, dv, big })) as { buf: Buffer; ab: ArrayBufferLike; dv: DataView; big: BigInt64Array };
      assert.ok(Buffer.isBuffer(out.buf));
      assert.equal(out.buf.length, size);
      assert.equal(out.buf[size - 1], 7);
      assert.equal(out.ab.byteLength, size);
      assert.equal(new Uint8Array(out.ab)[size - 1], 9);
      assert.ok(out.dv instanceof DataView);
      assert.equal(out.dv.byteLength, size - 8);
      assert.equal(out.dv.getUint8(0), 5);
      assert.ok(out.big instanceof BigInt64Array);
      assert.equal(out.big[out.big.length - 1], -3n);
    }
    assert.equal(mine(), before);
  });

  test("a SharedArrayBuffer multiproc did not make cannot be sent, and says how to", () => {
    assert.throws(() => dumps(new Int32Array(new SharedArrayBuffer(64))), { code: ErrorCodes.UNSERIALIZABLE, message: /SharedMemory/ });
  });
});
