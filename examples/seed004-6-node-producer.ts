// Beyond seed 004, "a remote manager", the other way round: a Node producer feeding a Python
// consumer through one manager queue. Python runs seed 004's QueueManager server (unchanged
// CPython code) and consumes its queue; Node connects as a client with serializer "pickle" and
// puts jobs (objects become dicts, Uint8Array bytes, bigint int, Set set). Without python3 the
// example says so.
// expect: ^(python got \{'job': 0, 'from': 'node', 'big': 18446744073709551616, 'bytes': b'\\x01\\x02', 'seen': \{0\}\}|skipped: python3 is not installed)$
// expect: ^(python got \{'job': 2, .*'seen': \{0, 1, 2\}\}|skipped: python3 is not installed)$
// expect: ^(python: done|skipped: python3 is not installed)$
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { BaseManager } from "multiproc";

const SERVER = fileURLToPath(new URL("../../examples/python/consumer_server.py", import.meta.url));

class QueueManager extends BaseManager {}
QueueManager.register("get_queue");

if (spawnSync("python3", ["--version"]).status !== 0) {
  console.log("skipped: python3 is not installed");
} else {
  const python = spawn("python3", [SERVER], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const lines = createInterface({ input: python.stdout })[Symbol.asyncIterator]();
    const port = Number((await lines.next()).value);
    const manager = new QueueManager({ address: ["127.0.0.1", port], authkey: "abracadabra", serializer: "pickle" });
    await manager.connect();
    const queue = await manager.create<{ put(item: unknown): void }>("get_queue");
    const seen = new Set<number>();
    for (let job = 0; job < 3; job++) {
      seen.add(job);
      await queue.put({ job, from: "node", big: 2n ** 64n, bytes: new Uint8Array([1, 2]), seen });
    }
    await queue.put(null); // no more jobs
    for (let line = await lines.next(); line.done !== true; line = await lines.next()) console.log(line.value);
    await once(python, "exit");
  } finally {
    python.kill();
  }
}
