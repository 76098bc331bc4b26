// Shared arenas (issue 21): small objects share a few segments instead of one each; a block is
// freed when its last holder anywhere lets go, never while a live or dead holder still has it;
// a million Values fit in one program; a failure to get shared memory names what ran out.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCodes, Event, getContext, Lock, Queue, SharedMemory, Value } from "multiproc";
import { arenaStats } from "#internal/shared/arena.js";
import { explainShmFailure } from "#internal/shared/shm-limits.js";
import { ProcessError } from "#internal/errors.js";
import { bumpAll, churn, outliveCreator } from "./fixtures/arena.js";
import { CONTEXTS, eventually, fixture, runNode, shmEntries } from "./helpers.js";

const tag = process.env.MULTIPROC_SHM_PREFIX ?? "";
const ours = () => [...shmEntries()].filter((n) => n.startsWith(tag) && n.includes("mpa_"));

/** Where a Value's number lives: its buffer and byte offset. */
function place(v: Value<"i">): [SharedArrayBuffer, number] {
  const view = v.getObj().view;
  return [view.buffer as SharedArrayBuffer, view.byteOffset];
}

describe("arenas in one program", () => {
  test("1,000,000 Values: a few arena segments, every one readable, all freed by close()", () => {
    const before = ours().length;
    const values: Value<"i">[] = [];
    for (let i = 0; i < 1_000_000; i++) values.push(new Value("i", i));
    const made = ours().length - before;
    assert.ok(made >= 1 && made <= 12, `${made} arena segments for a million Values`);
    for (let i = 0; i < values.length; i += 997) assert.equal(values[i]!.value, i);
    values[999_999]!.value += 1;
    assert.equal(values[999_999]!.value, 1_000_000);
    const live = arenaStats().live;
    for (const v of values) v.close();
    assert.ok(arenaStats().live <= live - 1_000_000, "closing every Value frees every block");
    // The freed blocks are reused: more Values make no new arena.
    const again = Array.from({ length: 200_000 }, (_, i) => new Value("i", i));
    // (An arena left empty may be unlinked meanwhile, so there can be fewer, never more.)
    const now = ours().length - before;
    assert.ok(now <= made, `${now} arena segments after reuse, ${made} before: freed blocks were not reused`);
    assert.equal(again[123_456]!.value, 123_456);
    for (const v of again) v.close();
  });

  test("a block is zeroed when reused, and one Value's view never aliases a live one", () => {
    const a = new Value("i", 7);
    const [buffer, offset] = place(a);
    a.close();
    const b = new Value("i");
    assert.equal(b.value, 0);
    const [buffer2, offset2] = place(b);
    assert.ok(buffer2 === buffer && offset2 === offset, "the freed block is the next one handed out");
    const c = new Value("i", 3);
    assert.notDeepEqual(place(c), place(b));
    b.close();
    c.close();
  });

  test("the lock of a Value keeps their block while either is open", () => {
    const v = new Value("i", 5);
    const lock = v.getLock();
    v.getObj().close(); // the data's user lets go; the lock still uses the block
    const other = new Value("i", 9);
    assert.ok(lock.acquireSync({ timeout: 1000 }));
    assert.equal(other.value, 9);
    lock.release();
    v.close();
    other.close();
  });

  test("a failure to get shared memory says what ran out, with a code", () => {
    const native = (errno: number, syscall: string) => Object.assign(new ProcessError("native", { code: "ERR_SHM_SYSCALL" }), { errno, syscall });
    const space = explainShmFailure(native(28, "posix_fallocate"), "/x", 4096);
    assert.equal(space.code, ErrorCodes.SHM_NO_SPACE);
    assert.match(space.message, /\/dev\/shm is full.*shm-size|size=/);
    const maps = explainShmFailure(native(12, "mmap"), "/x", 4096);
    assert.equal(maps.code, ErrorCodes.SHM_NO_MAPPINGS);
    assert.match(maps.message, /vm\.max_map_count/);
    assert.equal(explainShmFailure(native(24, "shm_open"), "/x").code, ErrorCodes.SHM_NO_SEGMENTS);
    assert.equal(explainShmFailure(native(28, "shm_open"), "/x").code, ErrorCodes.SHM_NO_SEGMENTS);
  });

  test("near vm.max_map_count, new segments fail with ERR_SHM_NO_MAPPINGS and the program goes on", async () => {
    // The limit is lowered for this one program (reaching the real one would take the machine's
    // memory): segments fail with a coded error, Values (arena blocks) still work.
    const r = await runNode(fixture("arena-map-limit.js"), { timeout: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /refused ERR_SHM_NO_MAPPINGS after \d+ segments/);
    assert.match(r.stdout, /100000 Values ok/);
  });
});

for (const kind of CONTEXTS) {
  describe(`arenas across children (${kind})`, () => {
    test("10,000 Values handed to a child: it maps each arena once, its writes are seen", async () => {
      const values = Array.from({ length: 10_000 }, () => new Value("i", 0));
      using mapped = new Value("i", 0);
      const before = ours().length;
      const p = new (getContext(kind).Process)({ target: bumpAll, args: [values, mapped] });
      p.start();
      await p.join();
      assert.equal(p.exitCode, 0);
      for (let i = 0; i < values.length; i++) assert.equal(values[i]!.value, i + 1);
      assert.ok(mapped.value >= 1 && mapped.value <= arenaStats().arenas + 1, `the child mapped ${mapped.value} arenas`);
      assert.ok(ours().length - before <= 1, "no segment per Value");
      for (const v of values) v.close();
    });

    test("a block outlives its creator's close() while a child holds it, and is freed after", async () => {
      const v = new Value("i", 41);
      using closed = new Event();
      using seen = new Value("i", 0);
      const [buffer, offset] = place(v);
      const p = new (getContext(kind).Process)({ target: outliveCreator, args: [v, closed, seen] });
      p.start();
      v.close();
      // While the child holds it, the block is not handed out again.
      const others = Array.from({ length: 64 }, () => new Value("i", -5));
      assert.ok(!others.some((o) => place(o)[0] === buffer && place(o)[1] === offset));
      closed.set();
      await p.join();
      assert.equal(p.exitCode, 0);
      assert.equal(seen.value, 42);
      for (const o of others) assert.equal(o.value, -5);
      // The child let go at its exit: the block is reused now.
      const fresh = Array.from({ length: 256 }, () => new Value("i", 0));
      assert.ok(fresh.some((o) => place(o)[0] === buffer && place(o)[1] === offset), "the block came back once its last holder let go");
      for (const o of [...others, ...fresh]) o.close();
    });
  });
}

describe("arenas and SIGKILL", () => {
  test("a child killed at random moments never frees a block another still uses", async () => {
    for (let round = 0; round < 12; round++) {
      const values = Array.from({ length: 200 }, (_, i) => new Value("i", 1000 + i));
      const lock = new Lock();
      const back = new Queue<Value<"i">>();
      const started = new Event();
      const places = values.map(place);
      const p = new (getContext("process").Process)({ target: churn, args: [values, lock, back, started] });
      p.start();
      assert.ok(await started.wait({ timeout: 60_000 }), "the victim started");
      await new Promise((r) => setTimeout(r, Math.random() * 40));
      p.kill(); // SIGKILL, as in Python
      await p.join();
      // The parent's Values are intact; those the victim sent back are readable.
      values.forEach((v, i) => assert.equal(v.value, 1000 + i));
      for (let got = back.getNowait.bind(back); ; ) {
        let v: Value<"i">;
        try {
          v = got();
        } catch {
          break;
        }
        assert.equal(v.value, -1);
        v.close();
      }
      // The dead child's references are never dropped: closing ours frees nothing it held.
      for (const v of values) v.close();
      const fresh = Array.from({ length: 400 }, () => new Value("i", 7));
      assert.ok(!fresh.some((f) => places.some(([b, o]) => place(f)[0] === b && place(f)[1] === o)), "a block the dead child held was reused");
      assert.ok(lock.acquireSync({ timeout: 5000 }), "the lock is free or taken over");
      lock.release();
      for (const f of fresh) f.close();
      lock.close();
      back.close();
      started.close();
    }
  });

  test("a SIGKILLed program leaks no arena: the tracker unlinks them", async () => {
    const r = await runNode(fixture("arena-creator.js"), { timeout: 60_000, env: { MULTIPROC_SHM_PREFIX: `${tag}killed_` } });
    assert.equal(r.signal, "SIGKILL");
    const names = r.stdout.trim().split("\n").filter((l) => l.includes("mpa_"));
    assert.ok(names.length >= 1, r.stdout + r.stderr);
    assert.ok(await eventually(() => names.every((n) => !shmEntries().has(n)), 10_000), `left behind: ${names.join(", ")}`);
  });
});

test("SharedMemory keeps its own CPython-style segment", () => {
  const shm = new SharedMemory({ create: true, size: 16 });
  try {
    assert.match(shm.name, /psm_[0-9a-f]{8}$/);
    assert.ok(shmEntries().has(shm.name.replace(/^\//, "")));
  } finally {
    shm.close();
    shm.unlink();
  }
});
