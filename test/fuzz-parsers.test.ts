// Fuzzing, short: the byte parsers that read what another process wrote (messages, manager
// requests, CPython framing, pool frames, rings, ShareableList headers) on a few thousand damaged
// inputs each, from a fixed seed and from a random one (FUZZ_SEED=n replays it). `npm run chaos`
// runs the same fuzzers at 10^5 cases each. Then the bugs the fuzzers found, one test each.
import assert from "node:assert/strict";
import { closeSync, existsSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import { describe, test } from "node:test";
import { ErrorCodes, getContext, SharedMemory } from "multiproc";
import { decodeBatch, decodeReply, RESULT_RING_CAPACITY, RESULT_RING_OFFSET, SEGMENT_BYTES } from "#internal/pool/protocol.js";
import { initRing, RING_HEADER_BYTES, RingReader, RingWriter } from "#internal/transport/ring.js";
import { dumps, handleTypesOf, loads, loadsAsync } from "#internal/transport/serialize.js";
import type { Verdicts } from "../chaos/fuzz/common.js";
import { fuzzFraming, fuzzManagerRequests, fuzzMessages, fuzzPoolFrames } from "../chaos/fuzz/parsers.js";
import { fuzzRing, fuzzShareableList } from "../chaos/fuzz/shared.js";
import { fuzzPickles } from "../chaos/fuzz/pickle.js";
import { slowSqr, sqr } from "./fixtures/pool-targets.js";

const FIXED_SEED = 20261123;
const RANDOM_SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SCALE = 0.02; // 2,000 cases per parser and seed

function noCrashes(v: Verdicts): void {
  assert.equal(v.crashes, 0, `${v.name}: ${v.crashes} untyped errors (replay with FUZZ_SEED=${v.seed}):\n${v.examples.join("\n")}`);
  assert.equal(v.cases, v.parsed + v.refused + v.crashes);
  assert.ok(v.refused > v.cases / 10, `${v.name}: only ${v.refused} of ${v.cases} inputs refused: is the damage reaching the parser?`);
}

describe("fuzzing (short)", () => {
  for (const seed of [FIXED_SEED, RANDOM_SEED]) {
    test(`messages (serialize.loads), seed ${seed}`, () => noCrashes(fuzzMessages({ seed, scale: SCALE })));
    test(`manager requests (loads + shape check), seed ${seed}`, () => noCrashes(fuzzManagerRequests({ seed, scale: SCALE })));
    test(`CPython framing in random chunks, seed ${seed}`, () => noCrashes(fuzzFraming({ seed, scale: SCALE })));
    test(`pool frames (both directions), seed ${seed}`, () => noCrashes(fuzzPoolFrames({ seed, scale: SCALE })));
    test(`pickles from CPython peers (managers/pickle reader), seed ${seed}`, () => noCrashes(fuzzPickles({ seed, scale: SCALE })));
    test(`ring frames and header, seed ${seed}`, () => {
      const r = fuzzRing({ seed, scale: SCALE });
      noCrashes(r.verdicts);
      assert.equal(r.notRecovered, 0, `ring: the reader did not read the next message after damage ${r.notRecovered} times (FUZZ_SEED=${seed}):\n${r.verdicts.examples.join("\n")}`);
      assert.ok(r.recovered > 0);
      assert.equal(r.badConstructs, 0);
    });
    test(`ShareableList header and slots, seed ${seed}`, async () => noCrashes(await fuzzShareableList({ seed, scale: SCALE / 2 })));
  }
});

describe("regressions found by fuzzing", () => {
  test("loads: V8's errors on bad bytes become ERR_CORRUPT", async () => {
    const good = dumps({ a: [1, 2, 3] });
    for (const bad of [new Uint8Array(0), Uint8Array.of(0), Uint8Array.of(9, 1), good.subarray(0, good.length - 3), Uint8Array.of(0, 0xff, 0x0f, 0x6f, 0x22), Uint8Array.of(2, 4, 1)]) {
      assert.throws(() => loads(bad), { code: ErrorCodes.CORRUPT });
      await assert.rejects(loadsAsync(bad), { code: ErrorCodes.CORRUPT });
    }
    // A handle list that is not JSON, and an "error" handle whose state is not an error's.
    const badList = Buffer.concat([Uint8Array.of(1, 3, 0), Buffer.from("[1}"), dumps(1).subarray(1)]);
    assert.deepEqual(handleTypesOf(badList), []);
    assert.throws(() => loads(badList), { code: ErrorCodes.CORRUPT });
    const withError = dumps({ e: new Error("x") });
    const forged = Buffer.from(withError.toString("latin1").replace("message", "massage"), "latin1");
    assert.doesNotThrow(() => loads(forged)); // still a (strange) error: not corrupt
  });

  test("pool frames: a truncated or unknown frame is ERR_CORRUPT, not a RangeError", () => {
    for (const bad of [Uint8Array.of(2, 0), Uint8Array.of(1, 0, 0, 0, 3, 1, 0), Uint8Array.of(1, 0, 0, 0, 99), Uint8Array.of(255, 255, 255, 255, 5)]) {
      assert.throws(() => decodeBatch(bad), { code: ErrorCodes.CORRUPT });
    }
    for (const bad of [new Uint8Array(0), Uint8Array.of(18, 1), Uint8Array.of(99)]) assert.throws(() => decodeReply(bad), { code: ErrorCodes.CORRUPT });
  });

  function ring(capacity = 1024): { sab: SharedArrayBuffer; writer: RingWriter; reader: RingReader; data32: Int32Array } {
    const sab = new SharedArrayBuffer(RING_HEADER_BYTES + capacity);
    initRing(sab, 0, capacity);
    return { sab, writer: new RingWriter(sab, 0), reader: new RingReader(sab, 0), data32: new Int32Array(sab, RING_HEADER_BYTES, capacity / 4) };
  }

  test("ring: a frame length past what was published is refused (it allocated up to 512 MiB) and the next message reads", () => {
    const { writer, reader, data32 } = ring();
    writer.trySend(Uint8Array.of(1, 2, 3));
    data32[0] = 0x1fffffff;
    assert.throws(() => reader.tryRecv(), { code: ErrorCodes.CORRUPT });
    assert.equal(reader.tryRecv(), undefined);
    writer.trySend(Uint8Array.of(4, 5));
    assert.deepEqual([...reader.tryRecv()!], [4, 5]);
  });

  test("ring: endless fragments are refused (they piled up until the heap ran out)", () => {
    const { sab, writer, reader } = ring();
    const words = new Int32Array(sab, 0, RING_HEADER_BYTES / 4);
    const data32 = new Int32Array(sab, RING_HEADER_BYTES, 1024 / 4);
    // A writer that keeps announcing "more": 1 MiB of fragments is more than any inline message.
    assert.throws(() => {
      for (let i = 0; i < 5000; i++) {
        const tail = Atomics.load(words, 16);
        data32[(tail & 1023) >> 2] = 0x40000000 | 508;
        Atomics.store(words, 16, (tail + 512) | 0);
        reader.tryRecv();
      }
    }, { code: ErrorCodes.CORRUPT });
    writer.trySend(Uint8Array.of(7));
    assert.deepEqual([...reader.tryRecv()!], [7]);
  });

  test("ring: an out-of-line frame naming another segment does not unlink it", () => {
    const { writer, reader, data32 } = ring();
    const victim = new SharedMemory({ create: true, size: 4096 });
    try {
      const ref = new TextEncoder().encode(`/${victim.name.replace(/^\//, "")}\n${2 << 20}`);
      writer.trySend(ref);
      data32[0] = 0x20000000 | ref.length; // the same bytes, flagged out of line
      assert.throws(() => reader.tryRecv(), { code: ErrorCodes.CORRUPT });
      assert.ok(existsSync(`/dev/shm/${victim.name.replace(/^\//, "")}`), "the victim segment was unlinked");
    } finally {
      victim.close();
      victim.unlink();
    }
  });

  test("ring: a damaged capacity word is refused when a reader or writer opens the ring", () => {
    const { sab } = ring();
    new Int32Array(sab, 0, 64)[37] = 1 << 20;
    assert.throws(() => new RingReader(sab, 0), { code: ErrorCodes.CORRUPT });
    assert.throws(() => new RingWriter(sab, 0), { code: ErrorCodes.CORRUPT });
  });

  /** Writes `header` as the next frame of a pool worker's result ring, through this process's mapping of its segment. */
  function damagePoolReply(header: number): void {
    const pages = Math.ceil(SEGMENT_BYTES / 4096) * 4096;
    const prefix = `/dev/shm/${process.env.MULTIPROC_SHM_PREFIX ?? ""}mp_`;
    const range = readFileSync("/proc/self/maps", "utf8")
      .split("\n")
      .filter((l) => l.includes(prefix))
      .map((l) => l.split(" ")[0]!)
      .find((r) => {
        const [a, b] = r.split("-").map((h) => parseInt(h, 16));
        return b! - a! === pages;
      });
    assert.ok(range !== undefined, "the worker's segment is not mapped here");
    const fd = openSync(`/proc/self/map_files/${range}`, "r+");
    try {
      const word = Buffer.alloc(4);
      readSync(fd, word, 0, 4, RESULT_RING_OFFSET + 64);
      const tail = word.readInt32LE(0);
      word.writeInt32LE(header, 0);
      writeSync(fd, word, 0, 4, RESULT_RING_OFFSET + RING_HEADER_BYTES + (tail & (RESULT_RING_CAPACITY - 1)));
      word.writeInt32LE((tail + 8) | 0, 0);
      writeSync(fd, word, 0, 4, RESULT_RING_OFFSET + 64);
    } finally {
      closeSync(fd);
    }
  }

  test("pool: a reply frame damaged in shared memory costs that worker, not the parent (it threw out of the read loop)", async () => {
    await using pool = new (getContext("process").Pool)(1);
    assert.equal(await pool.apply(sqr, [3]), 9);
    const running = pool.apply(slowSqr, [2, 2000]);
    damagePoolReply(0x1fffffff);
    // The task ran on the worker that was killed (WorkerLostError) or had not begun (run again).
    const outcome = await running.then(
      (v) => v,
      (err: { code?: string }) => err.code,
    );
    assert.ok(outcome === 4 || outcome === ErrorCodes.WORKER_LOST, String(outcome));
    assert.equal(await pool.apply(sqr, [5]), 25);
  });
});
