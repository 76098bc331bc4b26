// What the published tarball holds (issue #22): a LICENSE, the docs the README links to, the
// sources every source map names, the install step and the require() stub; and require() of any
// entry says the package is ESM-only and how to load it. `npm pack --dry-run --ignore-scripts`
// lists the files without building anything.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, normalize } from "node:path";
import { test } from "node:test";
import { ErrorCodes } from "multiproc";
import { ROOT } from "./helpers.js";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  os?: unknown;
  exports: Record<string, string | Record<string, string>>;
};

function packedFiles(): Set<string> {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8" });
  const [report] = JSON.parse(out) as [{ files: { path: string }[] }];
  return new Set(report.files.map((f) => f.path));
}

test("the tarball holds LICENSE, the README's linked docs, every source map's sources, the install step", () => {
  const files = packedFiles();
  for (const f of ["LICENSE", "README.md", "package.json", "binding.gyp", "scripts/install.mjs", "cjs/require.cjs", "native/src/addon.cc"]) {
    assert.ok(files.has(f), `${f} is not in the tarball`);
  }
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/i.test(l));
  assert.ok(links.length > 0);
  for (const link of links) assert.ok(files.has(normalize(link)), `README links to ${link}, which is not in the tarball`);
  const maps = [...files].filter((f) => f.startsWith("dist/") && f.endsWith(".map"));
  assert.ok(maps.length > 10);
  for (const map of maps) {
    const { sources } = JSON.parse(readFileSync(join(ROOT, map), "utf8")) as { sources: string[] };
    for (const s of sources) assert.ok(files.has(normalize(join(dirname(map), s))), `${map} names ${s}, which is not in the tarball`);
  }
});

test('package.json lets every OS install, and each entry has a "require" condition that points at a file', () => {
  assert.equal(pkg.os, undefined);
  for (const [entry, target] of Object.entries(pkg.exports)) {
    if (typeof target === "string") continue;
    assert.equal(target.require, "./cjs/require.cjs", `${entry} has no "require" condition`);
  }
});

test('require("multiproc") and its subpaths fail with ERR_REQUIRE_ESM and show await import("multiproc")', () => {
  const require = createRequire(join(ROOT, "package.json"));
  for (const entry of ["multiproc", "multiproc/managers", "multiproc/shared-memory"]) {
    assert.throws(
      () => require(entry),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, ErrorCodes.REQUIRE_ESM);
        assert.match(err.message, /ESM-only/);
        assert.ok(err.message.includes('await import("multiproc")'), err.message);
        return true;
      },
    );
  }
});
