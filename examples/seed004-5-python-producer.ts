// Beyond seed 004, "a remote manager": a Python producer feeding a Node consumer through one
// manager queue. Node serves the manager (serializer "pickle": CPython's manager protocol), and
// registers "get_queue" to hand out one queue; the Python side is seed 004's unchanged client
// code (BaseManager.register("get_queue") + connect()). Without python3 the example says so.
// expect: ^(node got \{ job: 0, square: 0, payload: <Buffer 00 01>, tags: \[ 'py', 0 \] \}|skipped: python3 is not installed)$
// expect: ^(node got \{ job: 4, square: 16, payload: <Buffer 00 01>, tags: \[ 'py', 4 \] \}|skipped: python3 is not installed)$
// expect: ^(node: 5 jobs from python|skipped: python3 is not installed)$
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SyncManager, type QueueProxy } from "multiproc";

const PRODUCER = fileURLToPath(new URL("../../examples/python/producer.py", import.meta.url));

class QueueManager extends SyncManager {}
let queue: QueueProxy | undefined;
QueueManager.register("get_queue", () => queue); // the same queue for every client, as in Python

if (spawnSync("python3", ["--version"]).status !== 0) {
  console.log("skipped: python3 is not installed");
} else {
  const manager = new QueueManager({ address: ["127.0.0.1", 0], authkey: "abracadabra", serializer: "pickle" });
  const server = manager.getServer();
  const [, port] = (await server.listen()) as readonly [string, number];
  queue = await manager.Queue();
  const producer = spawn("python3", [PRODUCER, String(port)], { stdio: ["ignore", "inherit", "inherit"] });
  try {
    let count = 0;
    for (let job = await queue.get({ timeout: 30_000 }); job !== null; job = await queue.get({ timeout: 30_000 })) {
      console.log("node got", job);
      count++;
    }
    console.log(`node: ${count} jobs from python`);
  } finally {
    producer.kill();
    server.stop();
  }
}
