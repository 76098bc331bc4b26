// The short variant of `npm run chaos`: every scenario at a small scale, each in a program of its
// own, with a fixed seed so a failure replays (`npm run chaos -- --short --seed 8`). The figures
// that must be zero (hangs, duplicated or silently lost items, leaked segments and processes,
// crashes) are asserted here; the full run's figures are in docs/reliability.md.
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { SCENARIOS } from "../chaos/scenarios/index.js";
import { ROOT, runNode } from "./helpers.js";

interface Report {
  seed: number;
  runnerMustBeZero: string[];
  results: Array<{ result: { name: string; figures: Record<string, number>; mustBeZero: string[]; notes: string[] } }>;
}

test("chaos, short variant: every must-be-zero figure is zero and faults were injected", async () => {
  const json = join(tmpdir(), `multiproc-chaos-${process.pid}.json`);
  try {
    // The fuzz scenarios have short runs of their own (test/fuzz-*.test.ts).
    const names = Object.keys(SCENARIOS).filter((n) => !n.startsWith("fuzz-"));
    const r = await runNode(join(ROOT, "out/chaos/main.js"), { args: ["--short", "--seed", "8", "--deadline", "60", "--json", json, ...names], timeout: 110_000 });
    const report = JSON.parse(readFileSync(json, "utf8")) as Report;
    assert.ok(report.results.length >= 1, r.stdout);
    for (const { result } of report.results) {
      for (const key of new Set([...report.runnerMustBeZero, ...result.mustBeZero])) {
        assert.equal(result.figures[key] ?? 0, 0, `${result.name}: ${key}\n${r.stdout}\n${r.stderr}`);
      }
      if ("faults" in result.figures) assert.ok((result.figures.faults ?? 0) > 0, `${result.name} injected no fault\n${r.stdout}`);
    }
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  } finally {
    rmSync(json, { force: true });
  }
});
