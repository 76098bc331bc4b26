// `npm run bench [-- [--quick] [name ...]]`, after scripts/bench.mjs has built everything: finds the
// cases (out/bench/<name>.bench.js; names filter by substring), runs each in its own Node process
// (bench/run-case.ts), prints the machine and one table of medians and ratios, and merges the
// results into out/bench-results.json (one entry per case, each with its date).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, tmpdir } from "node:os";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SCALE } from "./harness.js";
import { table, toResult, type CaseResult } from "./report.js";
import type { CaseRun } from "./run-case.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OUT_BENCH = join(ROOT, "out/bench");
const RESULTS = join(ROOT, "out/bench-results.json");
const CASE_TIMEOUT_MS = 300_000;

interface Machine {
  cores: number;
  cpu: string;
  kernel: string;
  node: string;
  python: string;
  loadavg: { before: number; after?: number };
}

interface ResultsFile {
  machine: Machine;
  scale: number;
  /** Each case keeps the machine state and scale of the run that measured it. */
  cases: (CaseResult & { machine: Machine; scale: number })[];
}

function pythonVersion(): string {
  try {
    return execFileSync("python3", ["--version"], { encoding: "utf8" }).trim().replace(/^Python /, "");
  } catch {
    return "not found";
  }
}

function runCase(file: string, name: string, resultPath: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(OUT_BENCH, "run-case.js"), file, name, resultPath], {
      cwd: ROOT,
      env,
      // Progress and the cases' own output go to stderr: stdout carries only the table.
      stdio: ["ignore", process.stderr, "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      process.stderr.write(d);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), CASE_TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(undefined);
      else resolve(signal === "SIGKILL" ? `killed after ${CASE_TIMEOUT_MS / 1000} s` : `exited with ${code ?? signal}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`);
    });
  });
}

async function main(): Promise<number> {
  const filters = process.argv.slice(2).filter((a) => !a.startsWith("--"));
  const cases = readdirSync(OUT_BENCH)
    .filter((f) => f.endsWith(".bench.js"))
    .map((f) => ({ file: join(OUT_BENCH, f), name: f.slice(0, -".bench.js".length) }))
    .filter((c) => filters.length === 0 || filters.some((x) => c.name.includes(x)))
    .sort((a, b) => a.name.localeCompare(b.name));
  if (cases.length === 0) {
    console.error(`no benchmark case matches ${filters.join(", ")}`);
    return 1;
  }

  const machine: Machine = {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    kernel: `Linux ${release()}`,
    node: process.version,
    python: pythonVersion(),
    loadavg: { before: loadavg()[0] ?? NaN },
  };
  const runStarted = performance.now();
  const tag = `b${process.pid}_`;
  const env = { ...process.env, BENCH_SCALE: String(SCALE), MULTIPROC_SHM_PREFIX: tag };
  const tmp = mkdtempSync(join(tmpdir(), "multiproc-bench-"));
  const results: CaseResult[] = [];
  let failures = 0;
  try {
    for (const c of cases) {
      process.stderr.write(`running ${c.name}\n`);
      const resultPath = join(tmp, `${c.name}.json`);
      const measuredAt = new Date().toISOString();
      const loadBefore = loadavg()[0] ?? NaN;
      const started = performance.now();
      let error = await runCase(c.file, c.name, resultPath, env);
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      process.stderr.write(`${c.name}: ${seconds} s\n`);
      let run: CaseRun | undefined;
      if (existsSync(resultPath)) run = JSON.parse(readFileSync(resultPath, "utf8")) as CaseRun;
      else error ??= "no result written";
      if (run?.python !== undefined) machine.python = run.python;
      const leaked = readdirSync("/dev/shm").filter((n) => n.startsWith(tag));
      if (leaked.length > 0) error = `${error ?? ""}${error ? "; " : ""}left /dev/shm entries behind: ${leaked.join(", ")}`;
      const result = toResult(c.name, run, error, measuredAt, { title: c.name, issue: 0, metric: { kind: "time" } });
      result.seconds = seconds;
      result.loadavg = { before: loadBefore, after: loadavg()[0] ?? NaN };
      if (result.error !== undefined || Object.values({ ...result.multiproc, ...result.peers }).some((s) => s.error !== undefined)) failures++;
      results.push(result);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  machine.loadavg.after = loadavg()[0] ?? NaN;
  // The foundation's cases first, then by issue, then by name.
  results.sort((a, b) => a.issue - b.issue || a.name.localeCompare(b.name));

  const date = new Date().toISOString().replace("T", " ").slice(0, 16) + " UTC";
  console.log(`\nmultiproc benchmarks, ${date}${SCALE === 1 ? "" : ` (BENCH_SCALE=${SCALE}: quick, figures are rough)`}`);
  console.log(`machine: ${machine.cores} cores (${machine.cpu}), ${machine.kernel}, Node ${machine.node}, CPython ${machine.python}`);
  console.log(
    `load average (1 min): ${machine.loadavg.before.toFixed(2)} before, ${machine.loadavg.after.toFixed(2)} after` +
      (Math.max(machine.loadavg.before, machine.loadavg.after) > 0.5 ? " (other work was running: figures are noisy)" : ""),
  );
  console.log("figures: medians of all samples over interleaved rounds; ratios are multiproc's median / the peer's median\n");
  for (const r of results) console.log(`${r.name} (#${r.issue}): ${r.title}`);
  console.log(`\n${table(results)}\n`);

  let previous: ResultsFile["cases"] = [];
  try {
    previous = (JSON.parse(readFileSync(RESULTS, "utf8")) as ResultsFile).cases;
  } catch {
    // first run, or an unreadable file: start afresh
  }
  const fresh = results.map((r) => ({ ...r, machine, scale: SCALE }));
  const merged = [...previous.filter((p) => !fresh.some((f) => f.name === p.name)), ...fresh].sort((a, b) => a.name.localeCompare(b.name));
  writeFileSync(RESULTS, JSON.stringify({ machine, scale: SCALE, cases: merged } satisfies ResultsFile, null, 2) + "\n");
  console.log(`results: ${RESULTS} (the run took ${Math.round((performance.now() - runStarted) / 1000)} s)`);
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main();
