// multiproc/connection: CPython's framing and HMAC handshake, interop with python3 both ways,
// wrong keys refused on both sides, and the hostile inputs a listener must survive.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { describe, test } from "node:test";
import { AuthenticationError, Client, ErrorCodes, getContext, Listener, wait } from "multiproc";
import { FrameDecoder, frameHeader } from "#internal/connection/framing.js";
import { CONTEXTS, ROOT } from "./helpers.js";
import { echoDoubled } from "./fixtures/connection-targets.js";

const KEY = Buffer.from("test-key");
const python = (file: string) => join(ROOT, "test/fixtures/python", file);

function runPython(args: string[]): { lines: AsyncIterator<string>; done: Promise<number | null> } {
  const child = spawn("python3", args, { stdio: ["ignore", "pipe", "inherit"] });
  const done = once(child, "exit").then(([code]) => code as number | null);
  async function* lines(): AsyncGenerator<string> {
    let buffered = "";
    for await (const chunk of child.stdout) {
      buffered += String(chunk);
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        yield buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
      }
    }
  }
  return { lines: lines(), done };
}

async function listen(options: ConstructorParameters<typeof Listener>[1] = {}): Promise<Listener> {
  const l = new Listener(["127.0.0.1", 0], { authkey: KEY, ...options });
  await l.ready;
  return l;
}

function port(l: Listener): number {
  const a = l.address;
  assert.ok(typeof a !== "string");
  return a[1];
}

/** A raw TCP socket to the listener, for hostile tests. */
async function raw(l: Listener): Promise<Socket> {
  const s = connect({ host: "127.0.0.1", port: port(l) });
  await once(s, "connect");
  s.resume(); // read (and ignore) what the listener sends, so that 'end' and 'close' arrive
  return s;
}

describe("connection: CPython interop (python3)", () => {
  test("CPython's Client authenticates against our Listener and exchanges bytes", async () => {
    await using l = await listen();
    const py = runPython([python("conn_client.py"), "127.0.0.1", String(port(l)), KEY.toString()]);
    const conn = await l.accept();
    assert.equal((await conn.recvBytes()).toString(), "hello from python");
    await conn.sendBytes(Buffer.from("hello from node"));
    assert.equal((await py.lines.next()).value, "got hello from node");
    assert.equal(await py.done, 0);
    conn.close();
  });

  test("our Client authenticates against CPython's Listener", async () => {
    const py = runPython([python("conn_listener.py"), KEY.toString()]);
    const pyPort = Number((await py.lines.next()).value);
    const conn = await Client(["127.0.0.1", pyPort], { authkey: KEY });
    await conn.sendBytes(new TextEncoder().encode("ping"));
    assert.equal((await conn.recvBytes()).toString(), "echo:ping");
    assert.equal((await py.lines.next()).value, "OK");
    assert.equal(await py.done, 0);
    conn.close();
  });

  test("a wrong key is refused both ways with CPython's Client", async () => {
    await using l = await listen();
    const py = runPython([python("conn_client.py"), "127.0.0.1", String(port(l)), "not-the-key"]);
    await assert.rejects(l.accept(), (err: unknown) => err instanceof AuthenticationError && err.code === ErrorCodes.AUTHENTICATION);
    assert.equal((await py.lines.next()).value, "ERR AuthenticationError");
    assert.equal(await py.done, 3);
  });

  test("a wrong key is refused both ways with CPython's Listener", async () => {
    const py = runPython([python("conn_listener.py"), KEY.toString()]);
    const pyPort = Number((await py.lines.next()).value);
    await assert.rejects(Client(["127.0.0.1", pyPort], { authkey: "wrong" }), { name: "AuthenticationError", code: ErrorCodes.AUTHENTICATION });
    assert.equal((await py.lines.next()).value, "ERR AuthenticationError");
    assert.equal(await py.done, 0);
  });

  test("allowLegacyAuth: false refuses CPython 3.11's HMAC-MD5 handshake in both roles", async () => {
    await using l = await listen({ allowLegacyAuth: false });
    const py = runPython([python("conn_client.py"), "127.0.0.1", String(port(l)), KEY.toString()]);
    await assert.rejects(l.accept(), { code: ErrorCodes.LEGACY_AUTH_REFUSED });
    assert.equal(await py.done, 3);
    const py2 = runPython([python("conn_listener.py"), KEY.toString()]);
    const pyPort = Number((await py2.lines.next()).value);
    await assert.rejects(Client(["127.0.0.1", pyPort], { authkey: KEY, allowLegacyAuth: false }), { code: ErrorCodes.LEGACY_AUTH_REFUSED });
    await py2.done;
  });
});

describe("connection: our Listener and Client", () => {
  test("objects, bytes, recvBytesInto, poll, wait, EOF and async iteration over TCP", async () => {
    await using l = await listen();
    const [server, client] = await Promise.all([l.accept(), Client(l.address, { authkey: KEY })]);
    assert.equal(await server.poll(), false);
    await client.send({ a: 1n, m: new Map([[1, "x"]]), d: new Date(0) });
    assert.deepEqual(await wait([server], { timeout: 5000 }), [server]);
    assert.equal(await server.poll(), true);
    assert.deepEqual(await server.recv(), { a: 1n, m: new Map([[1, "x"]]), d: new Date(0) });
    const big = Buffer.alloc(300_000, 7);
    await client.sendBytes(new Uint16Array([1, 2, 3, 4]), 1, 2);
    await server.sendBytes(big);
    assert.deepEqual([...(await server.recvBytes())], [2, 0, 3, 0]);
    const into = Buffer.alloc(300_010);
    assert.equal(await client.recvBytesInto(into, 10), 300_000);
    assert.equal(into[10], 7);
    await server.sendBytes(Buffer.alloc(100));
    await assert.rejects(client.recvBytesInto(Buffer.alloc(10)), { code: ErrorCodes.BUFFER_TOO_SHORT });
    assert.deepEqual(await wait([server, client], { timeout: 50 }), []);
    await assert.rejects(client.send(() => 1), { code: ErrorCodes.UNSERIALIZABLE });
    await client.send("last");
    client.close();
    const got: unknown[] = [];
    for await (const v of server) got.push(v);
    assert.deepEqual(got, ["last"]);
    await assert.rejects(server.recv(), { code: ErrorCodes.EOF });
    assert.equal(client.closed, true);
    await assert.rejects(client.send(1), { code: ErrorCodes.CLOSED });
    server.close();
  });

  test("Unix socket path, and modern sha256 handshake with a wrong key refused on both sides", async () => {
    await using l = new Listener(undefined, { authkey: KEY });
    await l.ready;
    assert.equal(typeof l.address, "string");
    const accepted = assert.rejects(l.accept(), { code: ErrorCodes.AUTHENTICATION });
    await assert.rejects(Client(l.address, { authkey: "nope" }), { code: ErrorCodes.AUTHENTICATION });
    await accepted;
    const [a, b] = await Promise.all([l.accept(), Client(l.address, { authkey: KEY })]);
    await b.send([1, 2, 3]);
    assert.deepEqual(await a.recv(), [1, 2, 3]);
    a.close();
    b.close();
  });

  test("recvBytes({ maxLength }) refuses a longer message", async () => {
    await using l = await listen();
    const [a, b] = await Promise.all([l.accept(), Client(l.address, { authkey: KEY })]);
    await b.sendBytes(Buffer.alloc(1000));
    await assert.rejects(a.recvBytes({ maxLength: 999 }), { code: ErrorCodes.BAD_MESSAGE_LENGTH });
    assert.equal(a.readable, false);
    a.close();
    b.close();
  });

  test("bad arguments are refused at the call", async () => {
    assert.throws(() => new Listener(["127.0.0.1", 70000]), { code: ErrorCodes.OUT_OF_RANGE });
    assert.throws(() => new Listener(42 as never), { code: ErrorCodes.INVALID_ARG_TYPE });
    assert.throws(() => new Listener(["127.0.0.1", 0], { authkey: 5 as never }), { code: ErrorCodes.INVALID_ARG_TYPE });
    await assert.rejects(Client(["127.0.0.1", 1], { authkey: KEY }), { code: ErrorCodes.CONNECTION_FAILED });
    await assert.rejects(wait([{} as never]), { code: ErrorCodes.INVALID_ARG_TYPE });
  });

  for (const kind of CONTEXTS) {
    test(`a child (${kind}) connects back to the parent's Listener`, async () => {
      await using l = await listen();
      const p = new (getContext(kind).Process)({ target: echoDoubled, args: [l.address, KEY] });
      p.start();
      const conn = await l.accept();
      await conn.send({ n: 21, items: new Map([["a", 1]]) });
      const reply = (await conn.recv()) as { n: number; items: Map<string, number> };
      assert.equal(reply.n, 42);
      assert.deepEqual(reply.items, new Map([["a", 1]]));
      conn.close();
      await p.join();
      assert.equal(p.exitCode, 0);
    });
  }
});

describe("connection: hostile peers", () => {
  test("an oversized frame before authentication is refused without being read", async () => {
    await using l = await listen();
    const accepted = l.accept();
    const s = await raw(l);
    // Announce a 1 GiB reply to the challenge.
    s.write(frameHeader(1 << 30));
    await assert.rejects(accepted, { code: ErrorCodes.AUTHENTICATION });
    await once(s, "close");
  });

  test("garbage instead of a handshake is refused", async () => {
    await using l = await listen();
    const accepted = l.accept();
    const s = await raw(l);
    s.write(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await assert.rejects(accepted, { name: "AuthenticationError" });
    s.destroy();
  });

  test("a client that never finishes the handshake times out", async () => {
    await using l = await listen({ handshakeTimeout: 150 });
    const accepted = l.accept();
    const started = Date.now();
    const s = await raw(l);
    await assert.rejects(accepted, { code: ErrorCodes.HANDSHAKE_TIMEOUT });
    assert.ok(Date.now() - started >= 140);
    await once(s, "close");
  });

  test("1,000 connections opened and dropped leave the listener serving", async () => {
    await using l = await listen();
    const failures: Promise<unknown>[] = [];
    for (let round = 0; round < 10; round++) {
      const sockets = await Promise.all(Array.from({ length: 100 }, () => raw(l)));
      for (const s of sockets) {
        failures.push(l.accept().catch((e: unknown) => e));
        s.destroy();
      }
    }
    const errors = await Promise.all(failures);
    assert.ok(errors.every((e) => e instanceof AuthenticationError));
    const [a, b] = await Promise.all([l.accept(), Client(l.address, { authkey: KEY })]);
    await b.send("still here");
    assert.equal(await a.recv(), "still here");
    a.close();
    b.close();
  });
});

describe("connection: framing", () => {
  test("the 8-byte length extension and frames split across chunks", () => {
    const d = new FrameDecoder(Number.MAX_SAFE_INTEGER);
    const out: Buffer[] = [];
    const body = Buffer.from("abcdef");
    const ext = Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from([0, 0, 0, 0, 0, 0, 0, 6]), body]);
    for (const byte of ext) d.push(Buffer.from([byte]), out);
    assert.deepEqual(out, [body]);
    assert.deepEqual(frameHeader(0x80000000), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x80, 0, 0, 0]));
    const limited = new FrameDecoder(5);
    assert.throws(() => limited.push(ext, []), { code: ErrorCodes.BAD_MESSAGE_LENGTH });
    assert.throws(() => limited.push(Buffer.from([0xff, 0xff, 0xff, 0xfe]), []), { code: ErrorCodes.BAD_MESSAGE_LENGTH });
  });
});
