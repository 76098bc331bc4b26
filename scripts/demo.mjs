#!/usr/bin/env node
// `npm run demo`: builds the library and the examples, then runs every example in examples/ in
// order (seed by seed), each as its own program, showing what it prints. Pass names to run some:
// `npm run demo -- seed001`.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { build, root } from "./build.mjs";

build();

const filters = process.argv.slice(2);
const examples = readdirSync(join(root, "examples"))
  .filter((f) => /^seed\d+.*\.ts$/.test(f) || /^demo-.*\.ts$/.test(f) || /^cluster-.*\.ts$/.test(f) || /^pool-.*\.ts$/.test(f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

let failed = 0;
for (const file of examples) {
  const source = readFileSync(join(root, "examples", file), "utf8");
  const about = source
    .split("\n")
    .filter((l) => l.startsWith("//") && !l.startsWith("// expect:"))
    .map((l) => l.slice(3))
    .join("\n");
  console.log(`\n${"=".repeat(78)}\n${file}\n${about}\n${"-".repeat(78)}`);
  const js = join(root, "out/examples", file.replace(/\.ts$/, ".js"));
  const r = spawnSync(process.execPath, [js], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    failed++;
    console.log(`!! ${file} exited with ${r.status ?? r.signal}`);
  }
}
console.log(`\n${examples.length - failed} of ${examples.length} examples ran cleanly.`);
process.exit(failed === 0 ? 0 : 1);
