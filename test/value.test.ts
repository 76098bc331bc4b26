// Value and RawValue: 2 processes x 20,000 locked `value += 1` exact, lock-free atomics, every
// typecode, the lock option, nesting in args, bad input; under each context and a mix.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCodes, Lock, RawValue, RLock, SharedArray, Value, type Typecode } from "multiproc";
import { atomicAdds, nested, valueIncrements } from "./fixtures/sync.js";
import { joinAll, MIXES, startAll } from "./sync-helpers.js";

for (const mix of MIXES) {
  describe(`Value (${mix.name})`, () => {
    test("2 children x 20,000 `value += 1` under getLock() are exact", async () => {
      using v = new Value("i", 0);
      const ps = startAll(mix.kinds, valueIncrements, [v, 20_000]);
      await joinAll(ps);
      assert.deepEqual(ps.map((p) => p.exitCode), [0, 0]);
      assert.equal(v.value, 40_000);
    });

    test("lock-free add on Value and RawValue is exact without any lock", async () => {
      using v = new Value("i", 0, { lock: false });
      using big = new RawValue("q", 0n);
      const ps = [...startAll(mix.kinds, atomicAdds, [v, 20_000]), ...startAll(mix.kinds, atomicAdds, [big, 20_000])];
      atomicAdds(v, 1_000);
      await joinAll(ps);
      assert.equal(v.value, 41_000);
      assert.equal(big.value, 40_000n);
    });

    test("objects nested in args at any depth are shared", async () => {
      using big = new Value("q", 21n);
      using chars = new SharedArray("c", "abcd");
      using f1 = new RawValue("f", 1);
      using f2 = new RawValue("f", 2);
      const payload = { deep: { values: [big, chars] as [Value<"q">, SharedArray<"c">] }, list: [f1, f2] };
      const [p] = startAll([mix.kinds[1]], nested, [payload]);
      await p!.join();
      assert.equal(p!.exitCode, 0);
      assert.equal(big.value, 42n);
      assert.deepEqual(chars.slice(), ["a", "x", "y", "z"]);
      assert.deepEqual([f1.value, f2.value], [1.5, 2.5]);
    });
  });
}

describe("Value in one thread", () => {
  test("every typecode and name round-trips its kind of value", () => {
    const cases: [Typecode, unknown][] = [
      ["b", -128], ["B", 255], ["h", -32768], ["H", 65535], ["i", -2147483648], ["I", 4294967295],
      ["l", -(1n << 63n)], ["L", (1n << 64n) - 1n], ["q", 123n], ["Q", 7n], ["f", 0.5], ["d", Math.PI], ["c", "z"],
      ["int8", 1], ["uint8", 2], ["int16", 3], ["uint16", 4], ["int32", 5], ["uint32", 6], ["int64", 7n], ["uint64", 8n],
      ["float32", 1.25], ["float64", 1e300],
    ];
    for (const [code, x] of cases) {
      using v = new Value(code, x as never);
      assert.equal(v.value, x, code);
      using r = new RawValue(code);
      assert.equal(r.value, code === "c" ? "\0" : typeof x === "bigint" ? 0n : 0, code);
    }
    using f = new Value("f", 0.1);
    assert.equal(f.value, Math.fround(0.1));
  });

  test("atomics return the previous value and wrap at the type's size", () => {
    using v = new Value("B", 250);
    assert.equal(v.add(10), 250);
    assert.equal(v.value, 4);
    assert.equal(v.sub(5), 4);
    assert.equal(v.value, 255);
    assert.equal(v.compareExchange(255, 7), 255);
    assert.equal(v.compareExchange(255, 9), 7);
    assert.equal(v.value, 7);
    using q = new RawValue("Q", 5n);
    assert.equal(q.add(1n), 5n);
    assert.equal(q.compareExchange(6n, 0n), 6n);
    assert.equal(q.value, 0n);
  });

  test("the lock option: an RLock by default, none, or a given Lock; a holder does not deadlock", () => {
    using v = new Value("d", 1.5);
    assert.ok(v.getLock() instanceof RLock);
    using raw = new Value("d", 0, { lock: false });
    assert.throws(() => raw.getLock(), { code: ErrorCodes.NO_LOCK });
    using lock = new Lock();
    using shared = new Value("i", 3, { lock });
    assert.equal(shared.getLock(), lock);
    lock.acquireSync();
    shared.value += 1; // holding a plain Lock: the access goes straight through
    lock.release();
    assert.equal(shared.value, 4);
    assert.equal(shared.getObj().value, 4);
    assert.equal(String(v), "Value('d', 1.5)");
  });

  test("bad input throws coded errors at the call", () => {
    assert.throws(() => new Value("x" as Typecode, 0), { code: ErrorCodes.INVALID_TYPECODE });
    assert.throws(() => new Value("i", 1.5), { code: ErrorCodes.INVALID_ARG_TYPE });
    assert.throws(() => new Value("i", 2 ** 31), { code: ErrorCodes.OUT_OF_RANGE });
    assert.throws(() => new Value("q", 1 as unknown as bigint), { code: ErrorCodes.INVALID_ARG_TYPE });
    assert.throws(() => new Value("c", "ab"), { code: ErrorCodes.INVALID_ARG_TYPE });
    assert.throws(() => new Value("d", "1" as unknown as number), { code: ErrorCodes.INVALID_ARG_TYPE });
    assert.throws(() => new Value("i", 0, { lock: {} as Lock }), { code: ErrorCodes.INVALID_ARG_TYPE });
    using v = new Value("i", 0);
    assert.throws(() => (v.value = -2147483649), { code: ErrorCodes.OUT_OF_RANGE });
    assert.throws(() => v.add(1.5), { code: ErrorCodes.INVALID_ARG_TYPE });
    using d = new Value("d", 0);
    assert.throws(() => (d as unknown as Value<"i">).add(1), { code: ErrorCodes.INVALID_TYPECODE });
    const closed = new RawValue("i", 1);
    closed.close();
    assert.throws(() => closed.value, { code: ErrorCodes.CLOSED });
  });
});
