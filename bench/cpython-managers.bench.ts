// Mixed fleets (issue 18): a manager dict's set and get over CPython's protocol (serializer
// "pickle"), one round trip each over TCP 127.0.0.1: multiproc's pickle client against a CPython
// server and against multiproc's pickle server (in a child process), next to CPython's own client
// and server. What it shows is the cost of the pickle codec and of CPython's one-call-at-a-time
// connections, not of the default serializer (bench/managers.bench.ts).
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { BaseManager, SyncManager, type Address } from "multiproc";
import { timeOps, type BenchSpec, type Measurement } from "./harness.js";

const PY = fileURLToPath(new URL("../../bench/python/cpython-managers.py", import.meta.url));
const BATCH = 400;

interface Dict {
  set(k: string, v: number): Promise<unknown>;
  get(k: string): Promise<unknown>;
}

async function setGet(d: Dict): Promise<number[]> {
  await d.set("k", 0);
  return timeOps(
    async () => {
      for (let i = 0; i < BATCH / 2; i++) {
        await d.set("k", i);
        await d.get("k");
      }
    },
    { iterations: 10, time: 300, batch: BATCH, warmupTime: 300 },
  );
}

class DictClient extends BaseManager {}
DictClient.register("dict");

const onCPythonServer: Measurement = async () => {
  const py = spawn("python3", [PY, "serve"], { cwd: fileURLToPath(new URL("../../bench/python/", import.meta.url)), stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = Number((await createInterface({ input: py.stdout })[Symbol.asyncIterator]().next()).value);
    const manager = new DictClient({ address: ["127.0.0.1", port] as Address, authkey: "bench", serializer: "pickle" });
    await manager.connect();
    const d = (await manager.create("dict")) as unknown as Dict;
    const samples = await setGet(d);
    await manager.shutdown();
    return { samples };
  } finally {
    py.kill();
  }
};

const onOurServer: Measurement = async () => {
  const manager = new SyncManager({ address: ["127.0.0.1", 0], serializer: "pickle" });
  await manager.start();
  try {
    return { samples: await setGet(await manager.dict()) };
  } finally {
    await manager.shutdown();
  }
};

export default {
  title: "manager dict over CPython's protocol (pickle), TCP: one set or get (time per operation)",
  issue: 18,
  metric: { kind: "time" },
  multiproc: {
    "pickle client -> CPython server": onCPythonServer,
    "pickle client -> multiproc pickle server": onOurServer,
  },
  python: ["client -> CPython server, TCP"],
  rounds: 3,
} satisfies BenchSpec;
