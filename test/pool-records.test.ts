// Pool maps over records (issue 15): records travel in the message codec as chunks of at most
// OBJECT_CHUNK_MAX items by default (numbers keep CPython's chunks), in order, under both
// contexts, with the shared references inside a chunk kept.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Pool } from "multiproc";
import { defaultChunksize, OBJECT_CHUNK_MAX } from "#internal/pool/chunking.js";
import { describeItem, Point, scale } from "./fixtures/own-classes.js";
import { CONTEXTS } from "./helpers.js";

describe("default chunks", () => {
  test("numbers keep CPython's ceil(n / 4 workers); objects are capped", () => {
    assert.equal(defaultChunksize(200_000, 2, 1), 25_000);
    assert.equal(defaultChunksize(200_000, 2), 25_000);
    assert.equal(defaultChunksize(50_000, 2, { id: 1 }), OBJECT_CHUNK_MAX);
    assert.equal(defaultChunksize(100, 2, { id: 1 }), 13);
    assert.equal(defaultChunksize(50_000, 2, { id: 1 }, Infinity), 6250);
  });
});

for (const method of CONTEXTS) {
  describe(`Pool.map over records (${method})`, () => {
    test("5,000 class instances in, 5,000 out, in order, across chunk boundaries", async () => {
      const pool = new Pool({ processes: 2, context: method });
      try {
        const xs = Array.from({ length: 5000 }, (_, i) => new Point(i, 0));
        const ys = await pool.starmap(scale, xs.map((p) => [p, 2] as [Point, number]));
        assert.equal(ys.length, 5000);
        for (let i = 0; i < ys.length; i += 997) assert.equal(describeItem(ys[i]), `Point ${2 * i}`);
        assert.ok(ys.every((p, i) => p instanceof Point && p.x === 2 * i));
      } finally {
        await pool.terminate();
      }
    });
  });
}
