// Managers: SyncManager's shared types through async proxies across real processes, registered
// classes, nested proxies, reference counting, remote managers over TCP with keys, and bad input.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AuthenticationError, BaseManager, Client, Empty, ErrorCodes, getContext, Manager, RemoteError, SharedMemoryManager, SyncManager,
  type DictProxy, type ListProxy, type QueueProxy,
} from "multiproc";
import { CONTEXTS, shmEntries } from "./helpers.js";
import {
  callMaths, dieHolding, writeShareable, fillDictAndList, incrementUnderLock, Maths, MathsManager, putFromQueueInDict, ServedManager,
} from "./fixtures/manager-types.js";

function remoteCode(err: unknown): string | undefined {
  return ((err as RemoteError).cause as { code?: string } | undefined)?.code;
}

describe("SyncManager", () => {
  for (const kind of CONTEXTS) {
    test(`4 processes (${kind}) fill a dict and a list through proxies`, async () => {
      await using m = await Manager();
      const d = await m.dict<number, number>();
      const l = await m.list<number>([100]);
      const ctx = getContext(kind);
      const ps = [0, 1, 2, 3].map((i) => new ctx.Process({ target: fillDictAndList, args: [d, l, i] }));
      ps.forEach((p) => p.start());
      for (const p of ps) await p.join();
      assert.deepEqual(ps.map((p) => p.exitCode), [0, 0, 0, 0]);
      assert.deepEqual(new Map([...(await d.copy())].sort((a, b) => a[0] - b[0])), new Map([[0, 0], [1, 1], [2, 4], [3, 9]]));
      assert.deepEqual((await l.toArray()).sort((a, b) => a - b), [0, 1, 2, 3, 100]);
    });

    test(`a Queue proxy stored in a dict proxy works in a child (${kind})`, async () => {
      await using m = await Manager();
      const d = await m.dict<string, QueueProxy<string>>();
      const q = await m.Queue<string>();
      await d.set("q", q);
      const p = new (getContext(kind).Process)({ target: putFromQueueInDict, args: [d, "through the dict"] });
      p.start();
      assert.equal(await q.get({ timeout: 20_000 }), "through the dict");
      await p.join();
    });

    test(`a Value updated under a manager Lock by 3 processes (${kind})`, async () => {
      await using m = await Manager();
      const v = await m.Value("i", 0);
      const lock = await m.Lock();
      const ps = [0, 1, 2].map(() => new (getContext(kind).Process)({ target: incrementUnderLock, args: [v, lock, 20] }));
      ps.forEach((p) => p.start());
      for (const p of ps) await p.join();
      assert.equal(await v.get(), 60);
    });
  }

  test("dict: d.set(0.25, null) and Python's dict methods", async () => {
    await using m = await Manager();
    const d = await m.dict<string | number, unknown>([["a", 1]]);
    await d.set(0.25, null);
    await d.set(1, "1");
    await d.set("2", 2);
    assert.equal(await d.get(0.25), null);
    assert.equal(await d.get("nope"), undefined);
    assert.equal(await d.get("nope", 5), 5);
    assert.equal(await d.has(0.25), true);
    assert.equal(await d.size(), 4);
    assert.deepEqual(await d.keys(), ["a", 0.25, 1, "2"]);
    assert.deepEqual(await d.values(), [1, null, "1", 2]);
    assert.equal(await d.setdefault("z", 26), 26);
    assert.equal(await d.pop("z"), 26);
    assert.equal(await d.pop("z", "gone"), "gone");
    await assert.rejects(d.pop("z"), (e: unknown) => e instanceof RemoteError && remoteCode(e) === ErrorCodes.KEY_NOT_FOUND);
    assert.deepEqual(await d.popitem(), ["2", 2]);
    await d.update({ x: 1, y: 2 });
    assert.equal(await d.delete("x"), true);
    assert.equal(await d.delete("x"), false);
    assert.deepEqual(await d.entries(), [["a", 1], [0.25, null], [1, "1"], ["y", 2]]);
    await d.clear();
    assert.equal(await d.size(), 0);
    await assert.rejects(d.set([1, 2] as never, 1), (e: unknown) => remoteCode(e) === ErrorCodes.INVALID_ARG_TYPE);
  });

  test("list: Python's list methods, negative indices, sort", async () => {
    await using m = await Manager();
    const l = await m.list<number>([3, 1, 2]);
    assert.equal(await l.get(-1), 2);
    await l.set(0, 5);
    await l.extend([9, 9]);
    await l.insert(0, 7);
    assert.equal(await l.length(), 6);
    assert.equal(await l.count(9), 2);
    assert.equal(await l.index(9), 4);
    await l.remove(9);
    assert.equal(await l.pop(), 9);
    await l.sort();
    assert.deepEqual(await l.toArray(), [1, 2, 5, 7]);
    await l.reverse();
    assert.deepEqual(await l.slice(1, 3), [5, 2]);
    await assert.rejects(l.get(10), (e: unknown) => remoteCode(e) === ErrorCodes.OUT_OF_RANGE);
    await assert.rejects(l.remove(42), (e: unknown) => remoteCode(e) === ErrorCodes.VALUE_NOT_FOUND);
  });

  test("nested proxies stay live: a list in a dict, a Namespace holding a dict", async () => {
    await using m = await Manager();
    const d = await m.dict<string, ListProxy<number>>();
    const inner = await m.list<number>([1]);
    await d.set("inner", inner);
    inner._release(); // the dict's reference keeps it alive
    const again = (await d.get("inner"))!;
    await again.append(2);
    assert.deepEqual(await again.toArray(), [1, 2]);
    const ns = await m.Namespace();
    await ns.set("d", d);
    await ns.set("n", 42);
    const viaNs = await ns.get<DictProxy<string, ListProxy<number>>>("d");
    assert.deepEqual(await (await viaNs.get("inner"))!.toArray(), [1, 2]);
    assert.equal(await ns.get("n"), 42);
    await assert.rejects(ns.get("missing"), RemoteError);
    assert.deepEqual(Object.keys(await ns.toObject()), ["d", "n"]);
  });

  test("Queue, JoinableQueue, Event, Semaphore, Condition, Barrier, RLock, Array", async () => {
    await using m = await Manager();
    const q = await m.Queue<number>(1);
    await q.put(1);
    assert.equal(await q.full(), true);
    await assert.rejects(q.put(2, { timeout: 50 }), { code: ErrorCodes.FULL });
    assert.equal(await q.get(), 1);
    const started = Date.now();
    await assert.rejects(q.get({ timeout: 100 }), (e: unknown) => e instanceof Empty);
    assert.ok(Date.now() - started >= 95);
    await assert.rejects(q.getNowait(), Empty);
    const jq = await m.JoinableQueue<string>();
    await jq.put("task");
    assert.equal(await jq.join({ timeout: 30 }), false);
    await jq.get();
    await jq.taskDone();
    assert.equal(await jq.join(), true);
    await assert.rejects(jq.taskDone(), RemoteError);
    const ev = await m.Event();
    assert.equal(await ev.wait({ timeout: 20 }), false);
    const waiting = ev.wait();
    await ev.set();
    assert.equal(await waiting, true);
    const sem = await m.BoundedSemaphore(1);
    assert.equal(await sem.acquire(), true);
    assert.equal(await sem.acquire({ block: false }), false);
    await sem.release();
    await assert.rejects(sem.release(), (e: unknown) => remoteCode(e) === ErrorCodes.NOT_HELD);
    const cond = await m.Condition();
    await cond.acquire();
    assert.equal(await cond.wait({ timeout: 20 }), false);
    await cond.release();
    const barrier = await m.Barrier(2);
    const [a, b] = await Promise.all([barrier.wait(), barrier.wait()]);
    assert.deepEqual([a, b].sort(), [0, 1]);
    assert.equal(await barrier.parties(), 2);
    const rl = await m.RLock();
    assert.equal(await rl.acquire(), true);
    assert.equal(await rl.acquire(), true);
    await rl.release();
    await rl.release();
    await assert.rejects(rl.release(), RemoteError);
    const arr = await m.Array("i", [1, 2, 3]);
    await arr.set(0, 2 ** 31); // wraps like a C int
    assert.deepEqual(await arr.toArray(), [-(2 ** 31), 2, 3]);
    const big = await m.Array<bigint>("q", 2);
    await big.set(1, 5n);
    assert.deepEqual(await big.toArray(), [0n, 5n]);
  });

  test("a Lock whose holder dies is released for the next acquirer", async () => {
    await using m = await Manager();
    const lock = await m.Lock();
    const p = new (getContext("process").Process)({ target: dieHolding, args: [lock] });
    p.start();
    await p.join();
    assert.equal(p.exitCode, 3);
    assert.equal(await lock.acquire({ timeout: 10_000 }), true);
  });

  test("bad input: unknown typeid, released proxy, unsendable value; the server keeps serving", async () => {
    await using m = await Manager();
    await assert.rejects(m.create("nope"), { code: ErrorCodes.UNKNOWN_TYPEID });
    const d = await m.dict();
    await assert.rejects(d.set("f", (() => 1)), { code: ErrorCodes.UNSERIALIZABLE });
    const l = await m.list();
    l._release();
    await assert.rejects(l.append(1), { code: ErrorCodes.RELEASED });
    await d.set("still", "serving");
    assert.equal(await d.get("still"), "serving");
    await assert.rejects(new SyncManager().dict(), { code: ErrorCodes.NOT_STARTED });
  });
});

describe("BaseManager with registered types", () => {
  test("a registered class: Maths.add(4, 3) is 7, from this process and a child", async () => {
    await using m = new MathsManager();
    await m.start();
    const maths = await m.create<Maths>("Maths");
    assert.equal(await maths.add(4, 3), 7);
    assert.equal(await maths.mul(7, 8), 56);
    assert.equal(await maths.slowDouble(21), 42);
    // methodToTypeid: the result stays on the server and comes back as a proxy.
    const spawned = (await maths.spawn()) as unknown as typeof maths;
    assert.equal(await spawned.add(1, 1), 2);
  });

  test("exposed limits methods; unexposed, unknown and throwing methods give RemoteError and the server keeps serving", async () => {
    await using m = new MathsManager();
    await m.start();
    const limited = await m.create<Maths>("LimitedMaths");
    assert.equal(await limited.add(1, 2), 3);
    assert.equal("mul" in limited, false);
    await assert.rejects(limited._callMethod("mul", [2, 3]), (e: unknown) => e instanceof RemoteError && remoteCode(e) === ErrorCodes.NOT_EXPOSED);
    const maths = await m.create<Maths>("Maths");
    await assert.rejects(maths._callMethod("_secret"), (e: unknown) => remoteCode(e) === ErrorCodes.NOT_EXPOSED);
    await assert.rejects(maths._callMethod("nope"), (e: unknown) => remoteCode(e) === ErrorCodes.UNKNOWN_METHOD);
    await assert.rejects(maths.fail("boom"), (e: unknown) => {
      assert.ok(e instanceof RemoteError);
      const cause = e.cause as Error;
      assert.equal(cause.name, "RangeError");
      assert.equal(cause.message, "boom");
      assert.match(cause.stack ?? "", /fail/);
      return true;
    });
    assert.equal(await maths.add(4, 3), 7);
  });

  for (const kind of CONTEXTS) {
    test(`a registered proxy passed to a child (${kind})`, async () => {
      await using m = new MathsManager();
      await m.start();
      const maths = await m.create<Maths>("Maths");
      await using sync = await Manager();
      const out = await sync.list<number>();
      const p = new (getContext(kind).Process)({ target: callMaths, args: [maths, out] });
      p.start();
      await p.join();
      assert.equal(p.exitCode, 0);
      assert.deepEqual(await out.toArray(), [42]);
    });
  }

  test("a server in this process: reference counts free objects when no proxy is left", async () => {
    const served = new ServedManager({ address: ["127.0.0.1", 0], authkey: "k" });
    const server = served.getServer();
    await server.listen();
    const d = await served.dict<number, number>();
    const ping = () => d.size(); // a decref sent before it on the same connection is applied first
    const base = server.objectCount;
    const l = await served.list();
    assert.equal(server.objectCount, base + 1);
    l._release();
    await ping();
    assert.equal(server.objectCount, base);
    // A child takes its own reference, and gives it back when its connection closes at exit.
    const held = await served.list<number>();
    const out = await served.list<number>();
    const p = new (getContext("process").Process)({ target: fillDictAndList, args: [d, held, 7] });
    p.start();
    await p.join();
    assert.equal(p.exitCode, 0);
    held._release();
    out._release();
    await ping();
    assert.equal(server.objectCount, base);
    await served.shutdown();
  });

  test("the server drops a client that sends garbage or an oversized frame after authenticating, and serves the others", async () => {
    const served = new ServedManager({ address: ["127.0.0.1", 0], authkey: "k", maxMessageSize: 4096 });
    const server = served.getServer();
    const address = await server.listen();
    const d = await served.dict();
    for (const bad of [Buffer.from("definitely not a request"), Buffer.alloc(10_000)]) {
      const conn = await Client(address, { authkey: "k" });
      await conn.sendBytes(bad);
      await assert.rejects(conn.recvBytes(), { code: ErrorCodes.EOF });
      conn.close();
    }
    const conn = await Client(address, { authkey: "k" });
    await conn.send({ kind: "call", id: "x" });
    await assert.rejects(conn.recvBytes(), { code: ErrorCodes.EOF });
    await d.set("ok", 1);
    assert.equal(await d.get("ok"), 1);
    await served.shutdown();
  });
});

describe("remote managers over TCP", () => {
  test("right key works, wrong key raises AuthenticationError on both sides, the server keeps serving", async () => {
    const served = new ServedManager({ address: ["127.0.0.1", 0], authkey: "right key" });
    const server = served.getServer();
    const address = await server.listen();
    const serving = server.serveForever();
    class Remote extends BaseManager {}
    Remote.register("Maths");
    Remote.register("dict");
    const wrong = new Remote({ address, authkey: "wrong key" });
    await assert.rejects(wrong.connect(), (e: unknown) => e instanceof AuthenticationError);
    const right = new Remote({ address, authkey: "right key" });
    await right.connect();
    const maths = await right.create<Maths>("Maths");
    assert.equal(await maths.add(4, 3), 7);
    const d = await right.create<Map<string, number>>("dict");
    assert.equal(await (d as unknown as DictProxy).size(), 0);
    await served.shutdown();
    await serving;
  });

  test("a manager restarts on the same port", async () => {
    const first = new MathsManager({ address: ["127.0.0.1", 0] });
    await first.start();
    const address = first.address!;
    assert.equal(await (await first.create<Maths>("Maths")).add(1, 1), 2);
    await first.shutdown();
    const second = new MathsManager({ address });
    await second.start();
    assert.deepEqual(second.address, address);
    assert.equal(await (await second.create<Maths>("Maths")).add(2, 2), 4);
    await second.shutdown();
  });
});

describe("SharedMemoryManager", () => {
  for (const kind of CONTEXTS) {
    test(`SharedMemory(size) and ShareableList(seq) are unlinked at shutdown (children: ${kind})`, async () => {
      const smm = new SharedMemoryManager();
      await smm.start();
      const shm = await smm.SharedMemory(64);
      const sl = await smm.ShareableList([1, "two", null]);
      assert.ok(shmEntries().has(shm.name) && shmEntries().has(sl.shm.name));
      const p = new (getContext(kind).Process)({ target: writeShareable, args: [sl, shm] });
      p.start();
      await p.join();
      assert.equal(p.exitCode, 0);
      assert.equal(sl.get(0), 42);
      assert.equal(shm.buf[0], 7);
      await smm.shutdown();
      assert.ok(!shmEntries().has(shm.name) && !shmEntries().has(sl.shm.name));
      await assert.rejects(smm.SharedMemory(8), { code: ErrorCodes.CLOSED });
    });
  }
});
