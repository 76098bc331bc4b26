// The format of the pool's binary frames, written by frame-writer.ts and read by frame-reader.ts:
// fixed-width fields and tagged values. Values that are common in pool traffic take a fast path that never touches V8's
// serializer (whose fixed cost, 1.5–3.5 us a call here, would dominate tiny tasks): undefined,
// null, booleans, numbers, strings, and arrays of numbers (as Int32 or Float64 runs). Anything else
// goes through serialize.ts (structured clone plus multiproc handles).

export const TAG_UNDEFINED = 0;
export const TAG_NULL = 1;
export const TAG_TRUE = 2;
export const TAG_FALSE = 3;
export const TAG_NUMBER = 4;
export const TAG_STRING = 5;
export const TAG_F64_ARRAY = 6;
export const TAG_I32_ARRAY = 7;
export const TAG_V8 = 8;

export const encoder = new TextEncoder();
export const EMPTY = new Uint8Array(0);
export const EMPTY_VIEW = new DataView(EMPTY.buffer);
export const decoder = new TextDecoder();

/** How an array of numbers can travel: as Int32 values, as Float64 values, or not as numbers. */
export function numberKind(values: readonly unknown[], start: number, end: number): "i32" | "f64" | undefined {
  let ints = true;
  for (let i = start; i < end; i++) {
    const v = values[i];
    if (typeof v !== "number") return undefined;
    if (ints && ((v | 0) !== v || (v === 0 && 1 / v < 0))) ints = false;
  }
  // An array with holes reads `undefined` above; one with extra own keys is rare enough to ignore.
  return ints ? "i32" : "f64";
}

/** Number runs up to this length are read one number at a time (no typed array view). */
export const SHORT_RUN = 16;
/** Arrays up to this length are made at their full size at once (V8 keeps them fast up to 32 Mi elements). */
export const PREALLOCATE_MAX = 1 << 24;

/**
 * Copies a typed array's values into out[at..]. Filling an array made at its size costs a third of
 * growing one by push (8 vs 20 ns an item here, measured with 25,000 items).
 */
export function copyRun(src: Int32Array | Float64Array, out: unknown[], at: number): void {
  const n = src.length;
  for (let i = 0; i < n; i++) out[at + i] = src[i]!;
}
