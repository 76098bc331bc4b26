#!/usr/bin/env node
// `npm run pack-smoke`: what a user gets from the registry, tried as a user would (issue #22).
// Packs the package (`npm pack`: builds the library, and the prebuilds with prepack), then for each
// supported Node line installs the tarball into a fresh app with NO compiler on PATH (PATH holds
// only that Node, npm and sh) and runs scripts/smoke-app.mjs there: a Pool of 2 processes, fresh
// workers per task, a Queue of objects, a Manager's dict, SharedMemory. Once more through a
// symlinked layout (node_modules/multiproc a link into a package store, as pnpm and `npm link`
// make), once with the prebuilds removed (the install still succeeds with one line; the thread
// context works and process-context calls reject), and the arm64 prebuild under qemu-aarch64.
//
//   node scripts/pack-smoke.mjs [--node 22.23.5,...] [--no-pack] [--no-arm64]
//
// Everything lives under .cache/ in the clone (Node copies, the tarball, the apps).
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { NODE_VERSIONS, cacheDir, nodeDir, root } from "./nodes.mjs";

const TIMEOUT_MS = 180_000;
const smokeDir = join(cacheDir, "smoke");

/** npm's own entry, run by the Node under test (npm is plain JavaScript). */
function npmCli() {
  const npmRoot = execFileSync("npm", ["root", "-g"], { encoding: "utf8" }).trim();
  return join(npmRoot, "npm/bin/npm-cli.js");
}

/** A bin folder with only `node`, `npm` and `sh`: no g++, cc, make or python3 can be found through it. */
function bareBin(version) {
  const bin = join(smokeDir, `bin-${version}`);
  rmSync(bin, { recursive: true, force: true });
  mkdirSync(bin, { recursive: true });
  symlinkSync(join(nodeDir(version), "bin/node"), join(bin, "node"));
  symlinkSync("/bin/sh", join(bin, "sh")); // npm runs install steps with sh
  writeFileSync(join(bin, "npm"), `#!/bin/sh\nexec "${join(bin, "node")}" "${npmCli()}" "$@"\n`, { mode: 0o755 });
  return bin;
}

function run(label, cmd, args, options) {
  const started = performance.now();
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: TIMEOUT_MS, maxBuffer: 1 << 26, ...options });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    const why = r.error ? String(r.error) : r.signal ? `signal ${r.signal}` : `exit ${r.status}`;
    throw new Error(`${label}: ${why} after ${seconds} s\n${r.stdout}\n${r.stderr}`);
  }
  return { ...r, seconds };
}

function userEnv(bin, extra = {}) {
  // The user's environment and npm config (a proxy or a CA file may be needed to reach the
  // registry), less what an enclosing `npm run` adds, with PATH cut down to `bin`; npm's cache
  // goes inside the clone.
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && !k.startsWith("MULTIPROC_")) env[k] = v;
  return { ...env, PATH: bin, npm_config_cache: join(smokeDir, "npm-cache"), ...extra };
}

function freshApp(name) {
  const app = join(smokeDir, name);
  rmSync(app, { recursive: true, force: true });
  mkdirSync(app, { recursive: true });
  // allowScripts: let npm 11 run multiproc's install step, which must succeed without a compiler.
  const pkg = { name: `smoke-${name}`, private: true, type: "module", allowScripts: { multiproc: true } };
  writeFileSync(join(app, "package.json"), JSON.stringify(pkg, null, 2));
  copyFileSync(join(root, "scripts/smoke-app.mjs"), join(app, "smoke.mjs"));
  return app;
}

function install(app, bin, tarball, extraEnv = {}) {
  const args = ["install", "--no-audit", "--no-fund", "--foreground-scripts", tarball];
  return run(`npm install in ${app}`, join(bin, "npm"), args, { cwd: app, env: userEnv(bin, extraEnv) });
}

function smoke(app, bin, mode = []) {
  const r = run(`smoke in ${app}`, join(bin, "node"), ["smoke.mjs", ...mode], { cwd: app, env: userEnv(bin) });
  return `${r.stdout.trim()} (${r.seconds} s)`;
}

function pack() {
  const out = join(cacheDir, "pack");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const name = execFileSync("npm", ["pack", "--silent", "--pack-destination", out], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
    .trim()
    .split("\n")
    .pop();
  return join(out, name);
}

/** The arm64 prebuild, loaded by an arm64 Node under qemu: shared memory and a futex wake. */
function arm64Check(app, version) {
  const node = join(nodeDir(version, "arm64"), "bin/node");
  const pkg = join(app, "node_modules/multiproc");
  const code = `
    const find = require(${JSON.stringify(join(app, "node_modules/node-gyp-build"))});
    const file = find.resolve(${JSON.stringify(pkg)});
    if (!file.includes("linux-arm64")) throw new Error("picked " + file);
    const b = require(file);
    const name = "/mp_smoke_arm64_" + process.pid;
    const sab = b.shmCreate(name, 64);
    b.shmUnlink(name);
    const words = new Int32Array(sab);
    Atomics.store(words, 0, 1);
    if (b.futexWake(words, 0, 1) !== 0 || b.futexWait(words, 0, 0, 1) !== 1) throw new Error("futex");
    console.log("arm64 ok " + process.version + " " + file.slice(file.indexOf("prebuilds")));`;
  return run("arm64 check", "qemu-aarch64", ["-L", "/usr/aarch64-linux-gnu", node, "-e", code], { cwd: app }).stdout.trim();
}

export function packSmoke({ versions = NODE_VERSIONS, tarball, arm64 = true } = {}) {
  const started = performance.now();
  const lines = [];
  const log = (line) => {
    lines.push(line);
    console.log(`pack-smoke: ${line}`);
  };
  tarball ??= pack();
  log(`packed ${tarball.slice(root.length)}`);
  for (const version of versions) {
    const bin = bareBin(version);
    const app = freshApp(`app-${version}`);
    const r = install(app, bin, tarball);
    if (r.stderr.includes("multiproc:")) throw new Error(`the install on ${version} printed a complaint:\n${r.stderr}`);
    log(`node ${version}: installed without a compiler (${r.seconds} s); ${smoke(app, bin)}`);
  }
  const newest = versions.at(-1);
  const bin = bareBin(newest);

  // A symlinked layout: the package lives in a store, the app's node_modules links to it.
  const store = freshApp("store");
  install(store, bin, tarball);
  const linked = freshApp("linked");
  mkdirSync(join(linked, "node_modules"), { recursive: true });
  symlinkSync(join(store, "node_modules/multiproc"), join(linked, "node_modules/multiproc"));
  log(`node ${newest}, symlinked node_modules/multiproc: ${smoke(linked, bin)}`);

  // No prebuild for this Node and no compiler: one line, exit 0, then the thread context only.
  const bare = freshApp("no-addon");
  install(bare, bin, tarball);
  const pkg = join(bare, "node_modules/multiproc");
  rmSync(join(pkg, "prebuilds"), { recursive: true, force: true });
  const again = run("install step without prebuilds", join(bin, "node"), [join(pkg, "scripts/install.mjs")], { cwd: pkg, env: userEnv(bin) });
  const said = again.stderr.trim().split("\n").filter(Boolean);
  if (said.length !== 1 || !said[0].startsWith("multiproc: ")) throw new Error(`expected one line from the install step, got:\n${again.stderr}`);
  log(`node ${newest}, no prebuild, no compiler: install exit 0, said "${said[0].slice(0, 90)}..."; ${smoke(bare, bin, ["no-addon"])}`);

  if (arm64) log(`${arm64Check(join(smokeDir, `app-${newest}`), newest)}`);
  log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { node: { type: "string" }, "no-pack": { type: "boolean", default: false }, "no-arm64": { type: "boolean", default: false } },
  });
  let tarball;
  if (values["no-pack"]) {
    const dir = join(cacheDir, "pack");
    const found = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".tgz")) : [];
    if (found.length === 0) throw new Error("--no-pack: no tarball in .cache/pack; run without --no-pack first");
    tarball = join(dir, found[0]);
  }
  packSmoke({ versions: values.node?.split(",") ?? NODE_VERSIONS, tarball, arm64: !values["no-arm64"] });
}
