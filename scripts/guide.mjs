#!/usr/bin/env node
// Writes docs/guide/seed00N.md, the side-by-side guide: for every example in examples/ that is a
// twin of a seed article, the Python original (docs/guide/python/, ported to Python 3 where the
// seed was Python 2) and our TypeScript, each followed by what it printed when this script ran
// them. Run by hand after an example changes (`node scripts/guide.mjs [filter]`, after a build):
// the pages are committed, outputs included, so the docs build needs neither Python nor time.
// GUIDE_PYTHON picks the interpreter (default python3; the seed 000 and 003 originals need pandas).
// `--pages` only rewrites the pages from the outputs recorded in docs/guide/outputs.json.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "./build.mjs";

const python = process.env.GUIDE_PYTHON ?? "python3";
const pagesOnly = process.argv.includes("--pages");
const filters = process.argv.slice(2).filter((a) => a !== "--pages");
const outputs = join(root, "docs/guide/outputs.json");
const recorded = existsSync(outputs) ? JSON.parse(readFileSync(outputs, "utf8")) : {};

/** What changes from one run to the next, said once per example (the rest prints the same). */
const VARIES = {
  "seed000-2-data-server": "the proxies' ids, pids and timings vary",
  "seed001-1-process-per-core": "pids, their order and the time vary (one process per core: 2 here)",
  "seed001-2-serial-vs-parallel": "the timings vary",
  "seed001-3-apply-async": "every sleep is random (0-10 s), so the pairs and both times vary",
  "seed001-4-map-squares": "the timings vary a little",
  "seed001-5-manager-dict-list": "the order of the appended numbers varies",
  "seed001-5-pool-per-core": "timings and per-worker counts vary",
  "seed002-2-producer-consumer": "the numbers are random",
  "seed002-3-lock-print": "the order of the lines varies",
  "seed002-4-event": "both numbers are random (1-100 and 200-300)",
  "seed002-8-shareable-list": "the segment's name varies",
  "seed002-9-python-handover": "segment names vary",
  "seed003-1-pipeline": "which worker handled which id, and the order, vary",
  "seed004-1-manager-dict": "",
  "seed004-2-shared-data-pool": "how A's and B's numbers interleave varies with timing",
  "seed004-3-twenty-processes": "",
  "seed000-3-shared-table": "the timings vary",
};

function run(command, args) {
  const started = performance.now();
  const r = spawnSync(command, args, { cwd: root, encoding: "utf8", timeout: 180_000, env: { ...process.env, MULTIPROC_DEMO_SCALE: "1" } });
  const seconds = (performance.now() - started) / 1000;
  const text = (r.stdout ?? "") + (r.stderr ? `${r.stderr}` : "");
  return { text: text.trimEnd(), status: r.status ?? r.signal, seconds: Math.round(seconds * 10) / 10 };
}

const SEEDS = {
  "000": "Seed 000: passing a DataFrame between processes (Manager Namespace, a data server)",
  "001": "Seed 001: parallel computing with Pool and Process, queues, pipes, shared state, managers",
  "002": "Seed 002: inter-process communication (pipes, queues, locks, events, shared memory, managers)",
  "003": "Seed 003: a 20-worker pipeline with queues",
  "004": "Seed 004: sharing data through a Manager (dict, list, Value, Array, Lock, instances)",
};

const examples = readdirSync(join(root, "examples")).filter((f) => /^seed\d{3}-.*\.ts$/.test(f)).sort(byNumber);

function byNumber(a, b) {
  const key = (f) => f.replace(/^seed(\d+)-(\d+)-/, (_, s, n) => `${s}-${n.padStart(3, "0")}-`);
  return key(a) < key(b) ? -1 : 1;
}

if (!pagesOnly) {
  const version = spawnSync(python, ["-c", "import sys; print(sys.version.split()[0])"], { encoding: "utf8" });
  recorded.$versions = { python: version.stdout?.trim() ?? "?", node: process.version };
}
for (const file of pagesOnly ? [] : examples) {
  const name = file.replace(/\.ts$/, "");
  if (filters.length > 0 && !filters.some((f) => name.includes(f))) continue;
  const py = join(root, "docs/guide/python", `${name}.py`);
  const entry = {};
  if (existsSync(py)) {
    console.error(`python ${name} ...`);
    entry.python = run(python, [py]);
  }
  console.error(`node ${name} ...`);
  entry.node = run(process.execPath, [join(root, "out/examples", `${name}.js`)]);
  recorded[name] = entry;
}
writeFileSync(outputs, JSON.stringify(recorded, null, 1) + "\n");

function fence(lang, text) {
  const ticks = text.includes("```") ? "````" : "```";
  return `${ticks}${lang}\n${text}\n${ticks}`;
}

/** Long outputs (seed 003 prints a line per id) keep their head and tail. */
function shorten(text) {
  const lines = text.split("\n");
  if (lines.length <= 40) return text;
  return [...lines.slice(0, 15), `... (${lines.length - 20} more lines) ...`, ...lines.slice(-5)].join("\n");
}

function about(source) {
  return source
    .split("\n")
    .filter((l) => l.startsWith("//") && !l.startsWith("// expect:"))
    .map((l) => l.slice(3))
    .join(" ")
    .replace(/\s+/g, " ")
    .trim();
}

function code(source) {
  return source
    .split("\n")
    .filter((l) => !l.startsWith("// expect:"))
    .join("\n")
    .trim();
}

for (const [seed, title] of Object.entries(SEEDS)) {
  const parts = [
    `# ${title}`,
    "",
    "Each example: the Python original from the seed article (ported to Python 3 where the seed was",
    "Python 2; every change is said in its first lines), then our TypeScript twin from",
    "`examples/` in the repository, then what each printed when `node scripts/guide.mjs` ran them here",
    `(Linux, 2 cores, CPython ${recorded.$versions?.python ?? "3.11"} with its default start method, fork, and Node ${recorded.$versions?.node ?? "20"};`,
    "timings printed by the examples are from a loaded machine). Run a twin with `npm run demo -- <name>` in a clone,",
    "or copy it into your project and replace `./util.js` with your own helpers.",
    "See [Coming from Python](../coming-from-python.md) for every name side by side.",
    "",
  ];
  for (const file of examples.filter((f) => f.startsWith(`seed${seed}-`))) {
    const name = file.replace(/\.ts$/, "");
    const source = readFileSync(join(root, "examples", file), "utf8");
    const py = join(root, "docs/guide/python", `${name}.py`);
    const out = recorded[name] ?? {};
    parts.push(`## ${name}`, "", about(source), "");
    if (existsSync(py)) {
      parts.push("**Python** (the seed's)", "", fence("python", readFileSync(py, "utf8").trimEnd()), "");
    } else {
      parts.push("**Python**: none; this example goes beyond the seed.", "");
    }
    parts.push("**TypeScript** (multiproc)", "", fence("ts", code(source)), "");
    const note = VARIES[name];
    if (out.python) {
      parts.push(`**Python printed**${out.python.status === 0 ? "" : ` (exit ${out.python.status})`}`, "", fence("text", shorten(out.python.text) || "(nothing)"), "");
    }
    if (out.node) {
      parts.push(`**TypeScript printed**${out.node.status === 0 ? "" : ` (exit ${out.node.status})`}`, "", fence("text", shorten(out.node.text) || "(nothing)"), "");
    }
    if (note) parts.push(`Varies between runs: ${note}.`, "");
  }
  writeFileSync(join(root, `docs/guide/seed${seed}.md`), parts.join("\n"));
}
