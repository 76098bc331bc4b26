// The table `npm run chaos` prints: one row per scenario with the figures every scenario shares,
// then each scenario's own figures and notes, and the list of must-be-zero figures that are not.
import type { ScenarioResult } from "./lib.js";

/** The shared columns: [figure name, column title]. Scenarios report these names when they apply. */
export const STANDARD: ReadonlyArray<readonly [string, string]> = [
  ["faults", "faults"],
  ["hangs", "hangs"],
  ["duplicates", "dup"],
  ["silentlyLost", "lost silently"],
  ["reportedLost", "lost, reported"],
  ["leakedSegments", "leaked shm"],
  ["leakedProcesses", "leaked procs"],
  ["crashes", "crashes"],
];

/** Figures that must be zero in every scenario, whatever it declares. */
export const RUNNER_MUST_BE_ZERO = ["hangs", "duplicates", "silentlyLost", "leakedSegments", "leakedProcesses", "crashes"];

export function formatReport(results: Array<ScenarioResult & { wallMs: number }>): { text: string; failures: string[] } {
  const header = ["scenario", ...STANDARD.map(([, title]) => title), "wall s"];
  const rows = results.map((r) => [r.name, ...STANDARD.map(([key]) => String(r.figures[key] ?? 0)), (r.wallMs / 1000).toFixed(1)]);
  const totals = ["total", ...STANDARD.map(([key]) => String(results.reduce((s, r) => s + (r.figures[key] ?? 0), 0))), (results.reduce((s, r) => s + r.wallMs, 0) / 1000).toFixed(1)];
  const all = [header, ...rows, totals];
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(" | ")} |`;
  const out = [line(header), `|${widths.map((w, c) => (c === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`, ...rows.map(line), line(totals), ""];
  const standard = new Set(STANDARD.map(([key]) => key));
  const failures: string[] = [];
  for (const r of results) {
    const own = Object.entries(r.figures).filter(([key]) => !standard.has(key));
    if (own.length > 0) out.push(`${r.name}: ${own.map(([k, v]) => `${k} ${v}`).join(", ")}`);
    for (const note of r.notes) out.push(`  ${r.name}: ${note}`);
    for (const key of new Set([...RUNNER_MUST_BE_ZERO, ...r.mustBeZero])) {
      const v = r.figures[key] ?? 0;
      if (v !== 0) failures.push(`${r.name}: ${key} = ${v}`);
    }
  }
  return { text: out.join("\n"), failures };
}
