#!/usr/bin/env node
// `npm run bench`: builds the library and the benchmarks, then runs bench/main.ts, which finds the
// cases (bench/<name>.bench.ts), runs each one (multiproc and its peers, CPython through python3,
// side by side in one run) and prints one table of medians and ratios, also written to
// out/bench-results.json. Arguments: names (substrings) of the cases to run, and `--quick` for a
// fast, rough pass (BENCH_SCALE=0.1). See docs/benchmarks.md.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { build, root } from "./build.mjs";

build();

const args = process.argv.slice(2);
const env = { ...process.env };
if (args.includes("--quick")) env.BENCH_SCALE = "0.1";
const r = spawnSync(process.execPath, [join(root, "out/bench/main.js"), ...args], { cwd: root, stdio: "inherit", env });
process.exit(r.status ?? 1);
