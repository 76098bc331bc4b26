// SharedArray and RawArray: seed 001's negation in a child, ranges, views, iteration, every kind
// of element, bad input; under each context and a mix.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCodes, RawArray, RLock, SharedArray, Value, type Typecode } from "multiproc";
import { negate } from "./fixtures/sync.js";
import { MIXES, startAll } from "./sync-helpers.js";

for (const mix of MIXES) {
  describe(`SharedArray (${mix.name})`, () => {
    test("seed 001: a child sets pi and negates the array; the parent sees both", async () => {
      using num = new Value("d", 0);
      using arr = new SharedArray("i", Array.from({ length: 10 }, (_, i) => i));
      const [p] = startAll([mix.kinds[0]], negate, [num, arr]);
      await p!.join();
      assert.equal(p!.exitCode, 0);
      assert.equal(num.value, 3.1415927);
      assert.deepEqual(arr.slice(), [0, -1, -2, -3, -4, -5, -6, -7, -8, -9]);
      // A second child of the other kind negates it back.
      const [q] = startAll([mix.kinds[1]], negate, [num, arr]);
      await q!.join();
      assert.deepEqual([...arr], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });
  });
}

describe("SharedArray in one thread", () => {
  test("get/set with negative indices, ranges, slices, view and iteration", () => {
    using a = new SharedArray("h", 5);
    assert.equal(a.length, 5);
    assert.deepEqual(a.slice(), [0, 0, 0, 0, 0]);
    a.set(0, 7);
    a.set(-1, -9);
    assert.equal(a.get(-1), -9);
    a.set([1, 2, 3], 1);
    assert.deepEqual(a.slice(), [7, 1, 2, 3, -9]);
    assert.deepEqual(a.slice(1, -1), [1, 2, 3]);
    assert.deepEqual(a.slice(-2), [3, -9]);
    assert.ok(a.view instanceof Int16Array);
    a.view[2] = 20;
    assert.equal(a.get(2), 20);
    assert.deepEqual([...a], [7, 1, 20, 3, -9]);
    assert.ok(a.getLock() instanceof RLock);
    assert.equal(a.getObj().get(0), 7);
    assert.equal(String(a), "SharedArray('h', [7, 1, 20, 3, -9])");
  });

  test("bigint, float and char arrays; sequences of any iterable kind", () => {
    using q = new SharedArray("q", [1n, -2n]);
    assert.deepEqual(q.slice(), [1n, -2n]);
    assert.ok(q.view instanceof BigInt64Array);
    using f = new RawArray("f", new Float32Array([0.5, 1.5]));
    assert.deepEqual([...f], [0.5, 1.5]);
    using c = new SharedArray("c", "hello");
    c.set("J", 0);
    assert.deepEqual(c.slice().join(""), "Jello");
    assert.ok(c.view instanceof Uint8Array);
    using g = new RawArray("uint8", new Set([1, 2, 3]).values());
    assert.deepEqual(g.slice(), [1, 2, 3]);
    using empty = new SharedArray("d", 0, { lock: false });
    assert.deepEqual(empty.slice(), []);
    assert.throws(() => empty.getLock(), { code: ErrorCodes.NO_LOCK });
  });

  test("bad input throws coded errors at the call", () => {
    assert.throws(() => new SharedArray("z" as Typecode, 3), { code: ErrorCodes.INVALID_TYPECODE });
    assert.throws(() => new SharedArray("i", -1), { code: ErrorCodes.OUT_OF_RANGE });
    assert.throws(() => new SharedArray("i", 2.5), { code: ErrorCodes.INVALID_ARG_TYPE });
    assert.throws(() => new SharedArray("i", [1, "2" as unknown as number]), { code: ErrorCodes.INVALID_ARG_TYPE });
    assert.throws(() => new SharedArray("B", [256]), { code: ErrorCodes.OUT_OF_RANGE });
    assert.throws(() => new SharedArray("i", null as unknown as number), { code: ErrorCodes.INVALID_ARG_TYPE });
    using a = new SharedArray("i", 3);
    assert.throws(() => a.get(3), { code: ErrorCodes.OUT_OF_RANGE });
    assert.throws(() => a.get(-4), { code: ErrorCodes.OUT_OF_RANGE });
    assert.throws(() => a.get(1.5), { code: ErrorCodes.INVALID_ARG_TYPE });
    assert.throws(() => a.set(0, 1n as unknown as number), { code: ErrorCodes.INVALID_ARG_TYPE });
    assert.throws(() => a.set([1, 2, 3], 1), { code: ErrorCodes.OUT_OF_RANGE });
    assert.throws(() => a.slice(0.5), { code: ErrorCodes.INVALID_ARG_TYPE });
    assert.deepEqual(a.slice(), [0, 0, 0]);
  });
});
