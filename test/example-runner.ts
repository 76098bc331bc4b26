// Runs examples as their own programs (sleeps and sizes scaled down) and checks that they print
// what their "// expect: REGEX" lines say. Split over several test files (examples*.test.ts) so
// that each file stays within the runner's per-file time limit and they run side by side.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, runNode } from "./helpers.js";

/** Examples that start managers (slower: a server process each): test/examples-managers.test.ts. */
export function usesManagers(source: string): boolean {
  return /\bManager\(\)|\b(BaseManager|SyncManager)\b/.test(source);
}

/** The "// expect: REGEX" lines of an example's source. */
export function expectations(source: string): RegExp[] {
  return source
    .split("\n")
    .filter((l) => l.startsWith("// expect: "))
    .map((l) => new RegExp(l.slice("// expect: ".length), "m"));
}

/** examples/pool-*.ts (issue 16's features): test/examples-pool.test.ts. */
export function isPoolExample(file: string): boolean {
  return file.startsWith("pool-");
}

export function exampleTests(select: (source: string, file: string) => boolean): void {
  const examples = readdirSync(join(ROOT, "examples")).filter((f) => /^(seed\d+|demo-|cluster-|pool-).*\.ts$/.test(f));
  for (const file of examples) {
    const source = readFileSync(join(ROOT, "examples", file), "utf8");
    if (!select(source, file)) continue;
    const patterns = expectations(source);
    test(`example ${file} prints what the seed prints`, async () => {
      assert.ok(patterns.length > 0, `${file} has no '// expect:' lines`);
      const r = await runNode(join(ROOT, "out/examples", file.replace(/\.ts$/, ".js")), {
        env: { MULTIPROC_DEMO_SCALE: "0.05" },
        timeout: 120_000,
      });
      assert.equal(r.code, 0, `exit ${r.code}\n${r.stderr}`);
      for (const pattern of patterns) assert.match(r.stdout, pattern);
    });
  }
}
