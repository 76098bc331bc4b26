// The code a user copies from the docs works (issue #17): every ```ts block of README.md and
// every TSDoc @example in src/ type-checks against the package as published (imports of
// "multiproc", "multiproc/managers", ... through the package's own exports). The README's quick
// starts also run: test/readme-quickstarts.test.ts.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { ROOT } from "./helpers.js";

const DIR = join(ROOT, "out/doc-examples");

function readmeBlocks(): string[] {
  return [...readFileSync(join(ROOT, "README.md"), "utf8").matchAll(/^```ts\n([\s\S]*?)^```/gm)].map((m) => m[1] ?? "");
}

/** The code of every `@example` of a doc comment in src/, with the comment's ` * ` taken off. */
function tsdocExamples(): { file: string; code: string }[] {
  const out: { file: string; code: string }[] = [];
  const files = readdirSync(join(ROOT, "src"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
  for (const file of files) {
    const text = readFileSync(join(ROOT, "src", file), "utf8");
    for (const m of text.matchAll(/@example\n\s*\* ```ts\n((?:\s*\*.*\n)*?)\s*\* ```/g)) {
      const code = (m[1] ?? "").split("\n").map((l) => l.replace(/^\s*\* ?/, "")).join("\n");
      out.push({ file, code });
    }
  }
  return out;
}

test("every README ts block and every TSDoc @example type-checks against the package", { timeout: 180_000 }, async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const readme = readmeBlocks();
  const examples = tsdocExamples();
  assert.ok(readme.length >= 8, `README.md has ${readme.length} ts blocks`);
  assert.ok(examples.length >= 100, `src/ has ${examples.length} @example blocks`);
  readme.forEach((code, i) => writeFileSync(join(DIR, `readme-${String(i).padStart(2, "0")}.ts`), `${code}\nexport {};\n`));
  examples.forEach(({ file, code }, i) => {
    const name = file.replace(/[\\/]/g, "_").replace(/\.ts$/, "");
    writeFileSync(join(DIR, `ex-${String(i).padStart(3, "0")}-${name}.ts`), `${code}\nexport {};\n`);
  });
  // fromModule's example names a module of the user's: give it one.
  writeFileSync(join(DIR, "tasks.ts"), "export function square(x: number): number {\n  return x * x;\n}\n");
  writeFileSync(
    join(DIR, "tsconfig.json"),
    JSON.stringify({ extends: "../../tsconfig.base.json", compilerOptions: { rootDir: ".", outDir: "js" }, include: ["*.ts"] }),
  );
  const tsc = join(ROOT, "node_modules/.bin/tsc");
  const r = await promisify(execFile)(tsc, ["-p", join(DIR, "tsconfig.json")], { cwd: ROOT }).catch((err: { stdout?: string; code?: number }) => err);
  assert.ok(!("code" in r) || r.code === undefined, `the examples do not type-check:\n${r.stdout ?? ""}`);
});
