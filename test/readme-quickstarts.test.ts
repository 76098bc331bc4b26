// The README's quick starts run as a reader would run them (issue #17): each ```ts block is
// compiled against the package's own exports and run as a program, and must exit 0 and print
// (all but ClusterPool's, which needs Redis and worker nodes).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { ROOT, runNode } from "./helpers.js";

const DIR = join(ROOT, "out/readme-quickstarts");

test("the README's quick starts compile, run and exit 0", { timeout: 300_000 }, async () => {
  const blocks = [...readFileSync(join(ROOT, "README.md"), "utf8").matchAll(/^```ts\n([\s\S]*?)^```/gm)]
    .map((m) => m[1] ?? "")
    .filter((code) => !code.includes("ClusterPool"));
  assert.ok(blocks.length >= 7, `README.md has ${blocks.length} runnable ts blocks`);
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  blocks.forEach((code, i) => writeFileSync(join(DIR, `readme-${i}.ts`), `${code}\nexport {};\n`));
  writeFileSync(
    join(DIR, "tsconfig.json"),
    JSON.stringify({ extends: "../../tsconfig.base.json", compilerOptions: { rootDir: ".", outDir: "js" }, include: ["*.ts"] }),
  );
  await promisify(execFile)(join(ROOT, "node_modules/.bin/tsc"), ["-p", join(DIR, "tsconfig.json")], { cwd: ROOT });
  // Two at a time: the runner gives a test file 120 s.
  const results = await Promise.all(
    [0, 1].map(async (lane) => {
      const out: { code: string; exit: number | null; stdout: string; stderr: string }[] = [];
      for (let i = lane; i < blocks.length; i += 2) {
        const r = await runNode(join(DIR, "js", `readme-${i}.js`), { timeout: 100_000 });
        out.push({ code: blocks[i] ?? "", exit: r.code, stdout: r.stdout, stderr: r.stderr });
      }
      return out;
    }),
  );
  for (const r of results.flat()) {
    assert.equal(r.exit, 0, `${r.code}\nexited ${r.exit}\n${r.stderr}`);
    assert.ok(r.stdout.length > 0, `${r.code}\nprinted nothing`);
  }
});
