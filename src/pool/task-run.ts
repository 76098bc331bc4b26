// How a pool worker runs one task's payload: apply(fn, args), fn(item) per item (map), fn(...item)
// per item (starmap), and under { settle: true } one record per item. Apart from worker.ts (the
// loop: rings, queue, lifetime) so that each file keeps one job.
import type { FrameReader } from "./codec.js";
import { decodeValue, TASK_SETTLE, type TaskMessage } from "./protocol.js";

export type AnyFunction = (...args: unknown[]) => unknown;

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return ((typeof v === "object" && v !== null) || typeof v === "function") && typeof (v as { then?: unknown }).then === "function";
}

function notArray(what: unknown): TypeError {
  return new TypeError(`starmap items must be arrays of arguments, got ${typeof what}`);
}

/** Runs fn over items one after another, staying synchronous until a call returns a promise. */
function runMany(fn: AnyFunction, items: unknown[], spread: boolean): unknown[] | Promise<unknown[]> {
  // Made at its size: filling it costs a third of growing it by push.
  const out = new Array<unknown>(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (spread && !Array.isArray(item)) throw notArray(item);
    const r = spread ? fn(...(item as unknown[])) : fn(item);
    if (isThenable(r)) return finishMany(fn, items, spread, out, i, r);
    out[i] = r;
  }
  return out;
}

async function finishMany(fn: AnyFunction, items: unknown[], spread: boolean, out: unknown[], at: number, pending: PromiseLike<unknown>): Promise<unknown[]> {
  out[at] = await pending;
  for (let i = at + 1; i < items.length; i++) {
    const item = items[i];
    if (spread && !Array.isArray(item)) throw notArray(item);
    out[i] = await (spread ? fn(...(item as unknown[])) : fn(item));
  }
  return out;
}

/** One item's outcome under { settle: true } (Promise.allSettled's shape). */
type Settled = { status: "fulfilled"; value: unknown } | { status: "rejected"; reason: unknown };

/** runMany for { settle: true }: an item that throws or rejects fails alone. */
async function runSettled(fn: AnyFunction, items: unknown[], spread: boolean): Promise<Settled[]> {
  const out = new Array<Settled>(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    try {
      if (spread && !Array.isArray(item)) throw notArray(item);
      let v = spread ? fn(...(item as unknown[])) : fn(item);
      if (isThenable(v)) v = await v;
      out[i] = { status: "fulfilled", value: v };
    } catch (reason) {
      out[i] = { status: "rejected", reason };
    }
  }
  return out;
}

export function runTask(fn: AnyFunction, task: TaskMessage, reader: FrameReader): unknown {
  // Decoded only now: a task skipped never revives its arguments, and one that cannot be decoded
  // (a segment already unlinked, say) fails alone.
  const payload = decodeValue(task.payload, reader) as unknown[];
  switch (task.mode) {
    case "apply":
      return fn(...payload);
    case "map":
      return (task.flags & TASK_SETTLE) !== 0 ? runSettled(fn, payload, false) : runMany(fn, payload, false);
    case "starmap":
      return (task.flags & TASK_SETTLE) !== 0 ? runSettled(fn, payload, true) : runMany(fn, payload, true);
  }
}
