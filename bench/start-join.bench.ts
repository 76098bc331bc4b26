// Process start+join of a trivial target, the cost every Process and every pool worker pays once.
// multiproc's two contexts against CPython's spawn and forkserver start methods, and, for context,
// the raw Node mechanisms underneath (an empty script through child_process.fork, an empty Worker).
import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { getContext, type StartMethod } from "multiproc";
import { timeOps, type BenchSpec, type Measurement } from "./harness.js";
import { noop } from "./fixtures/start-join.js";

const EMPTY = fileURLToPath(new URL("./fixtures/empty.js", import.meta.url));
const OPTIONS = { iterations: 10, time: 300, warmupIterations: 2 };

/**
 * With `spares` children kept waiting (MULTIPROC_SPARE_PROCESSES; the default is 2 on this
 * machine; 0 = every start is cold, like CPython's spawn).
 */
function startJoin(kind: StartMethod, spares: number): Measurement {
  const ctx = getContext(kind);
  return async () => {
    process.env.MULTIPROC_SPARE_PROCESSES = String(spares);
    try {
      return {
        samples: await timeOps(async () => {
          const p = new ctx.Process({ target: noop });
          p.start();
          await p.join();
          if (p.exitCode !== 0) throw new Error(`the child exited with ${p.exitCode}`);
          p.close();
        }, OPTIONS),
      };
    } finally {
      delete process.env.MULTIPROC_SPARE_PROCESSES;
    }
  };
}

const nodeFork: Measurement = async () => ({
  samples: await timeOps(async () => {
    const child = fork(EMPTY, { stdio: "ignore" });
    const [code] = (await once(child, "exit")) as [number | null];
    if (code !== 0) throw new Error(`the child exited with ${code}`);
  }, OPTIONS),
});

const nodeWorker: Measurement = async () => ({
  samples: await timeOps(async () => {
    const worker = new Worker(EMPTY);
    const [code] = (await once(worker, "exit")) as [number];
    if (code !== 0) throw new Error(`the worker exited with ${code}`);
  }, OPTIONS),
});

export default {
  title: "start a child running a trivial target and join it (time per start+join)",
  issue: 2,
  metric: { kind: "time" },
  multiproc: {
    process: startJoin("process", 2),
    "process, 1 spare": startJoin("process", 1),
    "process, no spare": startJoin("process", 0),
    thread: startJoin("thread", 2),
    "thread, no spare": startJoin("thread", 0),
  },
  peers: { "Node fork": nodeFork, "Node Worker": nodeWorker },
  python: ["spawn", "forkserver"],
  compare: {
    process: ["CPython spawn", "CPython forkserver", "Node fork"],
    "process, 1 spare": ["CPython spawn", "CPython forkserver"],
    "process, no spare": ["CPython spawn", "Node fork"],
    thread: ["CPython spawn", "Node Worker"],
    "thread, no spare": ["CPython spawn", "Node Worker"],
  },
  goals: [{ multiproc: "process", peer: "CPython spawn", ratio: 1 }],
} satisfies BenchSpec;
