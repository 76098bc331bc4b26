#!/usr/bin/env node
// `npm run prebuild`: builds the addon for every supported Node ABI on linux-x64 and linux-arm64
// into prebuilds/linux-<arch>/node.abi<N>.glibc.node, where node-gyp-build finds it at run time,
// so an install needs no compiler. Offline apart from the npm registry: each Node's headers come
// from its node-linux-<arch> package (scripts/nodes.mjs); arm64 is cross-compiled with Debian's
// g++-aarch64-linux-gnu. Each x64 build is loaded by its own Node before it is kept; arm64 builds
// are loaded under qemu-aarch64 with --check-arm64 (slow: pack-smoke does it for one line).
//
//   node scripts/prebuild.mjs [--arch x64,arm64] [--node 22.23.5,...] [--force] [--check-arm64]
//
// Up-to-date prebuilds (newer than binding.gyp and native/src) are kept unless --force.
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { ARCHES, NODE_VERSIONS, cacheDir, moduleVersion, nodeDir, prebuildPath, root } from "./nodes.mjs";

const CROSS = {
  arm64: { CC: "aarch64-linux-gnu-gcc", CXX: "aarch64-linux-gnu-g++", strip: "aarch64-linux-gnu-strip" },
  x64: { strip: "strip" },
};
const HOST = process.arch;

/** npm's own node-gyp (every npm ships one), so the script needs nothing npm does not have. */
function nodeGyp() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  const npmRoot = execFileSync("npm", ["root", "-g"], { encoding: "utf8" }).trim();
  return join(npmRoot, "npm/node_modules/node-gyp/bin/node-gyp.js");
}

function sourcesMtime() {
  const files = [join(root, "binding.gyp"), ...readdirSync(join(root, "native/src")).map((f) => join(root, "native/src", f))];
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

function run(cmd, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")} failed (${code}):\n${out}`))));
  });
}

/** Builds one (version, arch) in its own staging folder, so two builds can run side by side. */
async function buildOne(version, arch, options) {
  const headers = nodeDir(version, arch);
  const abi = moduleVersion(headers);
  const target = prebuildPath(arch, abi);
  if (!options.force && existsSync(target) && statSync(target).mtimeMs > sourcesMtime()) {
    return `${arch} node ${version} (abi ${abi}): up to date`;
  }
  const stage = join(cacheDir, "prebuild", `linux-${arch}-${version}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  copyFileSync(join(root, "binding.gyp"), join(stage, "binding.gyp"));
  symlinkSync(join(root, "native"), join(stage, "native"));
  const tools = arch === HOST ? {} : CROSS[arch];
  if (arch !== HOST && tools === undefined) throw new Error(`no cross compiler known for ${arch}`);
  const env = { ...process.env, CC: tools.CC ?? process.env.CC, CXX: tools.CXX ?? process.env.CXX };
  for (const k of ["CC", "CXX"]) if (env[k] === undefined) delete env[k];
  // Under `npm run`/`npm pack`, npm's own config arrives as npm_config_* (nodedir=/usr here, say),
  // and node-gyp lets it override its command line: keep only what is said below.
  for (const k of Object.keys(env)) if (k.toLowerCase().startsWith("npm_config_")) delete env[k];
  const started = performance.now();
  await run(
    process.execPath,
    [nodeGyp(), "rebuild", `--nodedir=${headers}`, `--target=${version}`, `--arch=${arch}`, `--devdir=${join(cacheDir, "node-gyp")}`],
    { cwd: stage, env },
  );
  const built = join(stage, "build/Release/multiproc.node");
  execFileSync(CROSS[arch].strip, ["--strip-unneeded", built]);
  if (arch === HOST) {
    // Load it with the Node it was built for: a wrong ABI or a missing symbol fails here, not at a user's.
    execFileSync(join(headers, "bin/node"), ["-e", `require(${JSON.stringify(built)}).gettid()`]);
  } else if (options.checkArm64 && arch === "arm64") {
    execFileSync("qemu-aarch64", ["-L", "/usr/aarch64-linux-gnu", join(headers, "bin/node"), "-e", `require(${JSON.stringify(built)}).gettid()`]);
  }
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(built, target);
  rmSync(stage, { recursive: true, force: true });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  return `${arch} node ${version} (abi ${abi}): ${target.slice(root.length)} (${statSync(target).size} bytes, ${seconds} s)`;
}

export async function prebuild({ arches = ARCHES, versions = NODE_VERSIONS, force = false, checkArm64 = false, jobs = 2 } = {}) {
  const queue = arches.flatMap((arch) => versions.map((version) => ({ version, arch })));
  // Fetch every Node first (npm pack is not safe to run twice at once on one cache).
  for (const { version, arch } of queue) nodeDir(version, arch);
  const lines = [];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      lines.push(await buildOne(item.version, item.arch, { force, checkArm64 }));
      console.log(`prebuild: ${lines.at(-1)}`);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      arch: { type: "string" },
      node: { type: "string" },
      force: { type: "boolean", default: false },
      "check-arm64": { type: "boolean", default: false },
    },
  });
  await prebuild({
    arches: values.arch?.split(",") ?? ARCHES,
    versions: values.node?.split(",") ?? NODE_VERSIONS,
    force: values.force,
    checkArm64: values["check-arm64"],
  });
}
