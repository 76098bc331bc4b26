// Cold start (issue #15.3): what a new program pays the first time, each run a separate fresh
// program (bench/fixtures/cold-start.ts) so nothing is warm: `import("multiproc")`, the first
// Process start+join, and the first Pool(2) with its first apply answered. Peers: CPython 3's
// spawn start method in fresh python3 programs (bench/python/cold-start.py), and piscina's and
// tinypool's first task. The import's goal is absolute (30 ms): it is shown as a peer "30 ms
// budget", so the ratio against it reads as the goal.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { scaled, type BenchSpec, type Measurement } from "./harness.js";

const PROGRAM = fileURLToPath(new URL("./fixtures/cold-start.js", import.meta.url));
const RUNS = 5;
const PROGRAM_TIMEOUT_MS = 60_000;
const IMPORT_BUDGET_MS = 30;

function runOnce(mode: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [PROGRAM, mode], { timeout: PROGRAM_TIMEOUT_MS, killSignal: "SIGKILL" }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`cold-start ${mode} failed: ${err.message}${stderr ? `\n${stderr.trim()}` : ""}`));
        return;
      }
      try {
        resolve((JSON.parse(stdout) as { ms: number }).ms);
      } catch {
        reject(new Error(`cold-start ${mode} printed no figure: ${stdout.slice(0, 200)}`));
      }
    });
  });
}

/** RUNS fresh programs one after the other; one sample (ns) each. */
function fresh(mode: string): Measurement {
  return async () => {
    const samples: number[] = [];
    for (let i = 0; i < scaled(RUNS, 2); i++) samples.push((await runOnce(mode)) * 1e6);
    return { samples };
  };
}

const budget: Measurement = () => Promise.resolve({ samples: [IMPORT_BUDGET_MS * 1e6], note: "the goal of issue #15.3, not a measurement" });

export default {
  title: "cold start in a fresh program: the import, the first Process start+join, the first Pool(2) apply (time)",
  issue: 15,
  metric: { kind: "time" },
  multiproc: {
    import: fresh("import"),
    "first Process": fresh("process"),
    "first Pool": fresh("pool"),
  },
  peers: {
    "30 ms budget": budget,
    piscina: fresh("piscina"),
    tinypool: fresh("tinypool"),
  },
  python: ["import", "spawn Process", "spawn Pool"],
  compare: {
    import: ["30 ms budget", "CPython import"],
    "first Process": ["CPython spawn Process"],
    "first Pool": ["CPython spawn Pool", "piscina", "tinypool"],
  },
  goals: [
    { multiproc: "import", peer: "30 ms budget", ratio: 1 },
    { multiproc: "first Process", peer: "CPython spawn Process", ratio: 1 },
    { multiproc: "first Pool", peer: "CPython spawn Pool", ratio: 1 },
  ],
} satisfies BenchSpec;
