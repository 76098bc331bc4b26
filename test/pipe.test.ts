// Pipe and Connection: objects and bytes of every size across processes and threads, one-way
// pipes, EOF semantics (every holder of the other end closed it or died), bad input, close.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { BufferTooShort, type Connection, getContext, Pipe } from "multiproc";
import { CONTEXTS } from "./helpers.js";
import { doubleSync, echo, echoBytesSync, holdForever, pingDoubled, sendAndClose, sendOnReceived } from "./fixtures/pipe.js";

const SIXTEEN_MIB = 16 * 1024 * 1024;

function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 4093) out[i] = (i + seed) & 0xff;
  if (size > 0) out[size - 1] = seed & 0xff;
  return out;
}

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);
  describe(`Pipe (${kind})`, () => {
    test("a child sends [42, null, 'hello'] and closes: recv gets it, then EOF", async () => {
      const [parent, child] = ctx.Pipe();
      const p = new ctx.Process({ target: sendAndClose, args: [child, [42, null, "hello"]] });
      p.start();
      child.close();
      assert.deepEqual(await parent.recv(), [42, null, "hello"]);
      await assert.rejects(parent.recv(), { code: "ERR_EOF" });
      await p.join();
      parent.close();
    });

    test("objects of every kind, 16 MiB and empty messages round-trip through an echoing child", async () => {
      const [a, b] = ctx.Pipe();
      const p = new ctx.Process({ target: echo, args: [b] });
      p.start();
      b.close();
      const values: unknown[] = [
        0,
        "",
        [],
        new Map<unknown, unknown>([[1, { x: [1n, new Date(5)] }]]),
        new Set(["a"]),
        /re+/gi,
        new Float64Array([1.5, -2]),
        Object.assign(new RangeError("bad"), { code: "E_X" }),
        pattern(SIXTEEN_MIB, 7),
        { nested: pattern(200_000, 3), again: "x".repeat(70_000) },
      ];
      for (const v of values) {
        await a.send(v);
        const back = await a.recv();
        if (v instanceof Error) {
          assert.ok(back instanceof RangeError);
          assert.equal(back.message, "bad");
          assert.equal((back as Error & { code: string }).code, "E_X");
        } else {
          assert.deepEqual(back, v);
        }
      }
      a.close();
      await p.join();
      assert.equal(p.exitCode, 0);
    });

    test("bytes: 16 MiB and empty messages, offsets and sizes, through a child using the sync calls", async () => {
      const [a, b] = ctx.Pipe();
      const p = new ctx.Process({ target: echoBytesSync, args: [b] });
      p.start();
      b.close();
      const big = pattern(SIXTEEN_MIB, 9);
      await a.sendBytes(big);
      assert.deepEqual(new Uint8Array(await a.recvBytes()), big);
      await a.sendBytes(new Uint8Array(0));
      assert.equal((await a.recvBytes()).length, 0);
      await a.sendBytes(Buffer.from("hello world"), 6, 3);
      assert.equal((await a.recvBytes()).toString(), "wor");
      await a.sendBytes(new Uint16Array([0x0102, 0x0304]));
      const into = new Uint8Array(8);
      assert.equal(await a.recvBytesInto(into, 2), 4);
      assert.deepEqual([...into], [0, 0, 2, 1, 4, 3, 0, 0]);
      a.close();
      await p.join();
      assert.equal(p.exitCode, 0);
    });

    test("EOF comes only when every holder of the other end is gone", async () => {
      const [a, b] = ctx.Pipe();
      const [report, reportChild] = ctx.Pipe();
      const p = new ctx.Process({ target: holdForever, args: [reportChild, b] });
      p.start();
      reportChild.close();
      b.close(); // the child still holds b
      assert.equal(await report.recv(), "ready");
      assert.equal(await a.poll({ timeout: 150 }), false, "no EOF while the child holds b");
      p.kill();
      await p.join();
      await assert.rejects(a.recv({ timeout: 30_000 }), { code: "ERR_EOF" });
      assert.equal(await a.poll(), true);
      a.close();
      report.close();
    });

    test("a child killed before it read its args still lets the parent see EOF", async () => {
      const [a, b] = ctx.Pipe();
      const p = new ctx.Process({ target: echo, args: [b] });
      p.start();
      b.close();
      p.kill();
      await p.join();
      await assert.rejects(a.recv({ timeout: 30_000 }), { code: "ERR_EOF" });
      a.close();
    });

    test("a pipe end travels inside a message to a child, which uses it", async () => {
      const [a, b] = ctx.Pipe<Connection>();
      const [x, y] = ctx.Pipe<string>();
      const p = new ctx.Process({ target: sendOnReceived, args: [b, "through the inner pipe"] });
      p.start();
      b.close();
      await a.send(y);
      y.close();
      assert.equal(await x.recv(), "through the inner pipe");
      await assert.rejects(x.recv(), { code: "ERR_EOF" });
      await p.join();
      a.close();
      x.close();
    });
  });
}

describe("Pipe between a process child and a thread child", () => {
  test("the process pings, the thread doubles, the parent gets the results", async () => {
    const [toThread, threadIn] = Pipe<number>({ duplex: false }).reverse() as [Connection<number>, Connection<number>];
    const [fromThread, threadOut] = Pipe<number>({ duplex: false });
    const [results, resultsChild] = Pipe<number[]>();
    const proc = new (getContext("process").Process)({ target: pingDoubled, args: [toThread, fromThread, 50, resultsChild] });
    const thread = new (getContext("thread").Process)({ target: doubleSync, args: [threadIn, threadOut] });
    proc.start();
    thread.start();
    for (const c of [toThread, threadIn, fromThread, threadOut, resultsChild]) c.close();
    assert.deepEqual(await results.recv(), Array.from({ length: 50 }, (_, i) => i * 2));
    await Promise.all([proc.join(), thread.join()]);
    assert.equal(proc.exitCode, 0);
    assert.equal(thread.exitCode, 0);
    results.close();
  });
});

describe("Pipe in one process", () => {
  test("a one-way pipe refuses the wrong direction", async () => {
    const [r, w] = Pipe({ duplex: false });
    assert.equal(r.readable, true);
    assert.equal(r.writable, false);
    assert.equal(w.readable, false);
    assert.equal(w.writable, true);
    await assert.rejects(r.send("x"), { code: "ERR_NOT_WRITABLE" });
    await assert.rejects(w.recv(), { code: "ERR_NOT_READABLE" });
    assert.throws(() => w.recvSync(), { code: "ERR_NOT_READABLE" });
    assert.throws(() => r.sendBytesSync(new Uint8Array(1)), { code: "ERR_NOT_WRITABLE" });
    await w.send("one way");
    assert.equal(await r.recv(), "one way");
    r.close();
    w.close();
  });

  test("BufferTooShort carries the whole message; maxLength discards and reports", async () => {
    const [a, b] = Pipe();
    await a.sendBytes(Buffer.from("0123456789"));
    const small = new Uint8Array(12);
    const err = await a.send("x").then(() => b.recvBytesInto(small, 4)).catch((e: unknown) => e);
    assert.ok(err instanceof BufferTooShort);
    assert.equal(err.code, "ERR_BUFFER_TOO_SHORT");
    assert.equal(Buffer.from(err.bytes).toString(), "0123456789");
    assert.deepEqual(b.recvSync(), "x");
    await a.sendBytes(new Uint8Array(100));
    await assert.rejects(b.recvBytes({ maxLength: 99 }), { code: "ERR_MESSAGE_TOO_LONG" });
    await a.sendBytes(new Uint8Array(5));
    assert.equal((await b.recvBytes({ maxLength: 5 })).length, 5);
    a.close();
    b.close();
  });

  test("an unsendable object throws at send and the pipe keeps working", async () => {
    const [a, b] = Pipe();
    await assert.rejects(a.send(() => 1), { code: "ERR_UNSERIALIZABLE" });
    await assert.rejects(a.send({ s: Symbol("x") }), { code: "ERR_UNSERIALIZABLE" });
    assert.throws(() => a.sendSync([function named() {}]), { code: "ERR_UNSERIALIZABLE" });
    await a.send("next");
    assert.equal(await b.recv(), "next");
    assert.equal(await b.poll(), false);
    a.close();
    b.close();
  });

  test("receives queue up in call order; timeouts; poll; async iteration ends at EOF", async () => {
    const [a, b] = Pipe<number>();
    const pending = [b.recv(), b.recv(), b.recv()];
    for (const n of [1, 2, 3]) await a.send(n);
    assert.deepEqual(await Promise.all(pending), [1, 2, 3]);
    let started = performance.now();
    await assert.rejects(b.recv({ timeout: 100 }), { code: "ERR_TIMEOUT" });
    assert.ok(performance.now() - started >= 99);
    started = performance.now();
    assert.equal(await b.poll({ timeout: 100 }), false);
    assert.ok(performance.now() - started >= 99);
    assert.equal(b.pollSync({ timeout: 20 }), false);
    const controller = new AbortController();
    const aborted = b.recv({ signal: controller.signal });
    controller.abort();
    await assert.rejects(aborted, { code: "ERR_ABORTED" });
    for (const n of [4, 5]) a.sendSync(n);
    assert.equal(b.pollSync(), true);
    a.close();
    const seen: number[] = [];
    for await (const n of b) seen.push(n);
    assert.deepEqual(seen, [4, 5]);
    await assert.rejects(b.send(6), { code: "ERR_BROKEN_PIPE" });
    b.close();
  });

  test("use after close throws and a pending receive is stopped by close", async () => {
    const [a, b] = Pipe();
    const pending = b.recv();
    b.close();
    await assert.rejects(pending, { code: "ERR_CLOSED" });
    await assert.rejects(b.recv(), { code: "ERR_CLOSED" });
    await assert.rejects(b.send(1), { code: "ERR_CLOSED" });
    assert.throws(() => b.recvSync(), { code: "ERR_CLOSED" });
    await assert.rejects(b.poll(), { code: "ERR_CLOSED" });
    assert.equal(b.closed, true);
    b.close(); // twice is fine
    await assert.rejects(a.send(1), { code: "ERR_BROKEN_PIPE" });
    a.close();
  });

  test("the segment is unlinked once both ends are closed", () => {
    const [a, b] = Pipe();
    const name = /<Connection \/(\S+)#0/.exec(String(a))![1]!;
    assert.equal(existsSync(`/dev/shm/${name}`), true);
    a.close();
    assert.equal(existsSync(`/dev/shm/${name}`), true);
    b.close();
    assert.equal(existsSync(`/dev/shm/${name}`), false);
  });

  test("bad arguments throw at the call, naming the argument", async () => {
    assert.throws(() => Pipe({ duplex: "yes" as unknown as boolean }), { code: "ERR_INVALID_ARG_TYPE", message: /duplex/ });
    const [a, b] = Pipe();
    await assert.rejects(a.sendBytes("text" as unknown as Uint8Array), { code: "ERR_INVALID_ARG_TYPE", message: /buf/ });
    await assert.rejects(a.sendBytes(new Uint8Array(4), 5), { code: "ERR_OUT_OF_RANGE", message: /offset/ });
    await assert.rejects(a.sendBytes(new Uint8Array(4), 1, 4), { code: "ERR_OUT_OF_RANGE", message: /size/ });
    await assert.rejects(b.recv({ timeout: -1 }), { code: "ERR_TIMEOUT" }); // negative is 0, as in CPython
    await assert.rejects(b.recvBytes({ maxLength: 1.5 }), { code: "ERR_INVALID_ARG_TYPE", message: /maxLength/ });
    a.close();
    b.close();
  });
});
