// 1 -> 1 records and strings through a Queue (issue 15): a child `await put`s n records
// `{ id, name: "item-<i>", score, tags: ["a", "b"] }` (or the strings "item-<i>"), the parent
// `await get`s them; messages per second, the child kept running across samples. Against
// CPython's multiprocessing.Queue with the same dicts and strings (bench/python/queue-records.py).
import { getContext, Queue, type StartMethod } from "multiproc";
import { scaled, throughput, timeOps, type BenchSpec, type Measurement } from "./harness.js";
import { PEER_TIMEOUT_MS, produceRecordsAsync, type BenchRecord } from "./fixtures/queues.js";

function oneToOne(method: StartMethod, shape: "records" | "strings"): Measurement {
  return async () => {
    const commands = new Queue<[number, "records" | "strings"] | null>();
    const q = new Queue<BenchRecord | string>();
    const child = new (getContext(method).Process)({ target: produceRecordsAsync, args: [commands, q] });
    child.start();
    const n = scaled(100_000, 2000);
    try {
      const samples = await timeOps(
        async () => {
          await commands.put([n, shape]);
          for (let i = 0; i < n; i++) {
            const item = await q.get({ timeout: PEER_TIMEOUT_MS });
            if ((typeof item === "string" ? item : item.name) !== `item-${i}`) throw new Error("out of order");
          }
        },
        { batch: n, iterations: 3, time: 0, warmupIterations: 1, warmupTime: 0 },
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
  title: "1 -> 1 records and strings through a Queue, `await put` in a child, `await get` (messages per second)",
  issue: 15,
  metric: { kind: "throughput", unit: "msg/s" },
  multiproc: {
    "records, process": oneToOne("process", "records"),
    "records, thread": oneToOne("thread", "records"),
    "strings, process": oneToOne("process", "strings"),
  },
  python: ["records", "strings"],
  compare: { "records, process": ["CPython records"], "records, thread": ["CPython records"], "strings, process": ["CPython strings"] },
  goals: [{ multiproc: "records, process", peer: "CPython records", ratio: 5 }],
} satisfies BenchSpec;
