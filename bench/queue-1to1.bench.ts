// 1 -> 1 small messages through a Queue (issue 3): a child puts the ints 0..n-1 as fast as it can,
// the parent takes them; messages per second, the child kept running across samples. The child
// uses the blocking calls of worker code (putSync); the parent takes with `await get()` (the
// event loop stays free) or with getSync. Against CPython's multiprocessing.Queue, same shape.
import { getContext, Queue, type StartMethod } from "multiproc";
import { scaled, throughput, timeOps, type BenchSpec, type Measurement } from "./harness.js";
import { PEER_TIMEOUT_MS, produceSync } from "./fixtures/queues.js";

function oneToOne(method: StartMethod, take: "async" | "sync"): Measurement {
  return async () => {
    const commands = new Queue<number | null>();
    const q = new Queue<number>();
    const child = new (getContext(method).Process)({ target: produceSync, args: [commands, q] });
    child.start();
    const n = scaled(20_000, 1000);
    try {
      const samples = await timeOps(
        take === "async"
          ? async () => {
              await commands.put(n);
              for (let i = 0; i < n; i++) if ((await q.get({ timeout: PEER_TIMEOUT_MS })) !== i) throw new Error("out of order");
            }
          : async () => {
              await commands.put(n);
              for (let i = 0; i < n; i++) if (q.getSync({ timeout: PEER_TIMEOUT_MS }) !== i) throw new Error("out of order");
            },
        { batch: n, iterations: 10, time: 500 },
      );
      return { samples: throughput(samples) };
    } finally {
      await commands.put(null);
      await child.join({ timeout: PEER_TIMEOUT_MS });
      if (child.exitCode === null) child.kill();
      commands.close();
      q.close();
    }
  };
}

export default {
  title: "1 -> 1 small messages through a Queue, producer in a child (messages per second)",
  issue: 3,
  metric: { kind: "throughput", unit: "msg/s" },
  multiproc: {
    "process, await get": oneToOne("process", "async"),
    "process, getSync": oneToOne("process", "sync"),
    "thread, await get": oneToOne("thread", "async"),
  },
  python: ["Queue"],
  goals: [{ multiproc: "process, await get", peer: "CPython Queue", ratio: 5 }],
} satisfies BenchSpec;
