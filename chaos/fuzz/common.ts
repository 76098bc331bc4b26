// What every fuzzer shares: malformed inputs drawn with fast-check from a printed seed, and the
// verdict on each case. A case either parses (valid bytes, or garbage that happens to mean
// something), or is refused with a multiproc error carrying a `code` (the clear, typed error the
// design promises), or is a crash: anything else thrown (a TypeError, a RangeError, V8's plain
// Error), which the fuzzer counts and keeps a few examples of, with the seed to replay them.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { ProcessError } from "multiproc";

export interface FuzzOptions {
  seed: number;
  /** Multiplies every count (1 = the full run, 10^5 cases per parser). */
  scale: number;
}

/** The same shape as the chaos runner's ScenarioResult. */
export interface FuzzResult {
  name: string;
  figures: Record<string, number>;
  mustBeZero: string[];
  notes: string[];
}

let gc: (() => void) | undefined;

/** A full garbage collection. */
export function fullGc(): void {
  if (gc === undefined) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}

/**
 * Lets the segments of finished cases go: a mapping is released only once its buffer was
 * collected *and* the event loop ran the release, so a synchronous loop that maps a segment per
 * case reaches the kernel's limit on mappings (vm.max_map_count) and V8 then fails to map its own
 * heap. Fuzzers that map segments call this every few hundred cases.
 */
export async function releaseMappings(): Promise<void> {
  fullGc();
  await new Promise((r) => setTimeout(r, 10));
}

/** Full-scale cases per parser. */
export const FULL_CASES = 100_000;

export function casesFor(opts: FuzzOptions, full = FULL_CASES): number {
  return Math.max(1, Math.round(full * opts.scale));
}

export function hex(bytes: Uint8Array, max = 48): string {
  const h = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, max)).toString("hex");
  return bytes.byteLength > max ? `${h}... (${bytes.byteLength} bytes)` : h;
}

/** Whether `err` is the typed refusal the design promises (a multiproc error with a code). */
export function isTyped(err: unknown): err is ProcessError {
  return err instanceof ProcessError && typeof err.code === "string" && err.code.startsWith("ERR_");
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}${(err as { code?: unknown }).code === undefined ? "" : ` ${String((err as { code?: unknown }).code)}`}: ${err.message}`;
  return String(err);
}

/** Counts a parser's outcomes: parsed, refused (by code) and crashes (with examples). */
export class Verdicts {
  cases = 0;
  parsed = 0;
  refused = 0;
  crashes = 0;
  readonly codes: Record<string, number> = {};
  readonly examples: string[] = [];
  maxCaseMs = 0;

  constructor(readonly name: string, readonly seed: number) {}

  refuse(err: ProcessError): void {
    this.refused++;
    this.codes[err.code] = (this.codes[err.code] ?? 0) + 1;
  }

  crash(err: unknown, input: string): void {
    this.crashes++;
    if (this.examples.length < 5) this.examples.push(`${describeError(err)} on ${input}`);
  }

  /**
   * Runs one case: `fn` returns normally (parsed) or throws (refused if typed, else a crash).
   * Returns what it threw, if anything.
   */
  run(input: Uint8Array | string, fn: () => unknown): unknown {
    this.cases++;
    const t0 = performance.now();
    let thrown: unknown;
    try {
      fn();
      this.parsed++;
    } catch (err) {
      thrown = err;
      if (isTyped(err)) this.refuse(err);
      else this.crash(err, typeof input === "string" ? input : hex(input));
    }
    this.maxCaseMs = Math.max(this.maxCaseMs, performance.now() - t0);
    return thrown;
  }

  /** The figures, prefixed with the parser's name. */
  figures(prefix = this.name): Record<string, number> {
    return {
      [`${prefix}.cases`]: this.cases,
      [`${prefix}.parsed`]: this.parsed,
      [`${prefix}.refused`]: this.refused,
      [`${prefix}.crashes`]: this.crashes,
    };
  }

  notes(): string[] {
    const codes = Object.entries(this.codes).map(([c, n]) => `${c} x${n}`).join(", ");
    const out = [`${this.name}: seed ${this.seed}, ${this.cases} cases, slowest ${this.maxCaseMs.toFixed(1)} ms; refusals: ${codes || "none"}`];
    for (const e of this.examples) out.push(`${this.name} CRASH: ${e}`);
    return out;
  }
}

/** Draws `n` values of `arb` in batches (each batch from its own seed derived from `seed`). */
export function* draw<T>(arb: fc.Arbitrary<T>, seed: number, n: number, batch = 1000): Generator<T> {
  for (let done = 0, b = 0; done < n; b++) {
    const k = Math.min(batch, n - done);
    for (const v of fc.sample(arb, { seed: (seed + b * 7919) | 0, numRuns: k })) yield v;
    done += k;
  }
}

// ---- malformed bytes ----

/** Values that make length fields interesting (u32 little- or big-endian, wherever they land). */
const INTERESTING = [0, 1, 2, 3, 4, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x20000000, 0x40000000, 0x1fffffff];

type Mutation =
  | { op: "flip"; at: number; bit: number }
  | { op: "set"; at: number; value: number }
  | { op: "u32"; at: number; value: number; le: boolean }
  | { op: "truncate"; at: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "delete"; at: number; n: number }
  | { op: "duplicate"; at: number; n: number };

// Positions without fast-check's bias towards small numbers (which would damage mostly byte 0).
const position = fc.noBias(fc.nat(1_000_000)).map((n) => n / 1_000_001);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant("set" as const), at: position, value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 0xff, 0x7f, 0x80)) }),
  fc.record({ op: fc.constant("u32" as const), at: position, value: fc.constantFrom(...INTERESTING), le: fc.boolean() }),
  fc.record({ op: fc.constant("truncate" as const), at: position }),
  fc.record({ op: fc.constant("insert" as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant("delete" as const), at: position, n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant("duplicate" as const), at: position, n: fc.integer({ min: 1, max: 16 }) }),
);

function apply(bytes: Uint8Array, m: Mutation): Uint8Array {
  const at = Math.floor(m.at * (bytes.length + (m.op === "insert" ? 1 : 0)));
  switch (m.op) {
    case "flip":
      if (bytes.length === 0) return bytes;
      bytes[at] = bytes[at]! ^ (1 << m.bit);
      return bytes;
    case "set":
      if (bytes.length === 0) return bytes;
      bytes[at] = m.value;
      return bytes;
    case "u32": {
      if (bytes.length < 4) return bytes;
      const p = Math.min(at, bytes.length - 4);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      view.setUint32(p, m.value >>> 0, m.le);
      return bytes;
    }
    case "truncate":
      return bytes.slice(0, at);
    case "insert": {
      const out = new Uint8Array(bytes.length + m.bytes.length);
      out.set(bytes.subarray(0, at));
      out.set(m.bytes, at);
      out.set(bytes.subarray(at), at + m.bytes.length);
      return out;
    }
    case "delete":
      return Uint8Array.from(Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.n)]));
    case "duplicate":
      return Uint8Array.from(Buffer.concat([bytes.subarray(0, at + m.n), bytes.subarray(at, at + m.n), bytes.subarray(at + m.n)]));
  }
}

/** Valid encodings from `valid`, each damaged by 1 to 4 mutations. */
export function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([bytes, ms]) => {
    let out: Uint8Array = Uint8Array.from(bytes);
    for (const m of ms) out = apply(out, m);
    return out;
  });
}

/** Mostly damaged valid encodings, some pure noise. */
export function malformed(valid: fc.Arbitrary<Uint8Array>, maxNoise = 512): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { arbitrary: mutated(valid), weight: 6 },
    { arbitrary: fc.uint8Array({ maxLength: maxNoise }), weight: 2 },
    { arbitrary: fc.tuple(fc.constantFrom(0, 1, 2), fc.uint8Array({ maxLength: 64 })).map(([f, rest]) => Uint8Array.of(f, ...rest)), weight: 2 },
  );
}

/** Plain data values that every transport carries (no functions, no class instances). */
export const plainValue: fc.Arbitrary<unknown> = fc.anything({
  maxDepth: 3,
  maxKeys: 5,
  withBigInt: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withNullPrototype: true,
  withSparseArray: true,
});

export function result(name: string, figures: Record<string, number>, mustBeZero: string[], notes: string[]): FuzzResult {
  return { name, figures, mustBeZero, notes };
}
