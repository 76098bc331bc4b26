// Runs one benchmark case in this process (scripts/bench.mjs starts one per case, for isolation):
// `node out/bench/run-case.js <compiled case file> <name> <result file>`. Every side runs once per
// round, in alternating order, and the samples of all rounds are pooled. The result file gets a
// `CaseRun` as JSON; nothing is printed on stdout but progress.
import { execFile } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BenchSpec, Figure, Measurement } from "./harness.js";

export interface SideRun {
  role: "multiproc" | "peer";
  samples: number[];
  notes: string[];
  error?: string;
}

export interface CaseRun {
  spec: Omit<BenchSpec, "multiproc" | "peers"> & { multiproc: string[]; peers: string[] };
  sides: Record<string, SideRun>;
  python?: string;
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PYTHON_TIMEOUT_MS = 180_000;

interface PythonOutput {
  python: string;
  figures: Record<string, Figure>;
}

function runPython(script: string): Promise<PythonOutput> {
  return new Promise((resolve, reject) => {
    execFile(
      "python3",
      [script],
      { cwd: ROOT, timeout: PYTHON_TIMEOUT_MS, killSignal: "SIGKILL", maxBuffer: 1 << 26, env: process.env },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`python3 ${script} failed: ${err.message}${stderr ? `\n${stderr.trim()}` : ""}`));
          return;
        }
        try {
          resolve(JSON.parse(stdout) as PythonOutput);
        } catch {
          reject(new Error(`python3 ${script} did not print one JSON object: ${stdout.slice(0, 200)}`));
        }
      },
    );
  });
}

function isSpec(value: unknown): value is BenchSpec {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Partial<BenchSpec>;
  return typeof v.title === "string" && typeof v.issue === "number" && typeof v.metric === "object" && typeof v.multiproc === "object";
}

async function main(): Promise<void> {
  const [file, name, out] = process.argv.slice(2);
  if (file === undefined || name === undefined || out === undefined) {
    throw new Error("usage: run-case.js <case.bench.js> <name> <result.json>");
  }
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  const spec = mod.default;
  if (!isSpec(spec)) throw new Error(`${file} must export default a BenchSpec (see bench/harness.ts)`);

  type Side = { label: string; role: SideRun["role"]; run: () => Promise<Figure> };
  const sides: Side[] = [
    ...Object.entries(spec.multiproc).map(([label, run]: [string, Measurement]) => ({ label, role: "multiproc" as const, run })),
    ...Object.entries(spec.peers ?? {}).map(([label, run]: [string, Measurement]) => ({ label, role: "peer" as const, run })),
  ];
  const results: Record<string, SideRun> = {};
  for (const s of sides) results[s.label] = { role: s.role, samples: [], notes: [] };
  const pyLabels = (spec.python ?? []).map((v) => `CPython ${v}`);
  for (const label of pyLabels) results[label] = { role: "peer", samples: [], notes: [] };
  let pythonVersion: string | undefined;

  const script = `${ROOT}bench/python/${name}.py`;
  const pySide: Side | undefined =
    pyLabels.length === 0
      ? undefined
      : {
          label: "CPython",
          role: "peer",
          run: async () => {
            if (!existsSync(script)) throw new Error(`${script} is missing`);
            const r = await runPython(script);
            pythonVersion = r.python;
            for (const v of spec.python ?? []) {
              const fig = r.figures[v];
              const side = results[`CPython ${v}`]!;
              if (fig === undefined || !Array.isArray(fig.samples)) side.error ??= `${name}.py printed no figure for "${v}"`;
              else side.samples.push(...fig.samples);
              if (fig?.note !== undefined && !side.notes.includes(fig.note)) side.notes.push(fig.note);
            }
            return { samples: [] };
          },
        };
  const all = pySide === undefined ? sides : [...sides, pySide];

  const rounds = Math.max(1, spec.rounds ?? 3);
  for (let round = 0; round < rounds; round++) {
    // Alternate the order so that no side always runs first (cold) or last (after the others).
    const order = round % 2 === 0 ? all : [...all].reverse();
    for (const side of order) {
      const r = results[side.label];
      if (r?.error !== undefined) continue;
      process.stdout.write(`  ${name}: round ${round + 1}/${rounds}: ${side.label}\n`);
      try {
        const fig = await side.run();
        if (r !== undefined) {
          r.samples.push(...fig.samples);
          if (fig.note !== undefined && !r.notes.includes(fig.note)) r.notes.push(fig.note);
        }
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (r !== undefined) r.error = message;
        else for (const label of pyLabels) results[label]!.error ??= message;
      }
    }
  }

  const { multiproc, peers, ...rest } = spec;
  const run: CaseRun = {
    spec: { ...rest, multiproc: Object.keys(multiproc), peers: [...Object.keys(peers ?? {}), ...pyLabels] },
    sides: results,
  };
  if (pythonVersion !== undefined) run.python = pythonVersion;
  writeFileSync(out, JSON.stringify(run));
}

try {
  await main();
  // Cases tear down what they start; exiting here makes sure a forgotten handle cannot hang the run.
  process.exit(0);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
