// Every example in examples/ runs as its own program (sleeps and sizes scaled down) and prints
// what its "// expect: REGEX" lines say, one line of output per pattern.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, runNode } from "./helpers.js";

const examples = readdirSync(join(ROOT, "examples")).filter((f) => /^(seed\d+|demo-).*\.ts$/.test(f));

for (const file of examples) {
  const patterns = readFileSync(join(ROOT, "examples", file), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("// expect: "))
    .map((l) => new RegExp(l.slice("// expect: ".length), "m"));
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
