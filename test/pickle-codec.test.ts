// The pickle codec (src/managers/pickle) against real CPython: what python3 pickles with protocols
// 2 to 5 reads as the spec's JS values, what we write python3 loads as the expected Python values,
// and what is outside the value set (or malformed, or beyond the limits) is refused with a code.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { ErrorCodes, SyncManager } from "multiproc";
import { unpickle } from "#internal/managers/pickle/reader.js";
import { pickle } from "#internal/managers/pickle/writer.js";
import { PyException, PyToken, PyTuple } from "#internal/managers/pickle/values.js";
import { INTERPRETERS, type Interpreter } from "./python-process.js";

function python(py: Interpreter, code: string, input?: Buffer): string {
  const r = spawnSync(py.command, ["-c", code], { env: py.env, input, encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${py.name} failed: ${r.stderr}`);
  return r.stdout;
}

const VALUES = `[None, True, False, 0, 255, 65535, -1, 2**31, 2**53 - 1, 2**53, -2**63, 2**100, 1.5, float("inf"), "", "héllo ✓",
  b"", b"\\x00\\xff", bytearray(b"ba"), [1, [2]], (1, (2,)), {"a": {"b": None}}, {1: "one", (1, 2): "pair"},
  {1, 2}, frozenset(["f"]), __import__("collections").OrderedDict(z=1), KeyError("k"),
  __import__("multiprocessing.managers").managers.Token("dict", ("127.0.0.1", 5), "7f")]`;

const EXPECTED: unknown[] = [
  null, true, false, 0, 255, 65535, -1, 2 ** 31, 2 ** 53 - 1, 2n ** 53n, -(2n ** 63n), 2n ** 100n, 1.5, Infinity, "", "héllo ✓",
  Buffer.alloc(0), Buffer.from([0, 0xff]), Buffer.from("ba"), [1, [2]], [1, [2]], { a: { b: null } }, new Map<unknown, string>([[1, "one"], [[1, 2], "pair"]]),
  new Set([1, 2]), new Set(["f"]), { z: 1 }, new PyException("builtins", "KeyError", ["k"]),
  new PyToken("dict", ["127.0.0.1", 5], "7f"),
];

describe("pickle codec against CPython", { skip: INTERPRETERS.length === 0 && "python3 is not installed" }, () => {
  for (const py of INTERPRETERS) {
    for (const protocol of [2, 3, 4, 5]) {
      test(`${py.name}: protocol ${protocol} pickles read as the spec's values`, () => {
        const hex = python(py, `import pickle, sys; sys.stdout.write(pickle.dumps(${VALUES}, ${protocol}).hex())`);
        const got = unpickle(Buffer.from(hex, "hex")) as unknown[];
        // Protocol 2 names builtins' exceptions after Python 2 (exceptions.KeyError).
        const expected = EXPECTED.map((v) => (v instanceof PyException && protocol === 2 ? new PyException("exceptions", "KeyError", ["k"]) : v));
        assert.deepEqual(got.map((v) => (v instanceof PyException ? { ...v } : v)), expected.map((v) => (v instanceof PyException ? { ...v } : v)));
      });
    }

    test(`${py.name}: what we write loads as the Python values`, () => {
      const value = [null, undefined, true, 0, -129, 2 ** 31, 2 ** 53 - 1, 2n ** 64n, -(2n ** 64n), 1.5, -0, NaN, "é✓", new Uint8Array([1, 2]), [1, [2]], new PyTuple([1, "t"]),
        { a: 1, __proto__x: 2 }, new Map<unknown, unknown>([[1, "one"], [[1, 2], "pair"]]), new Set([1, "s"]), Array.from({ length: 1500 }, (_, i) => i)];
      const shared = [7];
      value.push([shared, shared]);
      const out = python(py, "import pickle, sys; v = pickle.loads(sys.stdin.buffer.read()); v[19] = v[19] == list(range(1500)); v[18] = type(v[18]).__name__ + str(sorted(v[18], key=str)); print(repr(v)); print(v[-1][0] is v[-1][1])", pickle(value));
      assert.equal(
        out,
        "[None, None, True, 0, -129, 2147483648, 9007199254740991, 18446744073709551616, -18446744073709551616, 1.5, -0.0, nan, 'é✓', b'\\x01\\x02', [1, [2]], (1, 't'), " +
          "{'a': 1, '__proto__x': 2}, {1: 'one', (1, 2): 'pair'}, \"set[1, 's']\", True, [[7], [7]]]\nTrue\n",
      );
    });
  }
});

describe("pickle codec refusals", () => {
  const refused = (hex: string) => () => unpickle(Buffer.from(hex, "hex"));
  test("globals outside the set, and opcodes that would run or reference code, are ERR_PICKLE_REFUSED", () => {
    const global = (module: string, name: string) => Buffer.concat([Buffer.from([0x80, 4, 0x63]), Buffer.from(`${module}\n${name}\n`), Buffer.from("N\x85R.", "latin1")]);
    for (const [m, n] of [["os", "system"], ["builtins", "eval"], ["builtins", "getattr"], ["datetime", "datetime"], ["subprocess", "Popen"]]) {
      assert.throws(() => unpickle(global(m!, n!)), { code: ErrorCodes.PICKLE_REFUSED });
    }
    assert.throws(refused("80045000"), { code: ErrorCodes.PICKLE_REFUSED }); // PERSID is not read
    assert.throws(refused("8004820102"), { code: ErrorCodes.PICKLE_REFUSED }); // EXT1: the copyreg registry
    assert.throws(refused("800469"), { code: ErrorCodes.PICKLE_REFUSED }); // INST
  });

  test("malformed or oversized input is ERR_CORRUPT, and nothing is allocated from a length read", () => {
    for (const hex of ["", "80", "8001", "8004", "80044e", "8004ff2e", "80045dff", "8004580000008f2e", "8004430a0102", "80046800", "80042e"]) {
      assert.throws(refused(hex), { code: ErrorCodes.CORRUPT }, hex);
    }
    // A claimed 4 GiB string and an 8-byte length beyond the input.
    assert.throws(refused("800458ffffffff2e"), { code: ErrorCodes.CORRUPT });
    assert.throws(refused("80048dffffffffffffff7f2e"), { code: ErrorCodes.CORRUPT });
    // A sparse memo index stores one entry, not 2^32 slots.
    assert.deepEqual(unpickle(Buffer.from("80044e72ffffffff306affffffff2e", "hex")), null);
    // A LONG4 beyond the limit, and nesting beyond 1,000 levels (built flat through the memo).
    assert.equal(unpickle(Buffer.from("80048b00100000" + "00".repeat(4096) + "2e", "hex")), 0);
    assert.throws(refused("80048b01100000" + "00".repeat(4097) + "2e"), { code: ErrorCodes.CORRUPT });
    // Each step: a new list (memoized), the previous one fetched and appended to it, the new one popped.
    const nested = (n: number) =>
      Buffer.concat([Buffer.from([0x80, 4, 0x5d, 0x94]), ...Array.from({ length: n }, (_, i) => Buffer.from([0x5d, 0x94, 0x6a, ...u32(i), 0x61, 0x30])), Buffer.from([0x6a, ...u32(n), 0x2e])]);
    assert.ok(Array.isArray(unpickle(nested(900))));
    assert.throws(() => unpickle(nested(1200)), { code: ErrorCodes.CORRUPT });
  });

  test("values outside the set are ERR_UNSERIALIZABLE when written, naming where", () => {
    assert.throws(() => pickle({ a: [1, () => 1] }), (e: Error & { code?: string }) => e.code === ErrorCodes.UNSERIALIZABLE && e.message.includes("at the value[a][1]"));
    for (const v of [new Date(), Symbol("s"), new Float64Array(2), new (class X {})(), "\ud800"]) assert.throws(() => pickle(v), { code: ErrorCodes.UNSERIALIZABLE });
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    assert.equal(unpickle(pickle(cyclic)) !== undefined, true); // memoized: a cycle is written once
  });

  test("a manager's serializer must be one of the two", () => {
    assert.throws(() => new SyncManager({ serializer: "json" as "pickle" }), { code: ErrorCodes.INVALID_ARG_VALUE });
    assert.throws(() => new SyncManager().getServer({ serializer: "yaml" as "pickle" }), { code: ErrorCodes.INVALID_ARG_VALUE });
  });
});

function u32(n: number): number[] {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return [...b];
}
