// Byte compatibility with CPython, both ways, against a live python3 on the same segments:
// SharedMemory bytes, ShareableList items of every type, the size limits, and random lists
// (fast-check). The Python peer unregisters every segment from its resource tracker, so only this
// test unlinks them.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { ErrorCodes, ShareableList, SharedMemory, type ShareableItem } from "multiproc";
import { fromPython, PYTHON_MISSING, PythonPeer, toPython, type Tagged } from "./python.js";

const PREFIX = process.env.MULTIPROC_SHM_PREFIX ?? "";
let counter = 0;
function freshName(): string {
  return `${PREFIX}pyshm_${process.pid}_${counter++}`;
}
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (s: string): string => Buffer.from(s).toString("hex");
/** What a value reads back as on either side: trailing NULs of strings and bytes are stripped. */
function stripped(item: ShareableItem): ShareableItem {
  if (typeof item === "string") return item.replace(/\0+$/, "");
  if (item instanceof Uint8Array) {
    let end = item.length;
    while (end > 0 && item[end - 1] === 0) end--;
    return item.slice(0, end);
  }
  return typeof item === "bigint" ? fromPython(toPython(item)) : item;
}

describe("CPython interop", { skip: PYTHON_MISSING }, () => {
  let py: PythonPeer;
  before(() => {
    py = new PythonPeer();
  });
  after(() => py.close());

  // What Python reads: `tagged` keeps Python's types (int or float), `items` is what they read as here.
  const readPy = async (name: string): Promise<{ items: ShareableItem[]; tagged: Tagged[]; format: string; repr: string }> => {
    const r = await py.call({ op: "sl_read", name });
    const tagged = r.items as Tagged[];
    return { items: tagged.map(fromPython), tagged, format: r.format as string, repr: r.repr as string };
  };
  /** The Python values a list of ours must read as there. */
  const asPython = (items: ShareableItem[]): Tagged[] => items.map((v) => toPython(stripped(v)));

  describe("SharedMemory", () => {
    test("Python reads the bytes we wrote and writes bytes we read", async () => {
      const shm = new SharedMemory({ create: true, size: 10 });
      try {
        shm.buf.set(bytes("howdy"));
        const r = await py.call({ op: "shm_read", name: shm.name, length: 5 });
        assert.equal(r.hex, hex("howdy"));
        assert.equal(r.size, 10);
        await py.call({ op: "shm_write", name: shm.name, offset: 5, hex: hex("HoWdY") });
        assert.equal(Buffer.from(shm.buf).toString(), "howdyHoWdY");
      } finally {
        shm.unlink();
      }
    });

    test("Python attaches with a leading '/' as well", async () => {
      const shm = new SharedMemory({ create: true, size: 8 });
      try {
        shm.buf.set([1, 2, 3]);
        assert.equal((await py.call({ op: "shm_read", name: `/${shm.name}`, length: 3 })).hex, "010203");
      } finally {
        shm.unlink();
      }
    });

    test("we attach to a segment Python created (named by us, or by Python) and both see the writes", async () => {
      for (const name of [freshName(), undefined]) {
        const r = await py.call({ op: "shm_create", size: 4096, ...(name === undefined ? {} : { name }) });
        const pyName = r.name as string;
        if (name === undefined) assert.match(pyName, /^psm_[0-9a-f]{8}$/);
        else assert.equal(pyName, name);
        const shm = new SharedMemory(pyName);
        try {
          assert.equal(shm.size, 4096);
          await py.call({ op: "shm_write", name: pyName, offset: 100, hex: hex("from python") });
          assert.equal(Buffer.from(shm.buf.subarray(100, 111)).toString(), "from python");
          shm.buf.set(bytes("from node"), 200);
          assert.equal((await py.call({ op: "shm_read", name: pyName, offset: 200, length: 9 })).hex, hex("from node"));
          assert.throws(() => new SharedMemory({ name: pyName, create: true, size: 8 }), { code: ErrorCodes.SHM_EXISTS });
        } finally {
          shm.unlink();
        }
      }
    });

    test("Python's errors for our names: a missing one, and a taken one", async () => {
      const shm = new SharedMemory({ create: true, size: 8 });
      try {
        const taken = await py.request({ op: "shm_create", name: shm.name, size: 8 });
        assert.equal(taken.error, "FileExistsError");
      } finally {
        shm.unlink();
      }
      const missing = await py.request({ op: "shm_read", name: shm.name, length: 1 });
      assert.equal(missing.error, "FileNotFoundError");
    });
  });

  describe("ShareableList", () => {
    test("Python opens our list and sees seed 002's items, then our later sets", async () => {
      const list = new ShareableList(["howdy", bytes("HoWdY"), -273.154, 100, null, true, 42]);
      try {
        const first = await readPy(list.shm.name);
        assert.equal(first.repr, "['howdy', b'HoWdY', -273.154, 100, None, True, 42]");
        assert.equal(first.format, list.format);
        list.set(2, "dry ice");
        list.set(3, -(2n ** 63n));
        list.set(4, 1.5);
        list.set(5, false);
        list.set(6, null);
        list.set(0, bytes("bytes"));
        list.set(1, 2n ** 63n - 1n);
        const later = await readPy(list.shm.name);
        assert.equal(later.repr, "[b'bytes', 9223372036854775807, 'dry ice', -9223372036854775808, 1.5, False, None]");
        assert.equal(later.format, list.format);
      } finally {
        list.shm.unlink();
      }
    });

    test("Python writes every item type into our list and we read them", async () => {
      const list = new ShareableList(["a sixteen b slot", 0, 0, 0, 0, 0, 0, "x"]);
      try {
        const values: ShareableItem[] = ["héllo", bytes("\x01\x02"), -0.25, 2n ** 62n, null, true, 9007199254740993n, "12345678"];
        for (let i = 0; i < values.length; i++) await py.call({ op: "sl_set", name: list.shm.name, index: i, value: toPython(values[i]!) });
        assert.deepEqual(list.toArray(), values.map(stripped));
        assert.equal(list.format, (await readPy(list.shm.name)).format);
        // Python's limits on our list: a value longer than its slot, an int beyond int64.
        const tooLong = await py.request({ op: "sl_set", name: list.shm.name, index: 7, value: { str: "123456789" } });
        assert.equal(tooLong.error, "ValueError");
        assert.deepEqual(list.toArray(), values.map(stripped));
        // CPython 3.11 writes the new format before packing the value, so a failed int set
        // leaves the item changed (it reads 0); whatever it left, both sides must read the same.
        const tooBig = await py.request({ op: "sl_set", name: list.shm.name, index: 1, value: { int: String(2n ** 63n) } });
        assert.equal(tooBig.error, "error"); // struct.error
        assert.deepEqual(list.toArray(), (await readPy(list.shm.name)).items);
      } finally {
        list.shm.unlink();
      }
    });

    test("we open a list Python created, read every type, write, and Python sees our writes", async () => {
      const items: Tagged[] = [
        { str: "howdy" },
        { bytes: hex("HoWdY") },
        { float: Buffer.from(new Float64Array([-273.154]).buffer).toString("hex") },
        { int: "100" },
        null,
        { bool: true },
        { int: "42" },
        { int: String(2n ** 63n - 1n) },
        { int: String(-(2n ** 63n)) },
        { int: String(2n ** 53n) },
        { float: "000000000000f87f" }, // NaN
        { float: "000000000000f07f" }, // inf
        { float: "0000000000000080" }, // -0.0
        { str: "" },
        { bytes: "" },
        { str: "abcdefgh" },
        { str: "ü".repeat(5) }, // CPython 3.11 sizes this slot by characters (gh-88336)
        { bytes: "6162000000" },
      ];
      const name = freshName();
      const created = await py.call({ op: "sl_create", name, items });
      const list = new ShareableList(null, { name });
      try {
        assert.equal(list.length, items.length);
        assert.equal(list.format, created.format);
        const python = await readPy(name);
        assert.deepEqual(list.toArray(), python.items, "both sides read the same items");
        assert.deepEqual(list.toArray().slice(0, 16), [
          "howdy", bytes("HoWdY"), -273.154, 100, null, true, 42, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n, Number.NaN, Infinity, -0, "", new Uint8Array(0), "abcdefgh",
        ]);
        assert.deepEqual(list.get(-1), bytes("ab"));
        // Our writes, every type into every kind of slot.
        const writes: ShareableItem[] = [1, "x", bytes("bytes!!!"), null, -1.5, 2n ** 63n - 1n, false, "seven b", true, Number.NaN, -0, 7, "", new Uint8Array([0, 255]), "ab\0", "16 bytes exactly", 3, 0.1];
        writes.forEach((v, i) => list.set(i, v));
        const after = await readPy(name);
        assert.deepEqual(after.tagged, asPython(writes));
        assert.equal(after.format, list.format);
        // The same limits as Python's on Python's list.
        assert.throws(() => list.set(15, "17 bytes exactly!"), { code: ErrorCodes.SHM_ITEM_TOO_LARGE });
        assert.throws(() => list.set(0, 2n ** 63n), { code: ErrorCodes.OUT_OF_RANGE });
        assert.deepEqual((await readPy(name)).items, writes.map(stripped));
      } finally {
        list.shm.unlink();
      }
    });

    test("Python's index and count on our list agree with ours", async () => {
      const list = new ShareableList(["a", 1, bytes("b"), 1, null, 2.5]);
      try {
        for (const value of ["a", 1, bytes("b"), null, 2.5] as ShareableItem[]) {
          const r = await py.call({ op: "sl_index", name: list.shm.name, value: toPython(value) });
          assert.equal(r.index, list.index(value));
          assert.equal(r.count, list.count(value));
        }
      } finally {
        list.shm.unlink();
      }
    });

    test("the slot limit at its edge: a full slot without NUL, then one byte more, both ways", async () => {
      const list = new ShareableList(["1234567"]);
      try {
        list.set(0, "12345678");
        assert.equal((await readPy(list.shm.name)).items[0], "12345678");
        assert.throws(() => list.set(0, "123456789"), { code: ErrorCodes.SHM_ITEM_TOO_LARGE });
        assert.equal((await py.request({ op: "sl_set", name: list.shm.name, index: 0, value: { bytes: "00".repeat(9) } })).error, "ValueError");
        await py.call({ op: "sl_set", name: list.shm.name, index: 0, value: { bytes: hex("abcdefgh") } });
        assert.deepEqual(list.get(0), bytes("abcdefgh"));
      } finally {
        list.shm.unlink();
      }
    });

    // Random lists of every item type, round-tripped both ways.
    const item: fc.Arbitrary<ShareableItem> = fc.oneof(
      fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
      fc.double(),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.boolean(),
      fc.constant(null),
      fc.string({ unit: "binary", maxLength: 48 }),
      fc.uint8Array({ maxLength: 48 }),
    );

    test("property: random lists we create read the same in Python", async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(item, { maxLength: 12 }), async (items) => {
          const list = new ShareableList(items);
          try {
            const python = await readPy(list.shm.name);
            assert.deepEqual(python.tagged, asPython(items));
            assert.equal(python.format, list.format);
          } finally {
            list.shm.unlink();
          }
        }),
        { numRuns: 60 },
      );
    });

    test("property: random lists Python creates read the same here, and our random sets read the same there", async () => {
      // CPython 3.11 truncates non-ASCII strings in lists it creates (gh-88336): ASCII only there.
      const pyItem = fc.oneof(item.filter((v) => typeof v !== "string"), fc.string({ unit: "binary-ascii", maxLength: 48 }));
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(pyItem, item), { minLength: 1, maxLength: 12 }), async (pairs) => {
          const name = freshName();
          await py.call({ op: "sl_create", name, items: pairs.map(([v]) => toPython(v)) });
          const list = new ShareableList(null, { name });
          try {
            assert.deepEqual(list.toArray(), pairs.map(([v]) => stripped(v)));
            const expected = list.toArray();
            pairs.forEach(([, v], i) => {
              try {
                list.set(i, v);
                expected[i] = stripped(v);
              } catch (err) {
                assert.equal((err as { code?: string }).code, ErrorCodes.SHM_ITEM_TOO_LARGE);
              }
            });
            assert.deepEqual((await readPy(name)).tagged, asPython(expected));
          } finally {
            list.shm.unlink();
          }
        }),
        { numRuns: 60 },
      );
    });
  });
});
