// Beyond one machine: the same Pool API on Redis with BullMQ. This example starts two worker nodes
// (`multiproc worker`, as you would on two hosts) against the Redis server at REDIS_URL (default
// redis://127.0.0.1:6379), maps a CPU-bound function over them with a ClusterPool, and shows which
// node ran what. With no Redis reachable it says so and skips.
// expect: ^(cluster-map: 2 worker nodes serve queue cluster-map-\d+|cluster-map: skipped, no Redis at \S+)
// expect: ^(primes below 20000 \.\. 200000 in steps of 20000: 2262, 4203, 6057, 7837, 9592, 11301, 13010, 14683, 16342, 17984|cluster-map: skipped)
// expect: ^(tasks answered: 10|cluster-map: skipped)
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ClusterPool, isMainProcess } from "multiproc";

/** How many primes are below `n` (a deliberately CPU-bound task). */
export function countPrimes(n: number): number {
  let count = 0;
  for (let i = 2; i < n; i++) {
    let prime = true;
    for (let d = 2; d * d <= i; d++) {
      if (i % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

/** Whether a Redis server answers PING at `url` within a second. */
function redisAnswers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}

/** Starts `multiproc worker` (what `npx multiproc worker ...` runs) and waits until it serves. */
async function startNode(url: string, queue: string, name: string): Promise<ChildProcess> {
  const cli = join(dirname(fileURLToPath(import.meta.resolve("multiproc"))), "cli/multiproc.js");
  const node = spawn(process.execPath, [cli, "worker", "--connection", url, "--queue", queue, "--name", name, "--concurrency", "1"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  for await (const line of createInterface({ input: node.stdout })) {
    if (line.includes("serving queue")) break;
  }
  return node;
}

if (isMainProcess()) {
  const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  if (!(await redisAnswers(url))) {
    console.log(`cluster-map: skipped, no Redis at ${url} (start one: redis-server --port 6379 --save '')`);
  } else {
    // A queue of our own, so that nodes serving other queues on this Redis are left alone.
    const queue = `cluster-map-${process.pid}`;
    const nodes = await Promise.all([startNode(url, queue, "node-a"), startNode(url, queue, "node-b")]);
    try {
      await using pool = new ClusterPool({ connection: url, queue });
      console.log(`cluster-map: ${(await pool.nodes()).length} worker nodes serve queue ${queue}`);
      const limits = Array.from({ length: 10 }, (_, i) => 20_000 * (i + 1));
      const result = pool.mapAsync(countPrimes, limits, { chunksize: 1 });
      console.log(`primes below 20000 .. 200000 in steps of 20000: ${(await result).join(", ")}`);
      for (const s of result.stats) console.log(`  ${s.name} ran ${s.items} of them in ${s.busyMs.toFixed(0)} ms`);
      console.log(`tasks answered: ${result.stats.reduce((n, s) => n + s.tasks, 0)}`);
    } finally {
      for (const node of nodes) node.kill("SIGTERM");
      await Promise.all(nodes.map((node) => once(node, "exit")));
    }
  }
}
