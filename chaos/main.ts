// `npm run chaos`: runs every scenario (chaos/scenarios/index.ts), each in a program of its own
// (run.ts) with a deadline, then looks at what it left behind: processes that carry its tag in
// their environment, /dev/shm entries with its prefix. Prints the seed, one table of figures, and
// exits non-zero when a figure that must be zero is not.
//
//   npm run chaos -- [--seed N] [--scale X] [--seconds S] [--short] [--deadline S] [--json FILE] [NAME...]
//
// NAME filters scenarios by substring. `--short` is the small variant run inside `npm test`.
import { spawn } from "node:child_process";
import { unlinkSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { kill, pause, shmWithPrefix, taggedProcesses, type ScenarioResult, until } from "./lib.js";
import { SCENARIOS } from "./scenarios/index.js";
import { formatReport, STANDARD, RUNNER_MUST_BE_ZERO } from "./report.js";

interface Args {
  seed: number;
  scale: number;
  seconds: number;
  deadlineS: number | undefined;
  json: string | undefined;
  filters: string[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seed: Math.floor(Math.random() * 2 ** 31), scale: 1, seconds: 60, deadlineS: undefined, json: undefined, filters: [] };
  let short = false;
  let scaleGiven = false;
  let secondsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const number = (): number => {
      const v = Number(value());
      if (!Number.isFinite(v) || v < 0) throw new Error(`${a} needs a non-negative number`);
      return v;
    };
    if (a === "--seed") args.seed = Math.floor(number()) >>> 0;
    else if (a === "--scale") [args.scale, scaleGiven] = [number(), true];
    else if (a === "--seconds") [args.seconds, secondsGiven] = [number(), true];
    else if (a === "--deadline") args.deadlineS = number();
    else if (a === "--json") args.json = value();
    else if (a === "--short") short = true;
    else if (a.startsWith("--")) throw new Error(`unknown option ${a}`);
    else args.filters.push(a);
  }
  if (short && !scaleGiven) args.scale = 0.01;
  if (short && !secondsGiven) args.seconds = 1;
  return args;
}

interface Outcome {
  result: ScenarioResult;
  wallMs: number;
}

const runJs = fileURLToPath(new URL("./run.js", import.meta.url));

/** Runs one scenario's program; a scenario that overruns `deadlineMs` is killed with its tree. */
async function runScenario(name: string, args: Args, tag: string, prefix: string, deadlineMs: number): Promise<Outcome> {
  const started = Date.now();
  const child = spawn(process.execPath, [runJs, name, String(args.seed), String(args.scale), String(args.seconds)], {
    env: { ...process.env, MULTIPROC_CHAOS_TAG: tag, MULTIPROC_SHM_PREFIX: prefix },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
    process.stderr.write(d);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    // The scenario's program first: its children die with it and its resource tracker cleans
    // up. Whatever still carries the tag a few seconds later is killed below and counted.
    if (child.pid !== undefined) kill(child.pid);
  }, deadlineMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.on("close", (c, s) => resolve([c, s]));
  });
  clearTimeout(timer);
  const line = stdout.split("\n").find((l) => l.startsWith("CHAOS-RESULT "));
  let result: ScenarioResult;
  if (line !== undefined && !timedOut) {
    result = JSON.parse(line.slice("CHAOS-RESULT ".length)) as ScenarioResult;
  } else {
    result = { name, figures: {}, mustBeZero: [], notes: [] };
    if (timedOut) {
      result.figures.hangs = 1;
      result.notes.push(`killed after its deadline of ${Math.round(deadlineMs / 1000)} s`);
    } else {
      result.figures.crashes = 1;
      result.notes.push(`its program ended (code ${code}, signal ${signal}) without a result: ${stderr.trim().split("\n").slice(-3).join(" | ")}`);
    }
  }
  if (line !== undefined && code !== 0) {
    result.figures.crashes = (result.figures.crashes ?? 0) + 1;
    result.notes.push(`its program exited with code ${code}, signal ${signal} after reporting`);
  }

  // What it left behind, once resource trackers had a moment to clean up after it.
  await until(() => taggedProcesses(tag).length === 0 && shmWithPrefix(prefix).length === 0, 5000);
  const procs = taggedProcesses(tag);
  const shm = shmWithPrefix(prefix);
  result.figures.leakedProcesses = (result.figures.leakedProcesses ?? 0) + procs.length;
  result.figures.leakedSegments = (result.figures.leakedSegments ?? 0) + shm.length;
  if (procs.length > 0) result.notes.push(`left processes ${procs.join(", ")} (killed)`);
  if (shm.length > 0) result.notes.push(`left /dev/shm entries ${shm.slice(0, 5).join(", ")}${shm.length > 5 ? ", ..." : ""} (unlinked)`);
  for (const pid of procs) kill(pid);
  for (const n of shm) {
    try {
      unlinkSync(`/dev/shm/${n}`);
    } catch {
      // gone meanwhile
    }
  }
  await pause(0);
  return { result, wallMs: Date.now() - started };
}

let args: Args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (err) {
  console.error(`chaos: ${(err as Error).message}`);
  process.exit(2);
}
const names = Object.keys(SCENARIOS).filter((n) => args.filters.length === 0 || args.filters.some((f) => n.includes(f)));
if (names.length === 0) {
  console.error(`chaos: no scenario matches ${args.filters.join(" ")}; known: ${Object.keys(SCENARIOS).join(", ")}`);
  process.exit(2);
}
const replay = [`--seed ${args.seed}`, args.scale !== 1 ? `--scale ${args.scale}` : "", args.seconds !== 60 ? `--seconds ${args.seconds}` : "", ...args.filters]
  .filter((s) => s !== "")
  .join(" ");
console.log(`chaos: seed ${args.seed}, scale ${args.scale}, ${args.seconds} s load phases; replay with: npm run chaos -- ${replay}`);
const load = loadavg().map((l) => l.toFixed(2)).join(" ");
const basePrefix = `${process.env.MULTIPROC_SHM_PREFIX ?? ""}ch${process.pid}_`;
const started = Date.now();
const outcomes: Outcome[] = [];
for (const name of names) {
  const deadlineMs = 1000 * (args.deadlineS ?? 60 + 300 * args.scale + 3 * args.seconds);
  const o = await runScenario(name, args, `ch${process.pid}/${name}`, `${basePrefix}${name.replace(/[^a-z0-9]/gi, "")}_`, deadlineMs);
  console.log(`  ${name}: ${(o.wallMs / 1000).toFixed(1)} s`);
  outcomes.push(o);
}
const wallS = (Date.now() - started) / 1000;
const { text, failures } = formatReport(outcomes.map((o) => ({ ...o.result, wallMs: o.wallMs })));
console.log(text);
console.log(`wall time ${wallS.toFixed(1)} s; load average at start ${load}, at end ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
if (args.json !== undefined) {
  writeFileSync(args.json, JSON.stringify({ seed: args.seed, scale: args.scale, seconds: args.seconds, wallS, load, standard: STANDARD, runnerMustBeZero: RUNNER_MUST_BE_ZERO, results: outcomes }, null, 2));
}
if (failures.length > 0) {
  console.log(`FAILED: ${failures.join("; ")}`);
  process.exit(1);
}
console.log("every must-be-zero figure is zero");
