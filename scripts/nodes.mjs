// The Node lines multiproc supports, and a copy of any of them for any Linux architecture, taken
// from the npm registry's node-linux-<arch> packages (bin/node and include/node/, the headers
// node-gyp needs) with `npm pack`, so builds and smoke tests run offline from the registry alone.
// Copies are unpacked under .cache/nodes/ inside the clone (ignored by git); nothing is cached
// outside it.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

export const root = new URL("..", import.meta.url).pathname;
export const cacheDir = join(root, ".cache");

/** One exact release per supported line; prebuilds are made for each, on each of ARCHES. */
export const NODE_VERSIONS = ["20.20.2", "22.23.5", "24.22.3", "26.12.1"];
export const ARCHES = ["x64", "arm64"];

/** The folder of Node `version` for `arch` (holding bin/node and include/node), fetched if needed. */
export function nodeDir(version, arch = "x64") {
  const dir = join(cacheDir, "nodes", `linux-${arch}-${version}`);
  const pkg = join(dir, "package");
  if (existsSync(join(pkg, "include/node/node_version.h")) && existsSync(join(pkg, "bin/node"))) return pkg;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const spec = `node-linux-${arch}@${version}`;
  const tarball = execFileSync("npm", ["pack", spec, "--silent", "--pack-destination", dir], {
    cwd: dir,
    encoding: "utf8",
  })
    .trim()
    .split("\n")
    .pop();
  execFileSync("tar", ["xzf", join(dir, tarball), "-C", dir]);
  rmSync(join(dir, tarball));
  return pkg;
}

/** NODE_MODULE_VERSION of the headers in `dir` (the "abi" of node-gyp-build's prebuild names). */
export function moduleVersion(dir) {
  const header = readFileSync(join(dir, "include/node/node_version.h"), "utf8");
  const abi = header.match(/#define NODE_MODULE_VERSION (\d+)/)?.[1];
  if (abi === undefined) throw new Error(`no NODE_MODULE_VERSION in ${dir}/include/node/node_version.h`);
  return Number(abi);
}

/** The name node-gyp-build looks for: prebuilds/linux-<arch>/node.abi<N>.glibc.node. */
export function prebuildPath(arch, abi) {
  return join(root, "prebuilds", `linux-${arch}`, `node.abi${abi}.glibc.node`);
}

// `node scripts/nodes.mjs dir [version] [arch]`: prints the folder of that Node (default: the
// newest supported line), fetching it first; .ci/run uses it to run the suite on that Node.
if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === "dir") {
  console.log(nodeDir(process.argv[3] ?? NODE_VERSIONS.at(-1), process.argv[4] ?? "x64"));
}
