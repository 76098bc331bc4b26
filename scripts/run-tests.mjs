#!/usr/bin/env node
// `npm test`: build the library and the tests, run every test file with Node's test runner, then
// check that the run left nothing behind (no /dev/shm segment, no child process), which is a test
// failure of its own. Extra arguments are test files or directories under test/ to run instead.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { build, root } from "./build.mjs";

build();

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  if (statSync(dir).isFile()) return [dir];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "fixtures" ? [] : testFiles(p);
    return e.name.endsWith(".test.js") ? [p] : [];
  });
}

const wanted = process.argv.slice(2).map((a) => join(root, "out", a.replace(/\.ts$/, ".js")));
const files = (wanted.length > 0 ? wanted : [join(root, "out/test")]).flatMap(testFiles).sort();
// Every segment this run draws a name for starts with this tag, so runs side by side (or other
// programs) do not confuse the leak check; names chosen explicitly by tests must use it too.
const tag = `t${process.pid}_`;
process.env.MULTIPROC_SHM_PREFIX = tag;

const result = spawnSync(
  process.execPath,
  ["--test", "--test-reporter=spec", "--test-concurrency=2", "--test-timeout=120000", ...files],
  { cwd: root, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", maxBuffer: 1 << 28, env: process.env },
);
process.stdout.write(result.stdout);
const count = (label) => Number(result.stdout.match(new RegExp(`ℹ ${label} (\\d+)`))?.[1] ?? 0);

// Resource trackers unlink leftovers when their program ends; give them a moment, then look.
function leftovers() {
  const shm = readdirSync("/dev/shm").filter((n) => n.startsWith(tag));
  const ps = spawnSync("ps", ["-eo", "pid,args"], { encoding: "utf8" }).stdout.split("\n");
  const children = ps.filter((l) => l.includes(join(root, "dist/backends/entry/")) && !l.includes("entry/tracker.js"));
  return { shm, children };
}
let left = leftovers();
for (let i = 0; i < 50 && (left.shm.length > 0 || left.children.length > 0); i++) {
  execFileSync("sleep", ["0.1"]);
  left = leftovers();
}
let leaks = 0;
if (left.shm.length > 0) {
  leaks++;
  console.log(`✖ leak check: /dev/shm entries left behind: ${left.shm.join(", ")}`);
}
if (left.children.length > 0) {
  leaks++;
  console.log(`✖ leak check: child processes left behind:\n${left.children.join("\n")}`);
}
if (leaks === 0) console.log("✔ leak check: no shared memory segment and no child process left behind");

const passed = count("pass") + (leaks === 0 ? 1 : 0);
const failed = count("fail") + count("cancelled") + leaks;
console.log(`\nfiles: ${files.map((f) => relative(join(root, "out"), f)).length} test files`);
console.log(`${passed} passed, ${failed} failed, ${count("skipped")} skipped`);
process.exit(result.status === 0 && leaks === 0 ? 0 : 1);
