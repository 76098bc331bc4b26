// A manager dict's set and get, one round trip each, from a client process (the benchmark's)
// to the manager's server process: multiproc's Manager().dict() over its Unix socket (and over
// TCP on 127.0.0.1) against CPython's Manager().dict() measured the same way.
import { Manager, type ManagerOptions } from "multiproc";
import { timeOps, type BenchSpec, type Measurement } from "./harness.js";

const BATCH = 400;

function dictSetGet(options: ManagerOptions): Measurement {
  return async () => {
    const manager = await Manager(options);
    try {
      const d = await manager.dict<string, number>();
      await d.set("k", 0);
      const samples = await timeOps(
        async () => {
          for (let i = 0; i < BATCH / 2; i++) {
            await d.set("k", i);
            await d.get("k");
          }
        },
        { iterations: 10, time: 300, batch: BATCH },
      );
      return { samples };
    } finally {
      await manager.shutdown();
    }
  };
}

export default {
  title: "manager dict: one set or get through a proxy (time per operation)",
  issue: 6,
  metric: { kind: "time" },
  multiproc: {
    "Manager().dict(), Unix socket": dictSetGet({}),
    "Manager().dict(), TCP 127.0.0.1": dictSetGet({ address: ["127.0.0.1", 0] }),
  },
  python: ["Manager().dict()"],
  goals: [{ multiproc: "Manager().dict(), Unix socket", peer: "CPython Manager().dict()", ratio: 0.4 }],
  rounds: 3,
} satisfies BenchSpec;
