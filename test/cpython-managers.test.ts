// Mixed fleets (issue 18): CPython manager clients on a multiproc server with serializer "pickle",
// and multiproc's pickle client on a CPython manager server, against real python3 processes of
// each version here (3.11: the legacy handshake; 3.13: the sha256 one). Python children are
// killed in `finally`; every wait is bounded.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { once } from "node:events";
import { describe, test } from "node:test";
import { BaseManager, ErrorCodes, PickleProxy, SyncManager, type Remote } from "multiproc";
import { INTERPRETERS, PythonProcess } from "./python-process.js";

const KEY = `pickle-key-${process.pid}`;

export class Employee {
  constructor(
    public name: string,
    public salary: number,
  ) {}
  increase(): void {
    this.salary += 100;
  }
  getPay(): string {
    return `${this.name}:${this.salary}`;
  }
}

/** A method that answers only when the test says so (the client is killed while it waits). */
const blocker = { entered: (): void => undefined, release: (): void => undefined };
export class Blocker {
  wait(): Promise<null> {
    blocker.entered();
    return new Promise((resolve) => (blocker.release = () => resolve(null)));
  }
}

class PyFacingManager extends SyncManager {}
PyFacingManager.register("Employee", Employee);
PyFacingManager.register("Blocker", Blocker);

/** A pickle server in this process; the serializer given to the manager, or to getServer(). */
async function serve(via: "manager" | "getServer" = "manager") {
  const manager = new PyFacingManager({ address: ["127.0.0.1", 0], authkey: KEY, ...(via === "manager" ? { serializer: "pickle" as const } : {}) });
  const server = via === "manager" ? manager.getServer() : manager.getServer({ serializer: "pickle" });
  const address = await server.listen();
  return { manager, server, port: String((address as readonly [string, number])[1]) };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/** Waits (without sleeping) until `cond` holds, turning the event loop; fails after `ms`. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("CPython clients on a multiproc manager (serializer: pickle)", { skip: INTERPRETERS.length === 0 && "python3 is not installed" }, () => {
  for (const py of INTERPRETERS) {
    test(`${py.name}: dict, list, Namespace, Value, Queue and a registered class, by their Python names`, async () => {
      const { server, port } = await serve();
      const client = new PythonProcess(py, "manager_client.py", [port, KEY, "types"]);
      try {
        assert.deepEqual(await client.json(), {
          step: "dict",
          get: "[1, (2, 3), {'x': None}, b'\\x00\\xff', 1180591620717411303424, 1.5, {4, 5}]",
          missing: "'dflt'",
          len: 2,
          has: true,
          keys: "['a', 'b']",
          copy: "{'a': 1, 'b': [1, (2, 3), {'x': None}, b'\\x00\\xff', 1180591620717411303424, 1.5, {4, 5}]}",
        });
        assert.deepEqual(await client.json(), { step: "keyerror", error: "KeyError('nope')" });
        assert.deepEqual(await client.json(), { step: "list", items: "['zero', 2, 3, 4]", slice: "[2, 3]", last: 4, len: 4 });
        assert.deepEqual(await client.json(), { step: "indexerror", error: "IndexError" });
        assert.deepEqual(await client.json(), { step: "namespace", x: 1, y: "two", missing: "AttributeError" });
        assert.deepEqual(await client.json(), { step: "value", value: 7 });
        assert.deepEqual(await client.json(), { step: "queue", first: "{'k': b'bytes'}", second: "1208925819614629174706176", empty: "Empty", qsize: 0 });
        assert.deepEqual(await client.json(), { step: "callable", pay: "zhangsan:1100" });
        // A datetime is outside the value set: refused (never unpickled into anything), answered
        // with a clear error, and the next call on the same proxy works.
        assert.deepEqual(await client.json(), { step: "unsupported", error: "RemoteError: ERR_PICKLE_REFUSED", after: 1 });
        await client.success();
      } finally {
        await client.kill();
        server.stop();
      }
    });

    test(`${py.name}: a client with the wrong key is refused at the handshake`, async () => {
      const { server, port } = await serve();
      const client = new PythonProcess(py, "manager_client.py", [port, "not-the-key", "types"]);
      try {
        assert.deepEqual(await client.json(), { step: "connect", error: "AuthenticationError" });
        await client.success();
        assert.equal(server.connectionCount, 0);
        assert.equal(server.objectCount, 0);
      } finally {
        await client.kill();
        server.stop();
      }
    });

    test(`${py.name}: a client killed in the middle of a call does not harm the server`, async () => {
      const { server, port } = await serve("getServer");
      const entered = new Promise<void>((resolve) => (blocker.entered = resolve));
      const victim = new PythonProcess(py, "manager_client.py", [port, KEY, "blocked"]);
      try {
        assert.deepEqual(await victim.json(), { step: "calling" });
        await withTimeout(entered, 30_000, "the blocked call");
        await victim.kill();
        await until(() => server.connectionCount === 0, 30_000, "the server noticing the dead client");
        blocker.release(); // the answer has nowhere to go: dropped
        // The server goes on: a new CPython client gets everything right.
        const next = new PythonProcess(py, "manager_client.py", [port, KEY, "types"]);
        try {
          assert.equal((await next.json()).step, "dict");
          await next.success();
        } finally {
          await next.kill();
        }
      } finally {
        await victim.kill();
        server.stop();
      }
    });
  }

  test("bytes sent instead of the handshake's answer are never unpickled", async () => {
    const { server, port } = await serve();
    try {
      const socket = connect(Number(port), "127.0.0.1");
      await once(socket, "connect");
      // A framed pickle of os.system("...") where the challenge's answer belongs.
      const evil = Buffer.from("\x80\x04cos\nsystem\n\x8c\x04true\x85R.", "latin1");
      const frame = Buffer.alloc(4 + evil.length);
      frame.writeInt32BE(evil.length);
      evil.copy(frame, 4);
      socket.write(frame);
      socket.resume();
      await withTimeout(once(socket, "close"), 30_000, "the server closing a client that failed the handshake");
      assert.equal(server.connectionCount, 0);
      assert.equal(server.objectCount, 0);
    } finally {
      server.stop();
    }
  });
});

class QueueManager extends BaseManager {}
QueueManager.register("get_queue");
QueueManager.register("get_data");
QueueManager.register("Maker");

interface Maker {
  make(items: Record<string, unknown>): Record<string, unknown>;
  add(a: unknown, b: unknown): unknown;
  boom(): void;
}

describe("multiproc's client on a CPython manager server (serializer: pickle)", { skip: INTERPRETERS.length === 0 && "python3 is not installed" }, () => {
  for (const py of INTERPRETERS) {
    test(`${py.name}: seed 004's QueueManager, a DataServer's dict, #PROXY results, errors`, async () => {
      const server = new PythonProcess(py, "manager_server.py", [KEY]);
      const manager = new QueueManager({ address: ["127.0.0.1", Number(await server.line())], authkey: KEY, serializer: "pickle" });
      try {
        await manager.connect();
        const q = await manager.create<{ put(x: unknown): void; get(o?: object): unknown; qsize(): number; getNowait(): unknown }>("get_queue");
        await q.put({ job: 1, data: new Uint8Array([1, 2]), big: 2n ** 64n, set: new Set([1]), map: new Map([[1, "one"]]) });
        assert.deepEqual(await q.get(), { job: 1, data: Buffer.from([1, 2]), big: 2n ** 64n, set: new Set([1]), map: new Map([[1, "one"]]) });
        await assert.rejects(q.get({ timeout: 50 }), { code: ErrorCodes.EMPTY });
        await assert.rejects(q.getNowait(), { code: ErrorCodes.EMPTY });
        // A blocked get holds up nothing: the put goes on another call connection.
        const [got] = await Promise.all([q.get(), q.put("late")]);
        assert.equal(got, "late");

        const d = await manager.create<{ set(k: string, v: unknown): void; get(k: string): unknown; keys(): string[]; has(k: string): boolean; size(): number }>("get_data");
        await d.set("b", [1, 2]);
        assert.deepEqual(await d.get("b"), [1, 2]);
        assert.deepEqual(await d.keys(), ["a", "b"]);
        assert.equal(await d.has("a"), true);
        assert.equal(await d.size(), 2);
        await assert.rejects(d._callMethod("__getitem__", ["zz"]), (e: Error & { code?: string }) => e.code === ErrorCodes.REMOTE && e.message.startsWith("KeyError: zz"));
        // A value outside the set fails at the call, before anything is sent; the proxy goes on.
        await assert.rejects(d.set("f", () => 1), { code: ErrorCodes.UNSERIALIZABLE });
        await assert.rejects(d.set("d", new Date()), { code: ErrorCodes.UNSERIALIZABLE });
        assert.equal(await d.get("a"), 1);

        const maker = await manager.create<Maker>("Maker");
        assert.equal(await maker.add(2n ** 70n, 1), 2n ** 70n + 1n);
        assert.equal(await maker.add("a", "b"), "ab");
        await assert.rejects(maker.boom(), (e: Error & { code?: string }) => e.code === ErrorCodes.REMOTE && e.message.startsWith("ValueError: boom"));
        await assert.rejects(maker.add(1, "x"), (e: Error) => e.message.startsWith("TypeError"));
        // method_to_typeid: the result stays on the server and comes back as a proxy (#PROXY).
        const made = (await (maker as unknown as PickleProxy)._callMethod("make", [], { x: 1, y: [2] })) as Remote<{ get(k: string): unknown; keys(): string[] }>;
        assert.deepEqual(await made.keys(), ["x", "y"]);
        assert.deepEqual(await made.get("y"), [2]);
      } finally {
        await manager.shutdown();
        await server.kill();
      }
    });
  }
});

describe("a multiproc manager with serializer pickle, both ends ours", () => {
  test("start() serves a child process's pickle server to this client", async () => {
    await using manager = new SyncManager({ serializer: "pickle" });
    await manager.start();
    const d = await manager.dict<string, unknown>({ a: 1 });
    await d.set("b", [1, 2]);
    assert.deepEqual(await d.get("b"), [1, 2]);
    assert.deepEqual(await d.keys(), ["a", "b"]);
    assert.equal(await d.has("zz"), false);
    const l = await manager.list([1, 2, 3]);
    await l.append(4);
    assert.deepEqual(await l.toArray(), [1, 2, 3, 4]);
    assert.deepEqual(await l.slice(1, 3), [2, 3]);
    const q = await manager.Queue<string>();
    await q.put("x");
    assert.equal(await q.get(), "x");
    await assert.rejects(q.get({ timeout: 20 }), { code: ErrorCodes.EMPTY });
  });
});
