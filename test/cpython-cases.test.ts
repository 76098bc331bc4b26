// Cases from CPython's own test suite (_test_multiprocessing.py, ported to our API) that failed
// before issue #14, and the differences we chose to remove (docs/design.md, "Differences from
// CPython", lists the ones we keep).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AuthenticationError, ErrorCodes, Event, fromModule, getContext, Pipe, Process, Queue, type Remote } from "multiproc";
import { Client, Listener, wait } from "multiproc/connection";
import { Manager } from "multiproc/managers";
import { CONTEXTS } from "./helpers.js";
import { ExposingManager, type WithPrivate } from "./fixtures/cpython-cases.js";
import type * as Cases from "./fixtures/cpython-cases.js";

const cases = fromModule<typeof Cases>(new URL("./fixtures/cpython-cases.js", import.meta.url));

test("wait() over pipe ends, then closing them at once, leaves no poll behind to fail", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    const [a1, b1] = Pipe();
    const [a2, b2] = Pipe();
    const waiting = wait([b1, b2]);
    await a1.send("x");
    assert.deepEqual(await waiting, [b1]);
    b2.close(); // its poll slice may still be running
    b1.close();
    a1.close();
    a2.close();
    // The slices poll for 20 ms at a time: let any still running end.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("wait() counts an object closed meanwhile as ready (its recv says why) instead of failing", async () => {
  const [, b] = Pipe();
  const [a2, b2] = Pipe();
  b.close();
  const ready = await wait([b, b2], { timeout: 1000 });
  assert.deepEqual(ready, [b]);
  a2.close();
  b2.close();
});

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);
  describe(`CPython cases (${kind})`, () => {
    test("imap over an input that throws at item k yields the results before k, then the error", async () => {
      function* input(): Generator<number> {
        yield 1;
        yield 2;
        yield 3;
        throw new RangeError("item 3 is bad");
      }
      const pool = new ctx.Pool({ processes: 2 });
      try {
        for (const ordered of [true, false]) {
          const seen: number[] = [];
          const it = ordered ? pool.imap((x: number) => x * 10, input()) : pool.imapUnordered((x: number) => x * 10, input());
          await assert.rejects(
            (async () => {
              for await (const v of it) seen.push(v);
            })(),
            { name: "RangeError", message: "item 3 is bad" },
          );
          if (ordered) assert.deepEqual(seen, [10, 20, 30]);
          else assert.ok(seen.every((v) => [10, 20, 30].includes(v)), String(seen));
        }
      } finally {
        await pool.terminate();
      }
    });

    test(`getStartMethod() in a child answers the method that started it ("${kind}")`, async () => {
      const pool = new ctx.Pool({ processes: 1 });
      try {
        assert.equal(await pool.apply(cases.startMethodHere), kind);
      } finally {
        await pool.terminate();
      }
    });

    test("a manager proxy call the child did not await still reaches the server before the child exits", async () => {
      await using manager = await Manager();
      const d = await manager.dict<string, number>();
      const p = new ctx.Process({
        target: (dict: { set(k: string, v: number): Promise<void> }) => {
          void dict.set("k", 42); // not awaited, as Python's synchronous call needs no await
        },
        args: [d],
      });
      p.start();
      await p.join();
      assert.equal(p.exitCode, 0);
      assert.equal(await d.get("k"), 42);
    });
  });
}

test("register(..., { exposed: ['f', '_h'] }) exposes _h on the proxy", async () => {
  const manager = new ExposingManager();
  await manager.start();
  try {
    const obj = await (manager as unknown as { WithPrivate(): Promise<Remote<WithPrivate>> }).WithPrivate();
    assert.equal(await obj.f(), "f");
    assert.equal(await (obj as unknown as { _h(): Promise<string> })._h(), "h");
  } finally {
    await manager.shutdown();
  }
});

test("getServer(), stop that server, then start() on the same manager works", async () => {
  const manager = new ExposingManager();
  const server = manager.getServer();
  await server.listen();
  server.stop();
  await manager.start();
  try {
    const obj = await (manager as unknown as { WithPrivate(): Promise<Remote<WithPrivate>> }).WithPrivate();
    assert.equal(await obj.f(), "f");
  } finally {
    await manager.shutdown();
  }
});

test("negative timeouts are 0, as in CPython: look without waiting", async () => {
  using ev = new Event();
  assert.equal(await ev.wait({ timeout: -1 }), false);
  assert.equal(ev.waitSync({ timeout: -5 }), false);
  await using q = new Queue<number>();
  await assert.rejects(q.get({ timeout: -1 }), { code: ErrorCodes.EMPTY });
  const [a, b] = Pipe();
  assert.equal(await b.poll({ timeout: -1 }), false);
  a.close();
  b.close();
});

test("a Process is named when it is created (Process-N), as in CPython", () => {
  const p = new Process({ target: cases.startMethodHere });
  assert.match(p.name, /^Process-\d+$/);
  const q = new Process({ target: cases.startMethodHere });
  assert.equal(Number(q.name.split("-")[1]), Number(p.name.split("-")[1]) + 1);
  assert.equal(new Process({ target: cases.startMethodHere, name: "mine" }).name, "mine");
});

describe("smaller things a newcomer met", () => {
  test("listener.address before the port-0 bind is done throws ERR_NOT_LISTENING, then gives the port", async () => {
    const listener = new Listener(["127.0.0.1", 0]);
    assert.throws(() => listener.address, { code: ErrorCodes.NOT_LISTENING, message: /await its ready/ });
    await listener.ready;
    const [, port] = listener.address as [string, number];
    assert.ok(port > 0);
    listener.close();
  });

  test("a manager server's address before listen() throws ERR_NOT_LISTENING", async () => {
    const manager = new ExposingManager({ address: ["127.0.0.1", 0] });
    const server = manager.getServer();
    assert.throws(() => server.address, { code: ErrorCodes.NOT_LISTENING });
    const bound = await server.listen();
    assert.deepEqual(server.address, bound);
    server.stop();
  });

  test("ERR_AUTHENTICATION names the authkey and says the default one is random per program", async () => {
    const listener = new Listener(["127.0.0.1", 0], { authkey: "right key" });
    await listener.ready;
    const accepted = listener.accept();
    accepted.catch(() => undefined);
    const err = await Client(listener.address, { authkey: "wrong key" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof AuthenticationError, String(err));
    assert.equal(err.code, ErrorCodes.AUTHENTICATION);
    assert.match(err.message, /authkey/);
    assert.match(err.message, /random per program/);
    const serverSide = await accepted.then(() => undefined, (e: unknown) => e);
    assert.match((serverSide as Error).message, /authkey differs/);
    listener.close();
  });
});
