// The message codec (transport/codec-*.ts, issue 15): what loads(dumps(x)) gives is exactly what
// V8's structured clone gives (v8.deserialize(v8.serialize(x))), checked on random values
// (fast-check) and on the cases random values rarely reach (shared and circular references,
// holes, extra keys on arrays, -0, lone surrogates, __proto__ keys, every typed array). What it
// refuses (functions, symbols) throws ERR_UNSERIALIZABLE at the send. Hostile bytes: the fuzzer
// (chaos/fuzz/parsers.ts fuzzCodec) and a few crafted frames. Across processes: test/queue.test.ts,
// pipe.test.ts and pool.test.ts send the same values through the real transports.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { inspect, isDeepStrictEqual } from "node:util";
import { deserialize, serialize } from "node:v8";
import fc from "fast-check";
import { ErrorCodes } from "multiproc";
import { dumps, dumpsList, dumpsV8, isCodec, loads } from "#internal/transport/serialize.js";
import { fuzzCodec } from "../chaos/fuzz/parsers.js";

const v8Clone = (x: unknown): unknown => deserialize(serialize(x));

/**
 * Structurally identical: V8 writes both the same way (key order, holes, -0, NaN, shared and
 * circular references, typed array contents), which isDeepStrictEqual does not all check. Both
 * pass through V8's clone first: its reader makes arrays V8's writer then writes in its sparse
 * form, whatever they held.
 */
function identical(a: unknown, b: unknown): boolean {
  return serialize(v8Clone(a)).equals(serialize(v8Clone(b)));
}

/** Values of the whole structured-clone set that fast-check knows, nested. */
const cloneable: fc.Arbitrary<unknown> = fc.anything({
  maxDepth: 4,
  maxKeys: 6,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withNullPrototype: true,
  withSparseArray: true,
  withObjectString: true,
});

const record = (i: number) => ({ id: i, name: `item-${i}`, score: i * 0.5, tags: ["a", "b"] });

function same(x: unknown): void {
  const bytes = dumps(x);
  const back = loads(bytes);
  assert.ok(identical(back, v8Clone(x)) && isDeepStrictEqual(Object.getPrototypeOf(back), Object.getPrototypeOf(v8Clone(x))), `codec and V8 differ on ${inspect(x)}`);
}

describe("message codec: fidelity against V8's structured clone", () => {
  test("random values of the structured-clone set come back as V8's clone gives them", () => {
    let codec = 0;
    fc.assert(
      fc.property(cloneable, (x) => {
        const bytes = dumps(x);
        if (isCodec(bytes)) codec++;
        return identical(loads(bytes), v8Clone(x)) && identical(loads(dumpsV8(x)), v8Clone(x));
      }),
      { numRuns: 3000, seed: 20261208 },
    );
    // The others are primitives (their own short form) or outside the codec's set (V8's format).
    assert.ok(codec > 500, `only ${codec} of 3000 values took the codec`);
  });

  test("records, arrays, strings, Maps and typed arrays take the codec and come back equal", () => {
    const values: unknown[] = [
      record(7),
      Array.from({ length: 64 }, (_, i) => record(i)),
      "item-12",
      "x".repeat(1000),
      "café ∑ 😀",
      new Map<unknown, unknown>([["a", 1], [2, { b: [1.5] }]]),
      new Set([1, "a", null]),
      new Float64Array([1.5, -0, NaN]),
      new Uint8Array([1, 2, 3]),
      new BigInt64Array([-(2n ** 63n), 5n]),
      Buffer.from("bytes"),
      new DataView(new Uint8Array([9, 8, 7]).buffer, 1, 2),
      new ArrayBuffer(7),
      new Date(1e12),
      new Date(NaN),
      /a+b/gimsuy,
      2n ** 200n,
      -(2n ** 65n),
      { nested: { deeper: { list: [null, undefined, true, false, 2 ** 31, -(2 ** 31), 127, 128, -1, 0.1] } } },
      Object.create(null) as object,
    ];
    for (const x of values) {
      const bytes = dumps(x);
      assert.ok(typeof x === "string" || isCodec(bytes), `${inspect(x)} did not take the codec`);
      same(x);
    }
    const buf = loads(dumps(Buffer.from("bytes")));
    assert.ok(Buffer.isBuffer(buf));
    assert.ok(loads(dumps(new DataView(new ArrayBuffer(2)))) instanceof DataView);
  });

  test("-0, NaN, undefined against holes, and extra keys on arrays are kept", () => {
    for (const x of [[-0], [NaN], [undefined], { a: -0 }]) same(x);
    const holes = [1, , 3]; // eslint-disable-line no-sparse-arrays
    const back = loads(dumps(holes)) as unknown[];
    assert.equal(back.length, 3);
    assert.ok(!(1 in back));
    assert.ok(0 in (loads(dumps([undefined])) as unknown[]));
    const extra = Object.assign([1, 2], { label: "x" });
    assert.equal((loads(dumps(extra)) as { label?: string }).label, "x");
    same(extra);
  });

  test("strings: ASCII of every length, UTF-8, lone surrogates, keys with quotes and __proto__", () => {
    for (let n = 0; n < 70; n++) same("a".repeat(n));
    for (const s of ["\ud800", "a\udc00b", "é".repeat(40), '"quoted" key', "\u0000"]) {
      same(s);
      same({ [s]: s });
      same([s, s]);
    }
    const proto = JSON.parse('{"__proto__": {"x": 1}, "a": 2}') as Record<string, unknown>;
    for (let i = 0; i < 10; i++) {
      const back = loads(dumps(proto)) as Record<string, unknown>;
      assert.equal(Object.getPrototypeOf(back), Object.prototype);
      assert.deepEqual(Object.keys(back), ["__proto__", "a"]);
    }
  });

  test("shared and circular references stay shared and circular", () => {
    const tags = ["a", "b"];
    const list = Array.from({ length: 100 }, (_, i) => ({ id: i, tags }));
    const back = loads(dumps(list)) as { tags: string[] }[];
    assert.ok(back.every((r) => r.tags === back[0]!.tags));
    const self: Record<string, unknown> = { name: "loop" };
    self.self = self;
    self.list = [self, new Map([[self, self]])];
    const c = loads(dumps(self)) as Record<string, unknown> & { list: [unknown, Map<unknown, unknown>] };
    assert.equal(c.self, c);
    assert.equal(c.list[0], c);
    assert.equal(c.list[1].get(c), c);
    const arr: unknown[] = [];
    arr.push(arr, arr);
    const a = loads(dumps(arr)) as unknown[];
    assert.equal(a[0], a);
    const view = new Uint8Array([1, 2]);
    const v = loads(dumps({ x: view, y: view })) as { x: Uint8Array; y: Uint8Array };
    assert.equal(v.x, v.y);
    // Many objects: past the writer's short list, its Map takes over.
    const many = Array.from({ length: 50 }, (_, i) => ({ i }));
    const twice = loads(dumps([...many, ...many].slice(0, 60))) as object[];
    assert.equal(twice[50], twice[0]);
  });

  test("a record stream keeps its shapes apart (same keys, another order; more keys)", () => {
    const shapes = [{ a: 1, b: 2 }, { b: 2, a: 1 }, { a: 1, b: 2, c: 3 }, { a: 1 }, {}, { 1: "x", a: 1 }];
    for (let round = 0; round < 10; round++) for (const s of shapes) same(s);
    const mixed = Array.from({ length: 40 }, (_, i) => shapes[i % shapes.length]);
    same(mixed);
    const wide = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
    same(wide);
  });

  test("a pool chunk of any length takes the codec (dumpsList) and reads back as the slice", () => {
    const items = Array.from({ length: 5000 }, (_, i) => record(i));
    const bytes = dumpsList(items, 100, 4100);
    assert.ok(isCodec(bytes));
    assert.deepEqual(loads(bytes), items.slice(100, 4100));
  });

  test("getters run once and a getter that sends a message meanwhile does not disturb it", () => {
    let calls = 0;
    const inner = {
      get g() {
        calls++;
        return loads(dumps({ deep: [1, 2] }));
      },
    };
    const back = loads(dumps({ a: 1, inner, b: "x" }));
    assert.equal(calls, 1);
    assert.deepEqual(back, { a: 1, inner: { g: { deep: [1, 2] } }, b: "x" });
  });

  test("functions and symbols throw ERR_UNSERIALIZABLE at the send, and the next send works", () => {
    for (const bad of [() => 1, Symbol("s"), { f() {} }, [1, Symbol("t")], new Map([[1, () => 2]])]) {
      assert.throws(() => dumps(bad), { code: ErrorCodes.UNSERIALIZABLE });
      assert.throws(() => v8Clone(bad));
    }
    same(record(1));
  });
});

describe("message codec: hostile bytes", () => {
  test("damaged and random messages are refused with ERR_CORRUPT, never a crash", () => {
    for (const seed of [20261208, Math.floor(Math.random() * 2 ** 31)]) {
      const v = fuzzCodec({ seed, scale: 0.03 });
      assert.equal(v.crashes, 0, `codec: ${v.crashes} untyped errors (seed ${seed}):\n${v.examples.join("\n")}`);
      assert.ok(v.refused > v.cases / 10);
    }
  });

  test("lengths larger than the message are refused before anything is allocated", () => {
    const huge = (tag: number) => Uint8Array.of(4, tag, 0xff, 0xff, 0xff, 0xff, 0x0f);
    for (const tag of [0x89, 0x8a, 0x8c, 0x8d, 0x8e, 0x91, 0x92]) assert.throws(() => loads(huge(tag)), { code: ErrorCodes.CORRUPT });
    assert.throws(() => loads(Uint8Array.of(4, 0x86, 0xff, 0xff, 0xff, 0x7f)), { code: ErrorCodes.CORRUPT });
    assert.throws(() => loads(Uint8Array.of(4, 0x94, 0)), { code: ErrorCodes.CORRUPT }); // a REF with nothing before it
    assert.throws(() => loads(Uint8Array.of(4, 0x8b, 0)), { code: ErrorCodes.CORRUPT }); // a shape never defined
    const deep = new Uint8Array(2 + 1000).fill(0x89);
    deep[0] = 4;
    for (let i = 1; i < deep.length; i += 2) deep[i + 1] = 1;
    assert.throws(() => loads(deep), { code: ErrorCodes.CORRUPT });
    assert.throws(() => loads(Uint8Array.of(4, 0x93, 6, 3, 1, 2, 3)), { code: ErrorCodes.CORRUPT }); // 3 bytes of Int32
  });
});
