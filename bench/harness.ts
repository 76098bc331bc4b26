// What a benchmark case is, and the helpers cases measure with. A case is a file
// `bench/<name>.bench.ts` whose default export is a `BenchSpec`: multiproc's measurements, the
// peers' (JS functions, and CPython through `bench/python/<name>.py`), and the issue's goals.
// `npm run bench` (scripts/bench.mjs) runs every case in its own Node process, several rounds with
// the sides interleaved so that load from elsewhere on the machine hits all of them alike, and
// prints medians and ratios. Timing never goes into the test suite: it lives here.
import { Bench } from "tinybench";

/**
 * What a figure means. "time": nanoseconds per operation, lower is better. "throughput": `unit`
 * per second, higher is better (e.g. "msg/s", "MiB/s").
 */
export type Metric = { kind: "time" } | { kind: "throughput"; unit: string };

/** One side's samples from one round, in the case's metric (ns per op, or units per second). */
export interface Figure {
  samples: number[];
  /** Shown next to the figure, e.g. which implementation was measured. */
  note?: string;
}

/** Runs one side once (one round) and returns its samples. Set up and tear down inside. */
export type Measurement = () => Promise<Figure>;

/**
 * A goal from the issue: multiproc's `multiproc` variant against the peer labelled `peer`.
 * For time, met when multiproc / peer <= ratio; for throughput, when multiproc / peer >= ratio.
 */
export interface Goal {
  multiproc: string;
  peer: string;
  ratio: number;
}

export interface BenchSpec {
  /** One line: what is measured. */
  title: string;
  /** The issue this benchmark belongs to (its goals come from there). */
  issue: number;
  metric: Metric;
  /**
   * multiproc's measurements by variant label ("process", "thread", ...). Empty while the feature
   * is not built yet: the peers still run, and `pending` says what is missing.
   */
  multiproc: Record<string, Measurement>;
  pending?: string;
  /** Peers measured in JS by label ("piscina", "Node IPC", ...). */
  peers?: Record<string, Measurement>;
  /**
   * CPython's variants, measured by `bench/python/<name>.py` (run with python3): it prints one
   * JSON object `{ "figures": { variant: { "samples": [...] } } }` in the same metric. Each
   * variant is labelled "CPython <variant>".
   */
  python?: readonly string[];
  /** Only these pairs get a ratio (default: every multiproc variant against every peer). */
  compare?: Readonly<Record<string, readonly string[]>>;
  goals?: readonly Goal[];
  /** Rounds of all sides, interleaved (default 3). */
  rounds?: number;
}

/** BENCH_SCALE shrinks sample counts and time budgets (`npm run bench -- --quick` sets 0.1). */
export const SCALE = (() => {
  const s = Number(process.env.BENCH_SCALE ?? "1");
  return Number.isFinite(s) && s > 0 ? s : 1;
})();

/** `n` scaled by BENCH_SCALE, at least `min`. */
export function scaled(n: number, min = 1): number {
  return Math.max(min, Math.round(n * SCALE));
}

export interface TimeOptions {
  /** Operations done by one call of `fn`; samples are per operation. Default 1. */
  batch?: number;
  /** Timed calls: at least `iterations` (default 10) and for at least `time` ms (default 300). */
  iterations?: number;
  time?: number;
  /** Untimed calls first: at least `warmupIterations` (default 2), for `warmupTime` ms (default 50). */
  warmupIterations?: number;
  warmupTime?: number;
}

/**
 * Times `fn` with tinybench and returns one sample per call: nanoseconds per operation (the call's
 * time divided by `batch`). Iteration counts and time budgets are scaled by BENCH_SCALE.
 */
export async function timeOps(fn: () => unknown, options: TimeOptions = {}): Promise<number[]> {
  const batch = options.batch ?? 1;
  const bench = new Bench({
    iterations: scaled(options.iterations ?? 10, 3),
    time: (options.time ?? 300) * SCALE,
    warmupIterations: scaled(options.warmupIterations ?? 2, 1),
    warmupTime: (options.warmupTime ?? 50) * SCALE,
    retainSamples: true,
    throws: true,
  });
  bench.add("case", fn);
  const [task] = await bench.run();
  const result = task?.result;
  if (result === undefined || (result.state !== "completed" && result.state !== "aborted-with-statistics")) {
    throw new Error(`the measurement did not complete (${result?.state ?? "no task"})`);
  }
  const samples = result.latency.samples;
  if (samples === undefined) throw new Error("tinybench kept no samples");
  return samples.map((ms) => (ms * 1e6) / batch);
}

/** Converts ns-per-operation samples to a throughput: `unitsPerOp` units per operation. */
export function throughput(nsPerOp: readonly number[], unitsPerOp = 1): number[] {
  return nsPerOp.map((ns) => (unitsPerOp * 1e9) / ns);
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** The q-quantile (0..1), interpolated between the two nearest samples. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
