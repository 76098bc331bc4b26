// Turns case runs into figures, ratios and goal marks, and prints them as one table.
import type { Goal, Metric } from "./harness.js";
import { median, quantile } from "./harness.js";
import type { CaseRun } from "./run-case.js";

export interface Summary {
  /** In the case's metric: ns per operation, or units per second. */
  median: number;
  q1: number;
  q3: number;
  min: number;
  max: number;
  n: number;
  notes: string[];
  error?: string;
}

export interface Comparison {
  multiproc: string;
  peer: string;
  /** multiproc / peer, both medians. */
  ratio: number;
  /** The ratio in words, e.g. "0.31x the time (3.2x faster)". */
  text: string;
  goal?: Goal & { text: string; met: boolean };
}

export interface CaseResult {
  name: string;
  title: string;
  issue: number;
  metric: Metric;
  measuredAt: string;
  /** Wall-clock seconds the case took, all rounds and sides. */
  seconds?: number;
  /** The 1-minute load average when the case started and ended: above ~0.5, other work competed. */
  loadavg?: { before: number; after: number };
  pending?: string;
  error?: string;
  multiproc: Record<string, Summary>;
  peers: Record<string, Summary>;
  comparisons: Comparison[];
  /** Goals whose sides are missing or failed (listed so they are not silently dropped). */
  unmetGoals: (Goal & { text: string; reason: string })[];
}

function summarize(samples: number[], notes: string[], error?: string): Summary {
  const s: Summary = {
    median: median(samples),
    q1: quantile(samples, 0.25),
    q3: quantile(samples, 0.75),
    min: samples.length > 0 ? Math.min(...samples) : NaN,
    max: samples.length > 0 ? Math.max(...samples) : NaN,
    n: samples.length,
    notes,
  };
  if (error !== undefined) s.error = error;
  else if (samples.length === 0) s.error = "no samples";
  return s;
}

function sig(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

export function formatValue(value: number, metric: Metric): string {
  if (!Number.isFinite(value)) return "-";
  if (metric.kind === "time") {
    if (value < 1e3) return `${sig(value)} ns`;
    if (value < 1e6) return `${sig(value / 1e3)} us`;
    if (value < 1e9) return `${sig(value / 1e6)} ms`;
    return `${sig(value / 1e9)} s`;
  }
  if (value >= 1e9) return `${sig(value / 1e9)}G ${metric.unit}`;
  if (value >= 1e6) return `${sig(value / 1e6)}M ${metric.unit}`;
  if (value >= 1e4) return `${sig(value / 1e3)}k ${metric.unit}`;
  return `${sig(value)} ${metric.unit}`;
}

function ratioText(ratio: number, metric: Metric): string {
  const what = metric.kind === "time" ? "time" : "throughput";
  const faster = metric.kind === "time" ? 1 / ratio : ratio;
  const gloss = faster >= 1 ? `${sig(faster)}x faster` : `${sig(1 / faster)}x slower`;
  return `${sig(ratio)}x the ${what} (${gloss})`;
}

export function goalText(goal: Goal, metric: Metric): string {
  return metric.kind === "time" ? `<= ${goal.ratio}x the time of ${goal.peer}` : `>= ${goal.ratio}x the throughput of ${goal.peer}`;
}

function meets(ratio: number, goal: Goal, metric: Metric): boolean {
  return metric.kind === "time" ? ratio <= goal.ratio : ratio >= goal.ratio;
}

export function toResult(name: string, run: CaseRun | undefined, error: string | undefined, measuredAt: string, fallback: { title: string; issue: number; metric: Metric }): CaseResult {
  const spec = run?.spec;
  const metric = spec?.metric ?? fallback.metric;
  const result: CaseResult = {
    name,
    title: spec?.title ?? fallback.title,
    issue: spec?.issue ?? fallback.issue,
    metric,
    measuredAt,
    multiproc: {},
    peers: {},
    comparisons: [],
    unmetGoals: [],
  };
  if (spec?.pending !== undefined) result.pending = spec.pending;
  if (error !== undefined) result.error = error;
  if (run === undefined || spec === undefined) return result;
  for (const [label, side] of Object.entries(run.sides)) {
    const target = side.role === "multiproc" ? result.multiproc : result.peers;
    target[label] = summarize(side.samples, side.notes, side.error);
  }
  const goals = spec.goals ?? [];
  const used = new Set<Goal>();
  for (const mp of spec.multiproc) {
    const m = result.multiproc[mp];
    const peers = spec.compare?.[mp] ?? spec.peers;
    for (const peer of peers) {
      const p = result.peers[peer];
      if (m === undefined || p === undefined || m.error !== undefined || p.error !== undefined) continue;
      const ratio = m.median / p.median;
      const c: Comparison = { multiproc: mp, peer, ratio, text: ratioText(ratio, metric) };
      const goal = goals.find((g) => g.multiproc === mp && g.peer === peer);
      if (goal !== undefined) {
        used.add(goal);
        c.goal = { ...goal, text: goalText(goal, metric), met: meets(ratio, goal, metric) };
      }
      result.comparisons.push(c);
    }
  }
  for (const g of goals) {
    if (used.has(g)) continue;
    const reason = spec.multiproc.includes(g.multiproc) ? "a side failed or is missing" : (spec.pending ?? `no multiproc variant "${g.multiproc}"`);
    result.unmetGoals.push({ ...g, text: goalText(g, metric), reason });
  }
  return result;
}

/** Renders rows of cells as left-aligned columns. */
function columns(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd()).join("\n");
}

function spread(s: Summary): string {
  if (s.n < 2 || !(s.median > 0)) return "";
  return ` ±${Math.round((50 * (s.q3 - s.q1)) / s.median)}%`;
}

function figure(s: Summary | undefined, metric: Metric): string {
  if (s === undefined) return "-";
  if (s.error !== undefined) return "error";
  return formatValue(s.median, metric) + spread(s);
}

export function table(results: CaseResult[]): string {
  const rows: string[][] = [["case", "multiproc", "median ±IQR/2", "peer", "median ±IQR/2", "multiproc vs peer", "goal (issue)", ""]];
  const notes: string[] = [];
  const errors: string[] = [];
  for (const r of results) {
    const caseCell = `${r.name} (#${r.issue})`;
    let first = true;
    const push = (cells: string[]) => {
      rows.push([first ? caseCell : "", ...cells]);
      first = false;
    };
    const mps = Object.keys(r.multiproc);
    if (mps.length === 0) {
      const peers = Object.entries(r.peers);
      if (peers.length === 0) push([r.error !== undefined ? "error" : "-", "", "", "", "", "", ""]);
      peers.forEach(([label, p], i) => push([i === 0 ? r.pending ?? "none" : "", "", label, figure(p, r.metric), "", "", ""]));
    }
    for (const mp of mps) {
      const m = r.multiproc[mp]!;
      const cs = r.comparisons.filter((c) => c.multiproc === mp);
      const mpCells = [mp, figure(m, r.metric)];
      if (cs.length === 0) push([...mpCells, "", "", "", "", ""]);
      cs.forEach((c, i) => {
        const goal = c.goal === undefined ? ["", ""] : [c.goal.text, c.goal.met ? "✔ met" : "✘ not met"];
        push([...(i === 0 ? mpCells : ["", ""]), c.peer, figure(r.peers[c.peer], r.metric), c.text, ...goal]);
      });
    }
    for (const g of r.unmetGoals) push(["", "", "", "", "", g.text, `? (${g.reason})`]);
    for (const [label, s] of [...Object.entries(r.multiproc), ...Object.entries(r.peers)]) {
      if (s.notes.length > 0) notes.push(`${r.name} / ${label}: ${s.notes.join("; ")}`);
      if (s.error !== undefined) errors.push(`${r.name} / ${label}: ${s.error}`);
    }
    if (r.error !== undefined) errors.push(`${r.name}: ${r.error}`);
  }
  let out = columns(rows);
  if (notes.length > 0) out += `\n\nnotes:\n${notes.map((n) => `  ${n}`).join("\n")}`;
  if (errors.length > 0) out += `\n\nerrors:\n${errors.map((e) => `  ${e}`).join("\n")}`;
  return out;
}
