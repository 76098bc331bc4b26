// Queue: Python's behaviours (order, maxsize, Full/Empty with timeouts), any number of producers
// and consumers across processes and threads, large and empty items, bad input, close.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { Empty, Full, getContext, Pipe, Queue } from "multiproc";
import { CONTEXTS } from "./helpers.js";
import { consumeUntilNull, consumeUntilNullSync, produce, putOnReceived, putRange, putRangeSync, putValue, relay } from "./fixtures/queues.js";

const SIXTEEN_MIB = 16 * 1024 * 1024;

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);
  describe(`Queue (${kind})`, () => {
    test("a child puts [42, null, 'hello']; the parent gets it", async () => {
      await using q = new ctx.Queue();
      const p = new ctx.Process({ target: putValue, args: [q, [42, null, "hello"]] });
      p.start();
      assert.deepEqual(await q.get(), [42, null, "hello"]);
      await p.join();
    });

    test("the parent puts 0..9, a child 10..19: read back in order", async () => {
      await using q = new ctx.Queue<number>();
      for (let i = 0; i < 10; i++) await q.put(i);
      const p = new ctx.Process({ target: putRangeSync, args: [q, 10, 20] });
      p.start();
      const got: number[] = [];
      for (let i = 0; i < 20; i++) got.push(await q.get({ timeout: 30_000 }));
      assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => i));
      await p.join();
      assert.equal(q.empty(), true);
    });

    test("a full queue holds its producer back until the parent reads", async () => {
      await using q = new ctx.Queue<number>({ maxsize: 3 });
      const p = new ctx.Process({ target: putRange, args: [q, 0, 50] });
      p.start();
      const got: number[] = [];
      for (let i = 0; i < 50; i++) {
        got.push(await q.get({ timeout: 30_000 }));
        assert.ok(q.qsize() <= 3);
      }
      assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i));
      await p.join();
    });

    test("16 MiB, empty and structured items round-trip through a relaying child", async () => {
      await using there = new ctx.Queue();
      await using back = new ctx.Queue();
      const items: unknown[] = [
        new Uint8Array(0),
        "",
        undefined,
        new Map([[1n, new Set([new Date(7)])]]),
        new Uint8Array(SIXTEEN_MIB).fill(7, 1000, 2000),
        "x".repeat(100_000),
        { big: new Float64Array(300_000).fill(1.5) },
      ];
      const p = new ctx.Process({ target: relay, args: [there, back, items.length] });
      p.start();
      for (const item of items) await there.put(item);
      for (const item of items) assert.deepEqual(await back.get({ timeout: 30_000 }), item);
      await p.join();
      assert.equal(p.exitCode, 0);
    });

    test("a queue travels inside another queue's item", async () => {
      await using carrier = new ctx.Queue<Queue<string>>();
      await using inner = new ctx.Queue<string>();
      const p = new ctx.Process({ target: putOnReceived, args: [carrier, "via the carrier"] });
      p.start();
      await carrier.put(inner);
      assert.equal(await inner.get({ timeout: 30_000 }), "via the carrier");
      await p.join();
    });
  });
}

describe("Queue across a mix of processes and threads", () => {
  test("4 producers and 3 consumers (processes, threads and the parent): every item exactly once", async () => {
    const processes = getContext("process");
    const threads = getContext("thread");
    await using q = new Queue<string | null>({ maxsize: 20 });
    await using out = new Queue<string>();
    const producers = [
      new processes.Process({ target: produce, args: [q, "p0", 300] }),
      new processes.Process({ target: produce, args: [q, "p1", 300] }),
      new threads.Process({ target: produce, args: [q, "t0", 300] }),
      new threads.Process({ target: produce, args: [q, "t1", 300] }),
    ];
    const consumers = [
      new processes.Process({ target: consumeUntilNull, args: [q, out] }),
      new threads.Process({ target: consumeUntilNullSync, args: [q, out] }),
    ];
    for (const p of [...producers, ...consumers]) p.start();
    const mine: string[] = [];
    const parentConsumer = (async () => {
      for (;;) {
        const item = await q.get();
        if (item === null) return;
        mine.push(item);
      }
    })();
    await Promise.all(producers.map((p) => p.join()));
    for (let i = 0; i < 3; i++) await q.put(null);
    await parentConsumer;
    await Promise.all(consumers.map((p) => p.join()));
    const all = [...mine];
    while (!out.empty()) all.push(out.getNowait());
    assert.equal(all.length, 1200);
    assert.equal(new Set(all).size, 1200);
    for (const tag of ["p0", "p1", "t0", "t1"]) assert.equal(all.filter((s) => s.startsWith(tag + ":")).length, 300);
    // The parent's share came in each producer's order (one consumer sees a FIFO's order).
    for (const tag of ["p0", "p1", "t0", "t1"]) {
      const seq = mine.filter((s) => s.startsWith(tag + ":")).map((s) => Number(s.split(":")[1]));
      assert.deepEqual(seq, [...seq].sort((x, y) => x - y));
    }
    for (const p of [...producers, ...consumers]) assert.equal(p.exitCode, 0);
  });
});

describe("Queue in one process", () => {
  test("maxsize 6: full after 6 puts; Full and Empty, at once and after a 100 ms timeout", async () => {
    await using q = new Queue<number>({ maxsize: 6 });
    assert.equal(q.maxsize, 6);
    assert.equal(q.empty(), true);
    for (let i = 0; i < 6; i++) {
      assert.equal(q.full(), false);
      await q.put(i);
    }
    assert.equal(q.full(), true);
    assert.equal(q.qsize(), 6);
    assert.throws(() => q.putNowait(6), Full);
    await assert.rejects(q.put(6, { block: false }), { code: "ERR_QUEUE_FULL" });
    let started = performance.now();
    await assert.rejects(q.put(6, { timeout: 100 }), Full);
    assert.ok(performance.now() - started >= 99);
    started = performance.now();
    assert.throws(() => q.putSync(6, { timeout: 100 }), Full);
    assert.ok(performance.now() - started >= 99);
    for (let i = 0; i < 6; i++) assert.equal(q.getNowait(), i);
    assert.throws(() => q.getNowait(), Empty);
    await assert.rejects(q.get({ block: false }), { code: "ERR_QUEUE_EMPTY" });
    started = performance.now();
    await assert.rejects(q.get({ timeout: 100 }), Empty);
    assert.ok(performance.now() - started >= 99);
    started = performance.now();
    assert.throws(() => q.getSync({ timeout: 100 }), Empty);
    assert.ok(performance.now() - started >= 99);
    const controller = new AbortController();
    const pending = q.get({ signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, { code: "ERR_ABORTED" });
  });

  test("waiting gets are served in turn as items arrive", async () => {
    await using q = new Queue<number>();
    const gets = [q.get(), q.get(), q.get()];
    for (const n of [1, 2, 3]) await q.put(n);
    assert.deepEqual((await Promise.all(gets)).sort(), [1, 2, 3]);
  });

  test("items of every size fill and drain the ring through its wrap-around, in order", async () => {
    await using q = new Queue<Uint8Array>({ capacity: 4096 });
    let next = 0;
    let expected = 0;
    const sizeOf = (i: number) => [0, 1, 5, 200, 900, 1020, 3000][i % 7]!;
    for (let round = 0; round < 40; round++) {
      for (let k = 0; k < 3; k++) {
        const item = new Uint8Array(sizeOf(next)).fill(next & 0xff);
        await q.put(item, { timeout: 1000 });
        next++;
      }
      for (let k = 0; k < 3; k++) {
        const got = await q.get({ timeout: 1000 });
        assert.equal(got.length, sizeOf(expected));
        assert.ok(got.every((b) => b === (expected & 0xff)));
        expected++;
      }
    }
  });

  test("an unsendable item throws at put and the queue keeps working", async () => {
    await using q = new Queue();
    await assert.rejects(q.put(() => 1), { code: "ERR_UNSERIALIZABLE" });
    assert.throws(() => q.putNowait({ s: Symbol("s") }), { code: "ERR_UNSERIALIZABLE" });
    await q.put("after");
    assert.equal(q.qsize(), 1);
    assert.equal(await q.get(), "after");
  });

  test("use after close throws; a pending get is stopped by close; other holders go on", async () => {
    const q = new Queue<number>();
    const [a, b] = Pipe<Queue<number>>();
    await a.send(q); // a second holder of the same queue, in this process
    const other = await b.recv();
    const pending = q.get();
    q.close();
    await assert.rejects(pending, { code: "ERR_CLOSED" });
    await assert.rejects(q.get(), { code: "ERR_CLOSED" });
    await assert.rejects(q.put(1), { code: "ERR_CLOSED" });
    assert.throws(() => q.getNowait(), { code: "ERR_CLOSED" });
    assert.throws(() => q.putNowait(1), { code: "ERR_CLOSED" });
    assert.equal(q.closed, true);
    q.close();
    await other.put(5);
    assert.equal(await other.get(), 5);
    other.close();
    a.close();
    b.close();
  });

  test("async iteration yields items until the queue is closed", async () => {
    const q = new Queue<number>();
    for (const n of [1, 2, 3]) await q.put(n);
    const seen: number[] = [];
    for await (const n of q) {
      seen.push(n);
      if (n === 3) setImmediate(() => q.close());
    }
    assert.deepEqual(seen, [1, 2, 3]);
  });

  test("the segment is unlinked once the last holder closes", () => {
    const q = new Queue();
    const name = /<Queue \/(\S+) /.exec(String(q))![1]!;
    assert.equal(existsSync(`/dev/shm/${name}`), true);
    q.close();
    assert.equal(existsSync(`/dev/shm/${name}`), false);
  });

  test("bad arguments throw at the call with codes", async () => {
    assert.throws(() => new Queue({ maxsize: -1 }), { code: "ERR_OUT_OF_RANGE", message: /maxsize/ });
    assert.throws(() => new Queue({ maxsize: 1.5 }), { code: "ERR_INVALID_ARG_TYPE", message: /maxsize/ });
    assert.throws(() => new Queue(-3), { code: "ERR_OUT_OF_RANGE", message: /maxsize/ });
    assert.throws(() => new Queue({ capacity: 10 }), { code: "ERR_OUT_OF_RANGE", message: /capacity/ });
    await using q = new Queue(2);
    assert.equal(q.maxsize, 2);
    await assert.rejects(q.get({ timeout: -1 }), { code: "ERR_QUEUE_EMPTY" }); // negative is 0, as in CPython
    await assert.rejects(q.get({ block: "no" as unknown as boolean }), { code: "ERR_INVALID_ARG_TYPE", message: /block/ });
    await assert.rejects(q.get({ signal: {} as AbortSignal }), { code: "ERR_INVALID_ARG_TYPE", message: /signal/ });
    assert.equal(q.qsize(), 0);
  });
});
