// The build every script runs first (npm test, bench, demo, chaos): the addon when its sources
// changed since it was built (after a rebase, say: `npm ci` in an existing checkout keeps the old
// one) or it was built for another Node, then the library and the tests, examples and benchmarks
// (tsconfig.test.json).
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const root = new URL("..", import.meta.url).pathname;

export function build() {
  const addon = join(root, "build/Release/multiproc.node");
  // Which Node the addon in build/ was made for: node-gyp-build loads build/Release before any
  // prebuild, so one made for another Node (the suite run on Node 26 after Node 20) would not load.
  const stamp = join(root, "build/Release/built-for.txt");
  const target = `${process.version} ${process.arch}`;
  const nativeSources = [join(root, "binding.gyp"), ...readdirSync(join(root, "native/src")).map((f) => join(root, "native/src", f))];
  const stale =
    !existsSync(addon) ||
    nativeSources.some((f) => statSync(f).mtimeMs > statSync(addon).mtimeMs) ||
    // No stamp: the addon came from the install step (npm ci), made for the Node that ran it,
    // which need not be this one (CI runs the suite on Node 20, then on 26): rebuild once.
    !existsSync(stamp) ||
    readFileSync(stamp, "utf8").trim() !== target;
  if (stale) {
    execFileSync("npm", ["run", "build:native"], { cwd: root, stdio: "inherit" });
    writeFileSync(stamp, `${target}\n`);
  }
  const tsc = join(root, "node_modules/.bin/tsc");
  execFileSync(tsc, ["-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
  // tsc never deletes what it emitted before: a test or example removed or renamed would keep
  // running from its stale copy in out/.
  for (const dir of ["test", "examples"]) rmSync(join(root, "out", dir), { recursive: true, force: true });
  execFileSync(tsc, ["-p", "tsconfig.test.json"], { cwd: root, stdio: "inherit" });
}
