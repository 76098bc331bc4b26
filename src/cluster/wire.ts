// What a ClusterPool and its worker nodes exchange through BullMQ, written down where it lives.
//
//   ClusterPool                        Redis (BullMQ queue)                worker node
//     | addBulk([{ name, data, opts: { jobId } }]) -> wait list               |
//     |                                            moveToActive (locked) <--- |  takes up to N jobs
//     |                                                                       |  runs each on its
//     |                                                                       |  local process Pool
//     |                                   moveToFinished(returnvalue) <------ |  returns the outcome
//     | <- XREAD events stream: completed { jobId, returnvalue }              |
//     | <- failed { jobId, failedReason } (BullMQ's own failures: a job        |
//     |    stalled more often than the node allows)                           |
//
// Job data (JSON, as BullMQ stores it):
//   v  wire version (1)          m  "apply" | "map" | "starmap"
//   t  the target (WireTarget)   p  the arguments (apply) or items (map, starmap): the pool
//   a  attempts: runs allowed         codec's tagged value (codec.ts, "socket" transport), base64
//      when nodes are lost       o  per-task timeout in ms, or null
//   x  largest outcome (bytes) the pool accepts
//   s  the pool's task flag bits (pool/protocol.ts), absent when none: TASK_SETTLE (map items
//      settle one by one), TASK_EVENTS (the caller listens: currentTask().emit goes to the job's
//      progress, { e: the codec's tagged value, base64 }, each a "progress" event on the stream,
//      published before the job completes)
// The job's return value (a base64 string) is always an *outcome*, success or the task's error:
//   u8 version | u8 ok | f64 busy ms | f64 pid | value: worker name | value: result or error
// so a task's error travels whole (class name, code, stack, cause) instead of as BullMQ's
// failedReason string. BullMQ's failed state is left for failures of the delivery itself.
// The completed event carries the return value, and the stream keeps ~10,000 events: an outcome
// over INLINE_OUTCOME_MAX goes into a key of its own ("<prefix>:<queue>:mp-outcome:<job id>",
// expiring after OUTCOME_TTL_MS) and the return value is "@" + that key; the pool takes it (GET
// and DEL in one transaction) when the event arrives.
//
// Targets name modules relative to a root directory: the pool sends "dist/tasks.js" for
// file:///srv/app/dist/tasks.js when its root is /srv/app, and a node whose root is /opt/app
// imports file:///opt/app/dist/tasks.js. Modules outside the root travel as absolute URLs.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ErrorCodes, plainError, ProcessError, RemoteError, StateError, TimeoutError, WorkerLostError, type ErrorCode } from "../errors.js";
import { FrameReader, FrameWriter } from "../pool/codec.js";
import type { TaskMode } from "../pool/protocol.js";
import type { TargetDescriptor } from "../target.js";

export const WIRE_VERSION = 1;
/** Outcomes longer than this (base64 characters) go by reference. */
export const INLINE_OUTCOME_MAX = 16 * 1024;
export const OUTCOME_REF = "@";
export const OUTCOME_KEY = "mp-outcome";
/**
 * The pub/sub channel ("<prefix>:<queue>:mp-cancel") on which a pool names, as a JSON array, the
 * jobs of a call it gave up (aborted, or failed): the nodes running them abort their processor's
 * signal (BullMQ's Worker.cancelJob), so the task's currentTask().signal aborts.
 */
export const CANCEL_CHANNEL = "mp-cancel";
/** How long an outcome waits for its pool (one that died leaves it to expire). */
export const OUTCOME_TTL_MS = 3600_000;
const MODES: readonly TaskMode[] = ["apply", "map", "starmap"];

export type WireTarget =
  | { kind: "export"; module: string; name: string }
  | { kind: "function"; name: string; source: string; module: string | undefined };

export interface JobData {
  v: number;
  t: WireTarget;
  m: TaskMode;
  p: string;
  a: number;
  o: number | null;
  x: number;
  s?: number;
}

/** An emitted value as a job's progress (BullMQ takes a number or an object). */
export interface EventProgress {
  e: string;
}

export function encodeEvent(value: unknown): EventProgress {
  return { e: Buffer.from(encodeValue(value)).toString("base64") };
}

/** An event from a job's progress; undefined for progress that is not ours. */
export function decodeEvent(data: unknown): { value: unknown } | undefined {
  const e = (data as Partial<EventProgress> | null)?.e;
  if (typeof e !== "string") return undefined;
  return { value: decodeValue(Buffer.from(e, "base64")) };
}

/** A module URL as the pool sends it: relative to `rootHref` (ending in "/") when under it. */
function moduleRef(url: string, rootHref: string): string {
  return url.startsWith(rootHref) ? url.slice(rootHref.length) : url;
}

/** A module reference resolved on a node: relative ones against the node's root. */
export function resolveModule(ref: string, rootHref: string): string {
  return new URL(ref, rootHref).href;
}

export function toWire(d: TargetDescriptor, rootHref: string): WireTarget {
  if (d.kind === "export") return { kind: "export", module: moduleRef(d.url, rootHref), name: d.name };
  return { kind: "function", name: d.name, source: d.source, module: d.url === undefined ? undefined : moduleRef(d.url, rootHref) };
}

function protocolError(what: string): ProcessError {
  return new ProcessError(`malformed cluster job: ${what} (a pool and a worker node of different multiproc versions?)`, { code: ErrorCodes.PROTOCOL });
}

/** Checks a job's data as a node receives it, and turns its target back into a descriptor. */
export function readJob(data: unknown, rootHref: string): { job: JobData; target: TargetDescriptor } {
  const j = data as Partial<JobData> | null;
  if (typeof j !== "object" || j === null) throw protocolError("its data is not an object");
  if (j.v !== WIRE_VERSION) throw protocolError(`wire version ${String(j.v)}, this node speaks ${WIRE_VERSION}`);
  if (!MODES.includes(j.m as TaskMode) || typeof j.p !== "string" || typeof j.a !== "number" || typeof j.x !== "number") {
    throw protocolError("missing fields");
  }
  const t = j.t as Partial<WireTarget> | undefined;
  let target: TargetDescriptor;
  if (t?.kind === "export" && typeof t.module === "string" && typeof t.name === "string") {
    target = { kind: "export", url: resolveModule(t.module, rootHref), name: t.name };
  } else if (t?.kind === "function" && typeof t.source === "string" && typeof t.name === "string") {
    const module = typeof t.module === "string" ? resolveModule(t.module, rootHref) : undefined;
    target = { kind: "function", name: t.name, source: t.source, url: module };
  } else {
    throw protocolError("no target");
  }
  return { job: j as JobData, target };
}

// ---- values ----

export function encodeValue(value: unknown): Uint8Array {
  const w = new FrameWriter(64, "socket");
  w.value(value);
  return w.copy();
}

export function decodeValue(bytes: Uint8Array): unknown {
  return new FrameReader(bytes).value();
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

export function fromBase64(text: string): Uint8Array {
  return Buffer.from(text, "base64");
}

// ---- outcomes ----

export interface Outcome {
  ok: boolean;
  /** Milliseconds the task ran on its worker. */
  busy: number;
  /** Who ran it: "NODE/PoolWorker-N" (or the node alone when no worker began it). */
  worker: string;
  pid: number;
  /** The result, or the task's error. */
  value: unknown;
}

/** The outcome as a job's return value. An error that cannot be sent is sent as a plain copy. */
export function encodeOutcome(o: Outcome): string {
  const w = new FrameWriter(256, "socket");
  const head = () => {
    w.reset();
    w.u8(WIRE_VERSION);
    w.u8(o.ok ? 1 : 0);
    w.f64(o.busy);
    w.f64(o.pid);
    w.value(o.worker);
  };
  head();
  try {
    w.value(o.value);
  } catch (err) {
    if (o.ok) throw err;
    head();
    w.value(plainError(o.value));
  }
  return toBase64(w.view());
}

export function decodeOutcome(returnvalue: unknown): Outcome {
  if (typeof returnvalue !== "string") throw protocolError("its return value is not an outcome");
  const r = new FrameReader(fromBase64(returnvalue));
  const version = r.u8();
  if (version !== WIRE_VERSION) throw protocolError(`outcome version ${version}`);
  const ok = r.u8() === 1;
  const busy = r.f64();
  const pid = r.f64();
  const worker = String(r.value());
  return { ok, busy, pid, worker, value: r.value() };
}

// Errors of multiproc's own classes arrive as plain Errors with their name and code (serialize.ts
// keeps only built-in classes); give back the class, so `instanceof WorkerLostError` holds.
const classes: Record<string, new (message: string, options: { code?: ErrorCode; cause?: unknown }) => ProcessError> = {
  ProcessError,
  TimeoutError,
  RemoteError,
  WorkerLostError,
  StateError,
};

export function reviveClass(err: unknown): unknown {
  if (!(err instanceof Error) || Object.getPrototypeOf(err) !== Error.prototype) return err;
  const Ctor = classes[err.name];
  const code = (err as { code?: unknown }).code;
  if (Ctor === undefined || typeof code !== "string") return err;
  const options = { code: code as ErrorCode };
  const revived = new Ctor(err.message, "cause" in err ? { ...options, cause: err.cause } : options);
  for (const key of Object.keys(err)) if (key !== "code") (revived as unknown as Record<string, unknown>)[key] = (err as unknown as Record<string, unknown>)[key];
  Object.defineProperty(revived, "stack", { value: err.stack, configurable: true, writable: true });
  return revived;
}

// ---- nodes ----

/** The name a node's BullMQ worker registers (CLIENT SETNAME): its own name and concurrency. */
export function nodeWorkerName(name: string, concurrency: number): string {
  return `${name}|${concurrency}`;
}

/** Reads a node back from a client name BullMQ lists ("bull:<queue>:w:NAME|N"); undefined for other clients. */
export function parseNodeWorkerName(raw: string): { name: string; concurrency: number } | undefined {
  const at = raw.indexOf(":w:");
  if (at < 0) return undefined;
  const own = raw.slice(at + 3);
  const bar = own.lastIndexOf("|");
  const concurrency = Number(own.slice(bar + 1));
  if (bar < 0 || !Number.isInteger(concurrency)) return undefined;
  return { name: own.slice(0, bar), concurrency };
}

/** A directory (path or file: URL) as the href module URLs are made relative to. */
export function rootHref(root: string | URL): string {
  const href = root instanceof URL || /^file:/i.test(root) ? new URL(root).href : pathToFileURL(resolve(root)).href;
  return href.endsWith("/") ? href : `${href}/`;
}
