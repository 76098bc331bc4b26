// ClusterPool failure semantics against a real redis-server: worker nodes SIGKILLed mid-map (their
// tasks move to the other nodes, every item lands in the result exactly once), tasks that keep
// killing their nodes (WorkerLostError after `attempts`), and Redis stopped mid-call (a coded
// rejection within connectionTimeout, and recovery once Redis is back, even of a call in flight).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ClusterPool, SharedMemory, WorkerLostError } from "multiproc";
import { NodeProcess, RedisServer, skipWithoutRedis } from "./cluster-helpers.js";
import { countedSqr, killNode } from "./fixtures/cluster-targets.js";
import { sqr } from "./fixtures/pool-targets.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const runs = (shm: SharedMemory) => Atomics.load(new Int32Array(shm.buffer), 0);
/** Short locks, so a dead node's tasks move on within seconds. */
const FAST = { lockDuration: 3000, stalledInterval: 500 };

describe("ClusterPool failures", { skip: skipWithoutRedis() }, () => {
  let redis: RedisServer;
  const nodes: NodeProcess[] = [];
  const node = async (options = FAST) => {
    const n = await NodeProcess.start(redis.url, options);
    nodes.push(n);
    return n;
  };
  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
  });

  test("a worker node SIGKILLed mid-map: the other node takes its tasks over; every item is in the result exactly once", async () => {
    const [a, b] = await Promise.all([node(), node()]);
    await using pool = new ClusterPool({ connection: redis.url, connectionTimeout: 30_000 });
    using shm = new SharedMemory({ create: true, size: 8 });
    const n = 400;
    let killed = false;
    const r = pool.starmapAsync(countedSqr, range(n).map((x) => [shm, x, 10] as [SharedMemory, number, number]), {
      chunksize: 4,
      progress: (done) => {
        if (!killed && done >= n / 4) {
          killed = true;
          a.kill();
        }
      },
    });
    const got = await r;
    assert.ok(killed);
    assert.equal(await a.exited, -1);
    assert.deepEqual(got, range(n).map((x) => x * x));
    // One accepted answer per chunk, though a chunk may have run twice (at-least-once delivery).
    assert.equal(r.stats.reduce((k, s) => k + s.items, 0), n);
    assert.ok(runs(shm) >= n, `${runs(shm)} runs`);
    const byNode = new Set(r.stats.map((s) => s.name.split("/")[0]));
    assert.ok(byNode.has(b.name));
    assert.deepEqual(await pool.map(sqr, range(10)), range(10).map((x) => x * x));
    await b.stop();
    shm.unlink();
  });

  test("a task that kills every node that runs it rejects with WorkerLostError after `attempts` runs; the pool goes on", async () => {
    const three = await Promise.all([node(), node(), node()]);
    await using pool = new ClusterPool({ connection: redis.url, attempts: 2, connectionTimeout: 30_000 });
    await assert.rejects(pool.apply(killNode), (err: unknown) => {
      assert.ok(err instanceof WorkerLostError, String(err));
      assert.equal(err.code, "ERR_WORKER_LOST");
      assert.match(err.message, /lost 2 times \(the pool's attempts: 2\)/);
      return true;
    });
    assert.equal(three.filter((n) => !n.alive).length, 2);
    assert.equal(await pool.apply(sqr, [4]), 16);
    await Promise.all(three.map((n) => n.stop()));
  });

  test("Redis stopped mid-call: the call rejects with ERR_REDIS_UNAVAILABLE; once Redis is back, pool and nodes recover", async () => {
    await node();
    const pool = new ClusterPool({ connection: redis.url, connectionTimeout: 1500 });
    using shm = new SharedMemory({ create: true, size: 8 });
    let onFirst = () => undefined as void;
    const first = new Promise<void>((resolve) => (onFirst = resolve));
    const call = pool.starmap(countedSqr, range(50).map((x) => [shm, x, 200] as [SharedMemory, number, number]), { chunksize: 1, progress: () => onFirst() });
    await first;
    await redis.stop(true);
    await assert.rejects(call, (err: Error & { code: string }) => {
      assert.equal(err.code, "ERR_REDIS_UNAVAILABLE");
      assert.match(err.message, /^Redis at redis:\/\/127\.0\.0\.1:\d+ did not answer for 1500 ms.*the call gave up/);
      return true;
    });
    // A call made while Redis is away waits connectionTimeout, then gives up the same way.
    const started = performance.now();
    await assert.rejects(pool.apply(sqr, [2]), { code: "ERR_REDIS_UNAVAILABLE" });
    assert.ok(performance.now() - started >= 1499);
    await redis.restart();
    assert.equal(await pool.apply(sqr, [3]), 9);
    await pool.terminate();
    shm.unlink();
  });

  test("events trimmed from the stream before the pool read them: the pool notices and the map still completes", async () => {
    await node();
    await using pool = new ClusterPool({ connection: redis.url, connectionTimeout: 30_000 });
    using shm = new SharedMemory({ create: true, size: 8 });
    let trimmed = false;
    const got = await pool.starmap(countedSqr, range(30).map((x) => [shm, x, 30] as [SharedMemory, number, number]), {
      chunksize: 1,
      progress: (done) => {
        if (done !== 2 || trimmed) return;
        trimmed = true;
        // This pool's event loop stops for a while (a long synchronous stretch of user code): the
        // nodes go on completing tasks, and their events are trimmed from the stream unread.
        const until = Date.now() + 1000;
        while (Date.now() < until);
        redis.cli(["XTRIM", "bull:multiproc:events", "MAXLEN", "0"]);
      },
    });
    assert.ok(trimmed);
    assert.deepEqual(got, range(30).map((x) => x * x));
    shm.unlink();
  });

  test("Redis restarted empty within connectionTimeout: the map in flight is submitted again and completes", async () => {
    await node();
    await using pool = new ClusterPool({ connection: redis.url, connectionTimeout: 30_000 });
    using shm = new SharedMemory({ create: true, size: 8 });
    let restarted: Promise<void> | undefined;
    const got = await pool.starmap(countedSqr, range(20).map((x) => [shm, x, 100] as [SharedMemory, number, number]), {
      chunksize: 1,
      progress: (done) => {
        if (done === 3) restarted = redis.stop(true).then(() => redis.restart());
      },
    });
    assert.ok(restarted !== undefined);
    await restarted;
    assert.deepEqual(got, range(20).map((x) => x * x));
    assert.ok(runs(shm) >= 20);
    shm.unlink();
  });
});
