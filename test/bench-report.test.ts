// The benchmark report's arithmetic (no timing here): which way a ratio reads, when a goal is met,
// what happens to goals whose sides are missing, and how figures are written.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatValue, table, toResult } from "../bench/report.js";
import type { CaseRun } from "../bench/run-case.js";
import type { Goal, Metric } from "../bench/harness.js";

function run(metric: Metric, sides: Record<string, { role: "multiproc" | "peer"; samples: number[]; error?: string }>, goals: Goal[], pending?: string): CaseRun {
  const labels = (role: string) => Object.entries(sides).filter(([, s]) => s.role === role).map(([l]) => l);
  const r: CaseRun = {
    spec: { title: "t", issue: 9, metric, multiproc: labels("multiproc"), peers: labels("peer"), goals },
    sides: Object.fromEntries(Object.entries(sides).map(([l, s]) => [l, { ...s, notes: [] }])),
  };
  if (pending !== undefined) r.spec.pending = pending;
  return r;
}

const fallback = { title: "t", issue: 9, metric: { kind: "time" } as Metric };

describe("bench report", () => {
  test("a time ratio is multiproc / peer, lower is better, and the goal is a ceiling", () => {
    const r = toResult(
      "c",
      run(
        { kind: "time" },
        { mp: { role: "multiproc", samples: [29, 30, 31] }, py: { role: "peer", samples: [60, 60, 61] } },
        [{ multiproc: "mp", peer: "py", ratio: 0.5 }],
      ),
      undefined,
      "now",
      fallback,
    );
    const [c] = r.comparisons;
    assert.equal(c?.ratio, 0.5);
    assert.equal(c?.text, "0.500x the time (2.00x faster)");
    assert.equal(c?.goal?.met, true);
    assert.equal(c?.goal?.text, "<= 0.5x the time of py");
    const strict = toResult("c", run({ kind: "time" }, { mp: { role: "multiproc", samples: [31] }, py: { role: "peer", samples: [60] } }, [{ multiproc: "mp", peer: "py", ratio: 0.5 }]), undefined, "now", fallback);
    assert.equal(strict.comparisons[0]?.goal?.met, false);
    assert.match(strict.comparisons[0]?.text ?? "", /^0\.517x the time \(1\.9\dx faster\)$/);
  });

  test("a throughput ratio reads the other way: higher is better, and the goal is a floor", () => {
    const sides = { mp: { role: "multiproc" as const, samples: [400] }, q: { role: "peer" as const, samples: [100] } };
    const metric: Metric = { kind: "throughput", unit: "msg/s" };
    const met = toResult("c", run(metric, sides, [{ multiproc: "mp", peer: "q", ratio: 4 }]), undefined, "now", fallback);
    assert.equal(met.comparisons[0]?.text, "4.00x the throughput (4.00x faster)");
    assert.equal(met.comparisons[0]?.goal?.met, true);
    const unmet = toResult("c", run(metric, sides, [{ multiproc: "mp", peer: "q", ratio: 5 }]), undefined, "now", fallback);
    assert.equal(unmet.comparisons[0]?.goal?.met, false);
    assert.equal(unmet.comparisons[0]?.goal?.text, ">= 5x the throughput of q");
    assert.equal(toResult("c", run({ kind: "time" }, sides, []), undefined, "now", fallback).comparisons[0]?.text, "4.00x the time (4.00x slower)");
  });

  test("goals whose multiproc side is pending or failed are listed as not judged, never dropped", () => {
    const goal = { multiproc: "Pool", peer: "py", ratio: 0.2 };
    const pending = toResult("c", run({ kind: "time" }, { py: { role: "peer", samples: [1] } }, [goal], "Pool: not built yet"), undefined, "now", fallback);
    assert.deepEqual(pending.comparisons, []);
    assert.equal(pending.unmetGoals[0]?.reason, "Pool: not built yet");
    const failed = toResult(
      "c",
      run({ kind: "time" }, { Pool: { role: "multiproc", samples: [], error: "boom" }, py: { role: "peer", samples: [1] } }, [goal]),
      undefined,
      "now",
      fallback,
    );
    assert.equal(failed.multiproc.Pool?.error, "boom");
    assert.equal(failed.unmetGoals[0]?.reason, "a side failed or is missing");
    const text = table([pending, failed]);
    assert.match(text, /\? \(Pool: not built yet\)/);
    assert.match(text, /c \/ Pool: boom/);
  });

  test("figures are written in fitting units", () => {
    assert.equal(formatValue(24.04, { kind: "time" }), "24.0 ns");
    assert.equal(formatValue(3_920, { kind: "time" }), "3.92 us");
    assert.equal(formatValue(62_100_000, { kind: "time" }), "62.1 ms");
    assert.equal(formatValue(177_000, { kind: "throughput", unit: "msg/s" }), "177k msg/s");
    assert.equal(formatValue(9_460_000, { kind: "throughput", unit: "tasks/s" }), "9.46M tasks/s");
    assert.equal(formatValue(831, { kind: "throughput", unit: "MiB/s" }), "831 MiB/s");
  });
});
