// The thread context under tsx (issue #14.3; SPEC "Program lifetime": children run under the
// parent's loaders): real `tsx` programs whose targets live in another .ts module, under both
// contexts. On Node 20 tsx registers its hooks in the main thread only, so thread children
// register it themselves (src/backends/thread-loaders.ts).
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { tsxApiFor } from "#internal/backends/thread-loaders.js";
import { CONTEXTS, ROOT, runNode } from "./helpers.js";

/** What `npx tsx` runs. */
const TSX_CLI = join(ROOT, "node_modules/tsx/dist/cli.mjs");

for (const context of CONTEXTS) {
  describe(`tsx (${context})`, () => {
    test("targets in another .ts module: by a .js URL, a .ts URL, and imported (with a module-local helper)", async () => {
      const r = await runNode(TSX_CLI, { args: [join(ROOT, "test/fixtures/tsx-main.ts"), context], timeout: 90_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^js-url=21$/m, r.stdout);
      assert.match(r.stdout, /^ts-url=21$/m, r.stdout);
      assert.match(r.stdout, /^imported=21$/m, r.stdout);
    });
  });
}

test("tsx's API is registered in threads only where tsx does not register itself there", () => {
  const loader = ["--require", "/x/node_modules/tsx/dist/preflight.cjs", "--import", "file:///x/node_modules/tsx/dist/loader.mjs"];
  assert.equal(tsxApiFor(loader, "20.20.2"), "file:///x/node_modules/tsx/dist/esm/api/index.mjs");
  assert.equal(tsxApiFor(loader, "22.12.0"), "file:///x/node_modules/tsx/dist/esm/api/index.mjs");
  assert.equal(tsxApiFor(loader, "22.23.5"), undefined);
  assert.equal(tsxApiFor(loader, "24.22.3"), undefined);
  assert.equal(tsxApiFor(loader, "26.12.1"), undefined);
  assert.equal(tsxApiFor(["--import", "./other.js"], "20.20.2"), undefined);
});
