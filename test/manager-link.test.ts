// Managers' shared-memory links (src/managers/link.ts): a client on the server's machine sends its
// calls through rings in shared memory instead of the socket. These tests check that local
// clients (this process, child processes and threads) do use it and a `sharedMemory: false` client
// does not; that calls keep their order however they are issued (before the connection is ready,
// many in flight, bigger than the rings); that a call blocking on the server is answered; and that
// the death of either side is noticed (no hang, nothing left behind).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EOFError, getContext, type DictProxy, type QueueProxy } from "multiproc";
import { CONTEXTS, eventually } from "./helpers.js";
import { callThenWait, dieHoldingSpawn, putFromQueueInDict, ServedManager, type Maths, type ServerInfo } from "./fixtures/manager-types.js";

const KEY = "link-key";

async function served() {
  const manager = new ServedManager({ authkey: KEY });
  const server = manager.getServer();
  const address = await server.listen();
  return { manager, server, address };
}

describe("manager links", () => {
  for (const kind of CONTEXTS) {
    test(`this process and a child (${kind}) call through links; a sharedMemory: false client through its socket`, async () => {
      const { manager, server, address } = await served();
      try {
        const d = await manager.dict<string, number>();
        await d.set("here", 1);
        assert.equal(server.linkCount, 1, "this process's client uses a link");
        const [ready, go] = [await manager.Event(), await manager.Event()];
        const p = new (getContext(kind).Process)({ target: callThenWait, args: [d, kind, ready, go] });
        p.start();
        assert.equal(await ready.wait({ timeout: 20_000 }), true);
        assert.equal(server.linkCount, 2, "the child's client uses a link too");
        assert.equal(await d.get(kind), 99);

        const plain = new ServedManager({ address, authkey: KEY, sharedMemory: false });
        await plain.connect();
        const viaSocket = await plain.dict<string, number>();
        await viaSocket.set("socket", 2);
        assert.equal(await viaSocket.get("socket"), 2);
        assert.equal(server.linkCount, 2, "the sharedMemory: false client does not");

        await go.set();
        await p.join();
        assert.equal(p.exitCode, 0);
        assert.ok(await eventually(() => server.linkCount === 1), "the child's link is gone with it");
      } finally {
        await manager.shutdown();
      }
    });
  }

  test("calls keep their order: issued before the connection is ready, thousands in flight, bigger than the rings", async () => {
    const { manager, address } = await served();
    try {
      const client = new ServedManager({ address, authkey: KEY });
      await client.connect();
      const l = await client.list<number | string>();
      // Not awaited: they queue while the channel connects, then all go through the link.
      const appends: Promise<unknown>[] = [];
      for (let i = 0; i < 3000; i++) appends.push(l.append(i));
      await Promise.all(appends);
      assert.deepEqual(await l.toArray(), Array.from({ length: 3000 }, (_, i) => i));

      // 40 x 100 kB in flight overflow the 64 kB request ring (fragments, queued sends); the
      // replies to 40 gets of them overflow the 256 kB reply ring; 3 MB goes out of line.
      const big = (i: number) => String(i).padEnd(100_000, "x");
      await Promise.all(Array.from({ length: 40 }, (_, i) => l.append(big(i))));
      const got = await Promise.all(Array.from({ length: 40 }, (_, i) => l.get(3000 + i)));
      assert.deepEqual(got, Array.from({ length: 40 }, (_, i) => big(i)));
      const huge = "y".repeat(3_000_000);
      await l.append(huge);
      assert.equal(await l.get(-1), huge);
    } finally {
      await manager.shutdown();
    }
  });

  for (const kind of CONTEXTS) {
    test(`a call that blocks on the server is answered when a child (${kind}) makes it ready`, async () => {
      const { manager } = await served();
      try {
        const d = await manager.dict<string, QueueProxy<string>>();
        const q = await manager.Queue<string>();
        await d.set("q", q);
        const got = q.get(); // blocks on the server until the child puts
        const p = new (getContext(kind).Process)({ target: putFromQueueInDict, args: [d, "late"] });
        p.start();
        assert.equal(await got, "late");
        await p.join();
      } finally {
        await manager.shutdown();
      }
    });
  }

  test("a client that dies holding references: its objects and its link are freed, the others go on", async () => {
    const { manager, server } = await served();
    try {
      const maths = await manager.create<Maths>("SpawningMaths");
      const base = server.objectCount;
      const p = new (getContext("process").Process)({ target: dieHoldingSpawn, args: [maths] });
      p.start();
      await p.join();
      assert.equal(p.exitCode, -9);
      assert.ok(await eventually(() => server.linkCount === 1 && server.connectionCount === 1), "the dead client's connection and link are gone");
      assert.ok(await eventually(() => server.objectCount === base), "the object only it held is freed");
      assert.equal(await maths.add(4, 3), 7);
    } finally {
      await manager.shutdown();
    }
  });

  test("a server killed while a call waits on it: the call rejects with EOFError, no hang", async () => {
    const m = new ServedManager();
    await m.start();
    const info = await m.create<ServerInfo>("ServerInfo");
    const pid = await info.pid();
    const q = await m.Queue<number>();
    const waiting = q.get();
    process.kill(pid, "SIGKILL");
    await assert.rejects(waiting, EOFError);
    await m.join({ timeout: 20_000 });
  });

  test("calls from many proxies of one client interleave through one link", async () => {
    const { manager } = await served();
    try {
      const dicts: DictProxy<number, number>[] = await Promise.all(Array.from({ length: 20 }, () => manager.dict<number, number>()));
      await Promise.all(dicts.flatMap((d, j) => Array.from({ length: 50 }, (_, i) => d.set(i, i * j))));
      const sums = await Promise.all(dicts.map(async (d) => (await d.values()).reduce((a, b) => a + b, 0)));
      assert.deepEqual(sums, Array.from({ length: 20 }, (_, j) => j * 1225));
    } finally {
      await manager.shutdown();
    }
  });
});
