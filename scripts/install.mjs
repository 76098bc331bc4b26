#!/usr/bin/env node
// The package's install step (package.json "install"). It never fails the install (issue #22):
//   1. off Linux: nothing to build (the "process" context needs Linux for now);
//   2. a prebuilt addon for this Node's ABI and arch that loads: done, silently;
//   3. else a source build with node-gyp, if a compiler, make and python3 are there;
//   4. else (or if the build fails) ONE line saying what is missing and how to fix it, and exit 0:
//      the "thread" context works, and the "process" context rejects with ERR_NATIVE_UNAVAILABLE.
// npm_config_build_from_source=true skips step 2. npm 11 runs a dependency's install script only
// when the app allows it (allowScripts); without it, step 2 is what node-gyp-build does at run time.
import { spawnSync } from "node:child_process";
import { accessSync, constants, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);
const where = `Node ${process.version} (ABI ${process.versions.modules}) on ${process.platform}-${process.arch}`;

function say(line) {
  process.stderr.write(`multiproc: ${line}\n`);
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** Loads the addon node-gyp-build would pick (build/Release, else prebuilds/): true if one loads. */
function addonLoads() {
  try {
    require(require("node-gyp-build").resolve(root)).gettid();
    return true;
  } catch {
    return false;
  }
}

function missingTools() {
  const missing = [];
  const cxx = process.env.CXX?.split(" ")[0];
  if (cxx ? !onPath(cxx) && !cxx.startsWith("/") : !onPath("g++") && !onPath("c++")) missing.push("C++ compiler (g++)");
  if (!onPath("make")) missing.push("make");
  if (!onPath("python3") && !onPath("python")) missing.push("python3");
  return missing;
}

function sourceBuild() {
  const gyp = process.env.npm_config_node_gyp;
  const [cmd, args] = gyp ? [process.execPath, [gyp, "rebuild"]] : ["node-gyp", ["rebuild"]];
  const r = spawnSync(cmd, args, { cwd: root, encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status === 0 && addonLoads()) return undefined;
  const log = join(root, "build", "install.log");
  mkdirSync(join(root, "build"), { recursive: true });
  writeFileSync(log, `${r.error ?? ""}${r.stdout ?? ""}${r.stderr ?? ""}`);
  return log;
}

function main() {
  if (process.platform !== "linux") {
    say(`no native addon on ${process.platform}: the "thread" context works; the "process" context needs Linux for now.`);
    return;
  }
  if (process.env.npm_config_build_from_source !== "true" && addonLoads()) return;
  const missing = missingTools();
  if (missing.length > 0) {
    say(
      `no prebuilt addon for ${where}, and no ${missing.join(", ")} to build one; the "thread" context works, ` +
        `the "process" context needs the addon: install them (apt-get install g++ make python3) and run 'npm rebuild multiproc'.`,
    );
    return;
  }
  const log = sourceBuild();
  if (log !== undefined) {
    say(`no prebuilt addon for ${where} and building one failed (see ${log}); the "thread" context works, the "process" context needs the addon.`);
  }
}

main();
