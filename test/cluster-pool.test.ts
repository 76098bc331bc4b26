// ClusterPool against a real redis-server with two worker nodes started by the CLI: the local
// Pool's conformance cases (conformance/pool-cases.ts), a 10,000-item map through both nodes, and
// bad input (connection URLs, an unreachable Redis, payloads too large, missing modules) refused
// with typed errors while the pool stays usable.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ClusterPool, ErrorCodes, fromModule, WorkerNode } from "multiproc";
import { CLI, freePort, NodeProcess, RedisServer, skipWithoutRedis } from "./cluster-helpers.js";
import { callCases, imapCases, lifetimeCases } from "./conformance/pool-cases.js";
import { bigString, busySqr } from "./fixtures/cluster-targets.js";
import { sqr } from "./fixtures/pool-targets.js";
import { describeTask, emitCount, emitItem, failOdd, markWhenAborted } from "./fixtures/pool-features.js";
import { eventually, ROOT, runNode } from "./helpers.js";
import { expectations } from "./example-runner.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("ClusterPool on two worker nodes", { skip: skipWithoutRedis() }, () => {
  let redis: RedisServer;
  let nodes: NodeProcess[] = [];
  before(async () => {
    redis = await RedisServer.start();
    nodes = await Promise.all([NodeProcess.start(redis.url), NodeProcess.start(redis.url)]);
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
  });
  const make = (processes: number) => new ClusterPool({ connection: redis.url, processes, connectionTimeout: 30_000 });

  callCases("ClusterPool: calls", make);
  imapCases("ClusterPool: imap", make);
  lifetimeCases("ClusterPool: lifetime", make);

  describe("ClusterPool: at scale and its own API", () => {
    test("an abort reaches the signal of a task running on a worker node (issue 16)", async () => {
      await using pool = make(2);
      const marker = join(tmpdir(), `mp-cluster-abort-${process.pid}-${Date.now()}`);
      const ac = new AbortController();
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const r = pool.apply(markWhenAborted, [marker, 60_000], { signal: ac.signal, onEvent: () => started() });
      r.catch(() => undefined);
      await running; // the task runs on a node
      ac.abort();
      await assert.rejects(r, { code: "ERR_ABORTED" });
      try {
        assert.ok(await eventually(() => existsSync(marker), 20_000), "the task never saw its signal abort");
        assert.equal(readFileSync(marker, "utf8"), "ERR_ABORTED");
      } finally {
        rmSync(marker, { force: true });
      }
      assert.equal(await pool.apply(sqr, [3]), 9);
    });

    test("settle, onEvent and currentTask() work on worker nodes (issue 16)", async () => {
      await using pool = make(2);
      const records = await pool.map(failOdd, range(12), { settle: true, chunksize: 3 });
      assert.equal(records.length, 12);
      records.forEach((r, i) => {
        if (i % 2 === 0) assert.deepEqual(r, { status: "fulfilled", value: i });
        else assert.ok(r.status === "rejected" && r.reason instanceof RangeError && r.reason.message === `odd ${i}`, `item ${i}`);
      });
      const imapped = [];
      for await (const r of pool.imap(failOdd, range(6), { settle: true })) imapped.push(r.status);
      assert.deepEqual(imapped, ["fulfilled", "rejected", "fulfilled", "rejected", "fulfilled", "rejected"]);
      const events: unknown[] = [];
      assert.equal(await pool.apply(emitCount, [10], { onEvent: (v) => events.push(v) }), "done");
      assert.deepEqual(events, range(10));
      const seen: number[] = [];
      assert.deepEqual(await pool.map(emitItem, range(8), { chunksize: 2, onEvent: (v) => seen.push(v as number) }), range(8).map((x) => x * 10));
      assert.deepEqual(seen.sort((a, b) => a - b), range(8));
      const inside = await pool.apply(describeTask);
      assert.ok(inside !== null && Number.isInteger(inside.id) && !inside.aborted);
    });

    test("map over 10,000 items through 2 worker nodes gives the ordered result; both nodes ran tasks", async () => {
      await using pool = new ClusterPool({ connection: redis.url, connectionTimeout: 30_000 });
      const nodesSeen = await pool.nodes();
      assert.deepEqual(nodesSeen.map((n) => n.name).sort(), nodes.map((n) => n.name).sort());
      assert.ok(nodesSeen.every((n) => n.concurrency === 1));
      const xs = range(10_000);
      const r = pool.mapAsync(busySqr, xs);
      assert.deepEqual(await r, xs.map((x) => x * x));
      assert.equal(r.stats.reduce((n, s) => n + s.items, 0), 10_000);
      const ran = new Set(r.stats.map((s) => s.name.split("/")[0]));
      assert.deepEqual([...ran].sort(), nodes.map((n) => n.name).sort());
      assert.match(String(pool), /^<ClusterPool redis:\/\/127\.0\.0\.1:\d+ queue=multiproc state=running>$/);
    });

    test("a module the nodes cannot import fails the task with ERR_TARGET_NOT_FOUND naming the node's root", async () => {
      await using pool = make(2);
      const gone = fromModule<{ f: (x: number) => number }>(new URL("../fixtures/no-such-module.js", import.meta.url));
      await assert.rejects(pool.apply(gone.f, [1]), (err: Error & { code: string }) => {
        assert.equal(err.code, "ERR_TARGET_NOT_FOUND");
        assert.match(err.message, /cannot find the task's function 'f'.*no-such-module\.js.*root/);
        return true;
      });
      assert.equal(await pool.apply(sqr, [7]), 49);
    });

    test("examples/cluster-map.ts starts its own 2 nodes on this Redis and prints what it expects", async () => {
      const source = readFileSync(join(ROOT, "examples/cluster-map.ts"), "utf8");
      const r = await runNode(join(ROOT, "out/examples/cluster-map.js"), { env: { REDIS_URL: redis.url }, timeout: 120_000 });
      assert.equal(r.code, 0, `exit ${r.code}\n${r.stderr}`);
      assert.doesNotMatch(r.stdout, /skipped/);
      for (const pattern of expectations(source)) assert.match(r.stdout, pattern);
    });

    test("a large result goes by a key of its own: the event stream stays small and no key is left behind", async () => {
      await using pool = make(2);
      const results = await pool.map(bigString, [300_000, 10, 200_000], { chunksize: 1 });
      assert.deepEqual(results.map((r) => r.length), [300_000, 10, 200_000]);
      assert.equal(results[0], bigString(300_000));
      const events = redis.cli(["XREVRANGE", "bull:multiproc:events", "+", "-", "COUNT", "200"]);
      assert.ok(events.split("\n").every((line) => line.length < 20_000), "an event carries a large value");
      assert.equal(redis.cli(["--scan", "--pattern", "bull:multiproc:mp-outcome:*"]).trim(), "");
    });

    test("arguments or results larger than maxPayloadBytes: ERR_PAYLOAD_TOO_LARGE, the pool keeps going", async () => {
      await using pool = new ClusterPool({ connection: redis.url, maxPayloadBytes: 10_000, connectionTimeout: 30_000 });
      assert.throws(() => pool.applyAsync(sqr, [bigString(20_000) as unknown as number]), { code: "ERR_PAYLOAD_TOO_LARGE", message: /^args encode to \d+ bytes/ });
      await assert.rejects(pool.map((s: string) => s.length, [bigString(6000), bigString(6000)], { chunksize: 2 }), { code: "ERR_PAYLOAD_TOO_LARGE" });
      await assert.rejects(pool.apply(bigString, [20_000]), { code: "ERR_PAYLOAD_TOO_LARGE", message: /result encodes to about \d+ bytes/ });
      assert.equal(await pool.apply(bigString, [100]), bigString(100));
      assert.deepEqual(await pool.map((s: string) => s.length, [bigString(6000), bigString(6000)], { chunksize: 1 }), [6000, 6000]);
    });
  });
});

describe("ClusterPool and WorkerNode: bad input", () => {
  test("a malformed connection URL or option throws at construction, naming it", () => {
    for (const url of ["localhost:6379", "http://127.0.0.1:6379", "redis://", "redis://h:0", "redis://h:70000", "redis://h/x", "redis://h?db=1", ""]) {
      assert.throws(() => new ClusterPool(url), { code: "ERR_INVALID_ARG_VALUE", message: /^connection must be a URL like redis:\/\/HOST:PORT/ }, url);
      assert.throws(() => new WorkerNode({ connection: url }), { code: "ERR_INVALID_ARG_VALUE" }, url);
    }
    assert.throws(() => new ClusterPool(42 as unknown as string), { code: "ERR_INVALID_ARG_TYPE" });
    assert.throws(() => new ClusterPool({} as { connection: string }), { code: "ERR_INVALID_ARG_TYPE" });
    assert.throws(() => new ClusterPool({ connection: "redis://h", queue: "a b" }), { code: "ERR_INVALID_ARG_VALUE", message: /^queue/ });
    assert.throws(() => new ClusterPool({ connection: "redis://h", attempts: 0 }), { code: "ERR_OUT_OF_RANGE", message: /^attempts/ });
    assert.throws(() => new ClusterPool({ connection: "redis://h", connectionTimeout: -1 }), { code: "ERR_OUT_OF_RANGE", message: /^connectionTimeout/ });
    assert.throws(() => new ClusterPool({ connection: "redis://h", maxPayloadBytes: 0 }), { code: "ERR_OUT_OF_RANGE", message: /^maxPayloadBytes/ });
    assert.throws(() => new WorkerNode({ connection: "redis://h", concurrency: 0 }), { code: "ERR_OUT_OF_RANGE", message: /^concurrency/ });
    assert.throws(() => new WorkerNode({ connection: "redis://h", name: "a b" }), { code: "ERR_INVALID_ARG_VALUE", message: /^name/ });
  });

  test("an unreachable Redis: calls reject with ERR_REDIS_UNAVAILABLE after connectionTimeout; nothing hangs", async () => {
    const pool = new ClusterPool({ connection: `redis://127.0.0.1:${await freePort()}`, connectionTimeout: 500 });
    const started = performance.now();
    await assert.rejects(pool.apply(sqr, [1]), (err: Error & { code: string }) => {
      assert.equal(err.code, "ERR_REDIS_UNAVAILABLE");
      assert.match(err.message, /^Redis at redis:\/\/127\.0\.0\.1:\d+ did not answer for 500 ms/);
      return true;
    });
    assert.ok(performance.now() - started >= 499);
    await assert.rejects(pool.map(sqr, [1, 2, 3]), { code: "ERR_REDIS_UNAVAILABLE" });
    await assert.rejects(pool.nodes(), { code: "ERR_REDIS_UNAVAILABLE" });
    await pool.terminate();
  });

  test("WorkerNode: close() while start() waits for an unreachable Redis ends start() with ERR_CLOSED", async () => {
    const connection = `redis://127.0.0.1:${await freePort()}`;
    // Closed at once (start() is still loading its dependencies): nothing is opened after.
    const early = new WorkerNode({ connection, concurrency: 1, log: () => undefined });
    const earlyStart = assert.rejects(early.start(), { code: ErrorCodes.CLOSED });
    await early.close();
    await earlyStart;
    // Closed once it has tried and said why.
    let tried!: () => void;
    const said = new Promise<void>((resolve) => (tried = resolve));
    const late = new WorkerNode({ connection, concurrency: 1, log: () => tried() });
    const lateStart = assert.rejects(late.start(), { code: ErrorCodes.CLOSED });
    await said;
    await late.close();
    await lateStart;
  });

  test("multiproc worker: with Redis unreachable it says so, and SIGTERM still stops it", async () => {
    const node = spawn(process.execPath, [CLI, "worker", "--connection", `redis://127.0.0.1:${await freePort()}`, "--concurrency", "1"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    const [line] = (await once(createInterface({ input: node.stderr }), "line")) as [string];
    assert.match(line, /^multiproc worker \S+: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    node.kill("SIGTERM");
    const [code] = (await once(node, "exit")) as [number];
    assert.equal(code, 0);
  });

  test("multiproc worker: bad usage exits with 2 and names the problem", async () => {
    const none = await runNode(CLI, { args: ["worker"] });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--connection is required/);
    const bad = await runNode(CLI, { args: ["worker", "--connection", "http://x"] });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /connection must be a URL like redis:\/\/HOST:PORT/);
    const count = await runNode(CLI, { args: ["worker", "--connection", "redis://x", "--concurrency", "two"] });
    assert.equal(count.code, 2);
    assert.match(count.stderr, /--concurrency must be a whole number/);
  });
});
