// ShareableList on its own: CPython's byte layout (checked byte by byte here, and against python3
// itself in cpython-shm.test.ts), every item type, the limits, bad input, and lists passed to
// children under both contexts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCodes, getContext, ShareableList, SharedMemory, type ShareableItem } from "multiproc";
import { CONTEXTS } from "./helpers.js";
import { checkSameSegment, openAndSet, setItemAndReport } from "./fixtures/shared-memory.js";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const SEED = (): ShareableItem[] => ["howdy", bytes("HoWdY"), -273.154, 100, null, true, 42];

/** Runs `body` with a fresh list and unlinks it afterwards. */
function withList(items: Iterable<ShareableItem> | null, body: (list: ShareableList) => void): void {
  const list = new ShareableList(items);
  try {
    body(list);
  } finally {
    list.shm.unlink();
  }
}

describe("ShareableList", () => {
  test("seed 002's list: the exact bytes CPython lays out", () => {
    withList(SEED(), (list) => {
      // Built by hand from CPython's layout: count, 8 offsets, 7 slots, 7 formats, 7 type codes.
      const expected = Buffer.alloc(191);
      expected.writeBigInt64LE(7n, 0);
      for (let i = 0; i <= 7; i++) expected.writeBigInt64LE(BigInt(8 * i), 8 + 8 * i);
      const data = 72;
      expected.write("howdy", data);
      expected.write("HoWdY", data + 8);
      expected.writeDoubleLE(-273.154, data + 16);
      expected.writeBigInt64LE(100n, data + 24);
      expected[data + 47] = 1; // True in the slot's last byte; None's slot is all zero
      expected.writeBigInt64LE(42n, data + 48);
      ["8s", "8s", "d", "q", "xxxxxx?x", "xxxxxxx?", "q"].forEach((f, i) => expected.write(f, data + 56 + 8 * i, "latin1"));
      expected.set([1, 2, 0, 0, 3, 0, 0], data + 56 + 56);
      assert.equal(list.shm.size, 191);
      assert.deepEqual(Buffer.from(list.shm.buf), expected);
      assert.equal(list.format, "8s8sdqxxxxxx?xxxxxxxx?q");
    });
  });

  test("seed 002's walkthrough: types, get, set, type changes, the slot limit, index and count", () => {
    withList(SEED(), (a) => {
      assert.deepEqual(
        a.toArray().map((x) => (x === null ? "null" : x instanceof Uint8Array ? "bytes" : typeof x)),
        ["string", "bytes", "number", "number", "null", "boolean", "number"],
      );
      assert.equal(a.get(2), -273.154);
      a.set(2, -78.5);
      assert.equal(a.get(2), -78.5);
      a.set(2, "dry ice");
      assert.equal(a.get(2), "dry ice");
      assert.throws(() => a.set(2, "larger than previously allocated storage space"), { code: ErrorCodes.SHM_ITEM_TOO_LARGE });
      assert.equal(a.get(2), "dry ice");
      assert.equal(a.length, 7);
      assert.equal(a.index(42), 6);
      assert.equal(a.count(bytes("howdy")), 0);
      assert.equal(a.count(bytes("HoWdY")), 1);
      assert.equal(a.get(-1), 42);
      assert.equal(a.get(-7), "howdy");
      assert.deepEqual([...a], a.toArray());
      assert.match(String(a), /^ShareableList\(\[ 'howdy', .* 42 \], name='.*psm_[0-9a-f]{8}'\)$/);
    });
  });

  test("seed 002: a second instance opened by name sees the first one's writes, both ways", () => {
    withList([0, 1, 2, 3, 4], (b) => {
      const c = new ShareableList(null, { name: b.shm.name });
      assert.deepEqual(c.toArray(), [0, 1, 2, 3, 4]);
      c.set(-1, -999);
      assert.equal(b.get(-1), -999);
      b.set(0, "zero");
      assert.equal(c.get(0), "zero");
      c.shm.close();
    });
  });

  test("numbers: safe integers as int64, everything else as double, bigints as int64", () => {
    const items: ShareableItem[] = [0, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 1e300, -0, 0.5, Number.NaN, Infinity, -Infinity, 5n, 2n ** 63n - 1n, -(2n ** 63n)];
    withList(items, (list) => {
      assert.equal(list.format, "qqqqdddddddqqq");
      const got = list.toArray();
      assert.deepEqual(got.slice(0, 11), [0, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 1e300, -0, 0.5, Number.NaN, Infinity, -Infinity]);
      assert.ok(Object.is(got[6], -0));
      // A bigint that fits a safe integer reads back as a number; bigger ones stay bigints.
      assert.deepEqual(got.slice(11), [5, 2n ** 63n - 1n, -(2n ** 63n)]);
      // Through set too, overwriting every kind.
      for (let i = 0; i < items.length; i++) list.set(i, items[items.length - 1 - i]!);
      assert.deepEqual(list.toArray(), [-(2n ** 63n), 2n ** 63n - 1n, 5, -Infinity, Infinity, Number.NaN, 0.5, -0, 1e300, 2 ** 53, -(2 ** 53 - 1), 2 ** 53 - 1, -1, 0]);
      list.set(0, 2n ** 53n + 1n);
      assert.equal(list.get(0), 2n ** 53n + 1n);
      list.set(0, -(2n ** 53n) - 1n);
      assert.equal(list.get(0), -(2n ** 53n) - 1n);
    });
  });

  test("ints beyond int64 are refused with ERR_OUT_OF_RANGE, at creation and at set", () => {
    assert.throws(() => new ShareableList([2n ** 63n]), { code: ErrorCodes.OUT_OF_RANGE });
    assert.throws(() => new ShareableList([-(2n ** 63n) - 1n]), { code: ErrorCodes.OUT_OF_RANGE });
    withList([1], (list) => {
      assert.throws(() => list.set(0, 2n ** 64n), { code: ErrorCodes.OUT_OF_RANGE });
      assert.equal(list.get(0), 1);
    });
  });

  test("strings are UTF-8 in slots of 8 * (bytes / 8 + 1); bytes are copies; trailing NULs are stripped", () => {
    const items: ShareableItem[] = ["", "1234567", "12345678", "héllo wörld", "💥", bytes(""), new Uint8Array([0, 1, 0]), "a\0", bytes("b\0\0")];
    withList(items, (list) => {
      assert.equal(list.format, "8s8s16s16s8s8s8s8s8s");
      assert.deepEqual(list.toArray(), ["", "1234567", "12345678", "héllo wörld", "💥", bytes(""), new Uint8Array([0, 1]), "a", bytes("b")]);
      const got = list.get(6) as Uint8Array;
      got[0] = 9;
      assert.deepEqual(list.get(6), new Uint8Array([0, 1]), "get returns a copy, not a view of shared memory");
      assert.ok(!(got.buffer instanceof SharedArrayBuffer));
      // A slot may be filled exactly (no NUL left), but never past its size.
      list.set(2, "abcdefghijklmnop");
      assert.equal(list.get(2), "abcdefghijklmnop");
      assert.throws(() => list.set(2, "abcdefghijklmnopq"), { code: ErrorCodes.SHM_ITEM_TOO_LARGE });
      assert.throws(() => list.set(1, "ééééé"), { code: ErrorCodes.SHM_ITEM_TOO_LARGE }, "10 UTF-8 bytes do not fit 8");
      list.set(1, "éééé");
      assert.equal(list.get(1), "éééé");
      // A number slot (8 bytes) takes a string of up to 8 bytes, and a format "8s".
      list.set(0, 1);
      list.set(0, "xyz");
      assert.equal(list.get(0), "xyz");
      assert.equal(list.format.slice(0, 2), "8s");
      // A shorter value clears what a longer one left.
      list.set(3, "héllo wörld");
      list.set(3, "hi");
      assert.equal(list.get(3), "hi");
    });
    // Past 32 bytes strings go through Buffer rather than the JS loop: both ways agree.
    const long = "a".repeat(40);
    withList([long, "é".repeat(20)], (list) => {
      assert.deepEqual(list.toArray(), [long, "é".repeat(20)]);
      list.set(0, "b".repeat(47));
      list.set(1, "c".repeat(35));
      assert.deepEqual(list.toArray(), ["b".repeat(47), "c".repeat(35)]);
      list.set(0, "short");
      list.set(1, "ü".repeat(18));
      assert.deepEqual(list.toArray(), ["short", "ü".repeat(18)]);
      // Slot 0 starts after the count and 3 offsets: byte 32; its 48 bytes past "short" are NUL.
      assert.deepEqual([...list.shm.buf.subarray(32 + 5, 32 + 48)], new Array<number>(43).fill(0));
    });
  });

  test("the 8-character format caps a string or bytes item at 9,999,991 bytes", () => {
    assert.throws(() => new ShareableList(["x".repeat(9_999_992)]), { code: ErrorCodes.SHM_ITEM_TOO_LARGE });
    assert.throws(() => new ShareableList([new Uint8Array(9_999_992)]), { code: ErrorCodes.SHM_ITEM_TOO_LARGE });
    withList(["x".repeat(9_999_991)], (list) => {
      assert.equal(list.format, "9999992s");
      assert.equal((list.get(0) as string).length, 9_999_991);
    });
  });

  test("booleans and null", () => {
    withList([true, false, null], (list) => {
      assert.deepEqual(list.toArray(), [true, false, null]);
      list.set(0, null);
      list.set(1, true);
      list.set(2, false);
      assert.deepEqual(list.toArray(), [null, true, false]);
      assert.equal(list.format, "xxxxxx?xxxxxxxx?xxxxxxx?");
      assert.equal(list.count(1), 0, "booleans are not numbers here");
      assert.equal(list.index(false), 2);
    });
  });

  test("an empty list, and lists from any iterable", () => {
    withList(null, (list) => {
      assert.equal(list.length, 0);
      assert.equal(list.shm.size, 16);
      assert.deepEqual(list.toArray(), []);
      assert.equal(list.format, "");
      assert.throws(() => list.get(0), { code: ErrorCodes.OUT_OF_RANGE });
    });
    withList(new Set([1, 2]), (list) => assert.deepEqual(list.toArray(), [1, 2]));
  });

  test("index and count compare numbers with bigints by value and bytes by content", () => {
    withList([1, 5n, bytes("ab"), "ab", 1, Number.NaN], (list) => {
      assert.equal(list.count(1), 2);
      assert.equal(list.count(1n), 2);
      assert.equal(list.index(5), 1);
      assert.equal(list.index(bytes("ab")), 2);
      assert.equal(list.index("ab"), 3);
      assert.equal(list.count(Number.NaN), 0);
      assert.throws(() => list.index("nope"), { code: ErrorCodes.INVALID_ARG_VALUE });
    });
  });

  test("bad input: unsupported items, bad indexes, bad options, with codes and nothing changed", () => {
    for (const item of [undefined, {}, [], Symbol("s"), () => 1, new Int32Array(2), new Date(0)]) {
      assert.throws(() => new ShareableList([item as unknown as ShareableItem]), { code: ErrorCodes.INVALID_ARG_TYPE });
    }
    // A string is an iterable of its characters, as in CPython: ShareableList("howdy") holds five.
    withList("howdy", (list) => assert.deepEqual(list.toArray(), ["h", "o", "w", "d", "y"]));
    assert.throws(() => new ShareableList(42 as unknown as ShareableItem[]), { code: ErrorCodes.INVALID_ARG_TYPE });
    assert.throws(() => new ShareableList([], { name: 42 as unknown as string }), { code: ErrorCodes.INVALID_ARG_TYPE });
    assert.throws(() => new ShareableList(null, { name: `${process.env.MULTIPROC_SHM_PREFIX ?? ""}no_such_list` }), { code: ErrorCodes.SHM_NOT_FOUND });
    withList(["abc", 1], (list) => {
      assert.throws(() => list.set(0, undefined as unknown as ShareableItem), { code: ErrorCodes.INVALID_ARG_TYPE });
      assert.throws(() => list.set(0, new Float64Array(1) as unknown as ShareableItem), { code: ErrorCodes.INVALID_ARG_TYPE });
      assert.throws(() => list.get(2), { code: ErrorCodes.OUT_OF_RANGE });
      assert.throws(() => list.get(-3), { code: ErrorCodes.OUT_OF_RANGE });
      assert.throws(() => list.set(2, 1), { code: ErrorCodes.OUT_OF_RANGE });
      assert.throws(() => list.get(0.5), { code: ErrorCodes.INVALID_ARG_TYPE });
      assert.throws(() => list.get("0" as unknown as number), { code: ErrorCodes.INVALID_ARG_TYPE });
      assert.deepEqual(list.toArray(), ["abc", 1]);
    });
  });

  test("a segment that does not hold a list is refused with ERR_SHM_BAD_LAYOUT", () => {
    const shm = new SharedMemory({ create: true, size: 64 });
    try {
      new BigInt64Array(shm.buffer)[0] = 1000n;
      assert.throws(() => new ShareableList(null, { name: shm.name }), { code: ErrorCodes.SHM_BAD_LAYOUT });
      new BigInt64Array(shm.buffer)[0] = -1n;
      assert.throws(() => new ShareableList(null, { name: shm.name }), { code: ErrorCodes.SHM_BAD_LAYOUT });
      // One item whose slot offset runs past the end.
      new BigInt64Array(shm.buffer).set([1n, 0n, 4096n]);
      assert.throws(() => new ShareableList(null, { name: shm.name }), { code: ErrorCodes.SHM_BAD_LAYOUT });
      // A well-formed header whose type code is unknown: opening works, reading the item fails.
      new BigInt64Array(shm.buffer).set([1n, 0n, 8n]);
      shm.buf.set([9], 32 + 8);
      const list = new ShareableList(null, { name: shm.name });
      assert.throws(() => list.get(0), { code: ErrorCodes.SHM_BAD_LAYOUT });
    } finally {
      shm.unlink();
    }
    const tiny = new SharedMemory({ create: true, size: 8 });
    try {
      assert.throws(() => new ShareableList(null, { name: tiny.name }), { code: ErrorCodes.SHM_BAD_LAYOUT });
    } finally {
      tiny.unlink();
    }
  });

  test("after shm.close() every access throws ERR_CLOSED", () => {
    const list = new ShareableList([1, "a"]);
    list.shm.close();
    try {
      assert.throws(() => list.get(0), { code: ErrorCodes.CLOSED });
      assert.throws(() => list.set(0, 2), { code: ErrorCodes.CLOSED });
      assert.throws(() => list.toArray(), { code: ErrorCodes.CLOSED });
      assert.throws(() => list.format, { code: ErrorCodes.CLOSED });
      assert.equal(list.length, 2);
      assert.match(String(list), /<closed>/);
    } finally {
      list.shm.unlink();
    }
  });

  test("creating a list under a taken name throws ERR_SHM_EXISTS and leaves the other list alone", () => {
    withList([1], (list) => {
      assert.throws(() => new ShareableList([2], { name: list.shm.name }), { code: ErrorCodes.SHM_EXISTS });
      assert.equal(list.get(0), 1);
    });
  });

  for (const kind of CONTEXTS) {
    const ctx = getContext(kind);
    describe(`children (${kind})`, () => {
      test("a list passed to a child is the same list: the child's set is seen by the parent", async () => {
        const report = new SharedMemory({ create: true, size: 4096 });
        try {
          const list = new ShareableList(SEED());
          try {
            const p = new ctx.Process({ target: setItemAndReport, args: [list, 3, -1n, report] });
            p.start();
            await p.join();
            assert.equal(p.exitCode, 0);
            assert.equal(list.get(3), -1);
            const text = new TextDecoder().decode(report.buf.slice(0, report.buf.indexOf(0)));
            assert.deepEqual(JSON.parse(text), ["howdy", `bytes:${Buffer.from("HoWdY").toString("hex")}`, -273.154, -1, null, true, 42]);
          } finally {
            list.shm.unlink();
          }
        } finally {
          report.unlink();
        }
      });

      test("a list and its segment sent together arrive as one segment", async () => {
        const list = new ShareableList(["some text", 1]);
        try {
          const p = new ctx.Process({ target: checkSameSegment, args: [list, list.shm] });
          p.start();
          await p.join();
          assert.equal(p.exitCode, 0);
          assert.equal(list.get(0), "same");
        } finally {
          list.shm.unlink();
        }
      });

      test("a child opens a list by name and sets an item", async () => {
        const list = new ShareableList(["slot for sixteen", 0]);
        try {
          const p = new ctx.Process({ target: openAndSet, args: [list.shm.name, 0, "from the child"] });
          p.start();
          await p.join();
          assert.equal(p.exitCode, 0);
          assert.equal(list.get(0), "from the child");
        } finally {
          list.shm.unlink();
        }
      });
    });
  }
});
