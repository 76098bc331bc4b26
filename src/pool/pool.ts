// Pool: CPython's multiprocessing.Pool for Node. The calls and their argument checks are the
// shared call layer's (base-pool.ts); the work itself is the Scheduler's (scheduler.ts), which
// runs it on workers (worker.ts) over a pair of shared-memory rings each (protocol.ts).
import type { StartMethod } from "../backends/backend.js";
import { checkStartMethod, defaultStartMethod } from "../backends/registry.js";
import type { Context } from "../context.js";
import { ArgumentError, ErrorCodes } from "../errors.js";
import { checkNotBootstrapping } from "../runtime.js";
import { describeTarget, resolveTarget, type TargetDescriptor } from "../target.js";
import { checkInteger, checkOptions, checkLimit, describe } from "../validate.js";
import { availableParallelism } from "node:os";
import { BasePool } from "./base-pool.js";
import { Scheduler, type ResourceLimits } from "./scheduler.js";
import type { PoolStats } from "./stats.js";

export type { ApplyOptions, CallOptions, MapAsyncOptions, MapOptions } from "./base-pool.js";

/**
 * Options of `new Pool({...})`: the number of workers, an initializer, how many tasks a worker runs before it is replaced, the context, and more.
 *
 * @example
 * ```ts
 * import { Pool } from "multiproc";
 * export function init(tag: string) { (globalThis as { tag?: string }).tag = tag; }
 * await using pool = new Pool({ processes: 4, initializer: init, initargs: ["w"], maxTasksPerChild: 100, context: "thread" });
 * ```
 */
export interface PoolOptions {
  /** Number of workers; default cpuCount(). */
  processes?: number;
  /** Runs in each worker before its first task, with `initargs`. */
  initializer?: (...args: never[]) => unknown;
  initargs?: unknown[];
  /** A worker exits after this many tasks (chunks) and a fresh one replaces it. Default: never. */
  maxTasksPerChild?: number;
  /** "process" (default: the start method in force) or "thread", or a Context. */
  context?: StartMethod | Context;
  /** Workers kept when idle (default `processes`); the pool starts more, up to `processes`, while work waits. */
  minProcesses?: number;
  /** Ms a worker above minProcesses may stay idle before it retires (default 5000). */
  idleTimeout?: number;
  /** MiB of memory (RSS; a thread worker's own heap and buffers) past which a worker is replaced after its current task. */
  maxMemoryPerChild?: number;
  /** Each worker's own V8 heap limits, named as worker_threads names them (processes get the matching flags). */
  resourceLimits?: ResourceLimits;
  /** Async tasks a worker runs at once (default 1). */
  concurrentTasksPerWorker?: number;
  /** Tasks that may wait for a worker; a call beyond it rejects with Full. Default: no limit. */
  maxQueue?: number;
  /** Runs in each worker as it retires (close, recycle, terminate, idle timeout), with `finalargs`. */
  finalizer?: (...args: never[]) => unknown;
  finalargs?: unknown[];
}

const DEFAULT_IDLE_TIMEOUT = 5000;
const LIMIT_NAMES = ["maxOldGenerationSizeMb", "maxYoungGenerationSizeMb", "codeRangeSizeMb", "stackSizeMb"] as const;

function isSet(v: unknown): boolean {
  return v !== undefined && v !== null;
}

function checkArray(v: unknown, name: string): unknown[] {
  const list = v ?? [];
  if (!Array.isArray(list)) throw new ArgumentError(`${name} must be an array, got ${describe(list)}`, ErrorCodes.INVALID_ARG_TYPE);
  return list;
}

function checkPositive(v: unknown, name: string): number {
  if (typeof v !== "number" || Number.isNaN(v)) throw new ArgumentError(`${name} must be a number, got ${describe(v)}`, ErrorCodes.INVALID_ARG_TYPE);
  if (!(v > 0) || v === Infinity) throw new ArgumentError(`${name} must be a finite number > 0, got ${v}`, ErrorCodes.OUT_OF_RANGE);
  return v;
}

function checkLimits(v: unknown): ResourceLimits | undefined {
  if (!isSet(v)) return undefined;
  const o = checkOptions(v, "resourceLimits");
  const out: ResourceLimits = {};
  for (const key of Object.keys(o)) {
    if (!(LIMIT_NAMES as readonly string[]).includes(key)) {
      throw new ArgumentError(`resourceLimits has no key ${JSON.stringify(key)}; use ${LIMIT_NAMES.join(", ")}`, ErrorCodes.INVALID_ARG_VALUE);
    }
  }
  for (const key of LIMIT_NAMES) if (isSet(o[key])) out[key] = checkPositive(o[key], `resourceLimits.${key}`);
  return out;
}

/** A target option (initializer, finalizer): located now, its descriptor sent to each worker. */
function targetOption(fn: unknown, name: string): Promise<TargetDescriptor | null> {
  if (!isSet(fn)) return Promise.resolve(null);
  describeTarget(fn, name);
  const p = resolveTarget(fn, name);
  p.catch(() => undefined); // reported by the workers that use it (a pool may start none at first)
  return p;
}

function startMethodOf(context: unknown, fallback: StartMethod | undefined): StartMethod {
  if (context === undefined || context === null) return fallback ?? defaultStartMethod();
  if (typeof context === "object" && typeof (context as { startMethod?: unknown }).startMethod === "string") {
    return checkStartMethod((context as Context).startMethod);
  }
  return checkStartMethod(context);
}

/**
 * A pool of worker processes or threads (Python's `multiprocessing.Pool`): apply, map, starmap, imap and their async forms. A worker that dies fails its task with WorkerLostError and is replaced; nothing hangs.
 *
 * @example
 * ```ts
 * import { isMainProcess, Pool } from "multiproc";
 *
 * export function square(x: number): number {
 *   return x * x;
 * }
 *
 * if (isMainProcess()) {
 *   await using pool = new Pool(4); // terminated at the end of the block
 *   console.log(await pool.map(square, [1, 2, 3, 4, 5, 6])); // [ 1, 4, 9, 16, 25, 36 ]
 *   const r = pool.applyAsync(square, [7]);
 *   console.log(await r.get({ timeout: 5000 })); // 49
 *   for await (const y of pool.imapUnordered(square, [8, 9])) console.log(y);
 * }
 * ```
 */
export class Pool extends BasePool {
  /** The start method; a context's Pool pins it. */
  protected static startMethod: StartMethod | undefined = undefined;

  /** The start method its workers run under. */
  readonly startMethod: StartMethod;
  readonly #s: Scheduler;

  constructor(options: number | PoolOptions = {}) {
    const o: PoolOptions = typeof options === "number" ? { processes: options } : checkOptions(options);
    const processes = o.processes === undefined || o.processes === null ? availableParallelism() : checkInteger(o.processes, "processes", 1);
    const maxTasks = o.maxTasksPerChild === undefined || o.maxTasksPerChild === null ? 0 : checkInteger(o.maxTasksPerChild, "maxTasksPerChild", 1);
    const minProcesses = isSet(o.minProcesses) ? checkInteger(o.minProcesses, "minProcesses", 0, processes) : processes;
    const idleTimeout = checkLimit(o.idleTimeout, "idleTimeout") ?? DEFAULT_IDLE_TIMEOUT;
    const maxMemory = isSet(o.maxMemoryPerChild) ? checkPositive(o.maxMemoryPerChild, "maxMemoryPerChild") * 1024 * 1024 : 0;
    const resourceLimits = checkLimits(o.resourceLimits);
    const concurrency = isSet(o.concurrentTasksPerWorker) ? checkInteger(o.concurrentTasksPerWorker, "concurrentTasksPerWorker", 1) : 1;
    const maxQueue = isSet(o.maxQueue) ? checkInteger(o.maxQueue, "maxQueue", 0) : Infinity;
    const initargs = checkArray(o.initargs, "initargs");
    const finalargs = checkArray(o.finalargs, "finalargs");
    const initializer = targetOption(o.initializer, "initializer");
    const finalizer = targetOption(o.finalizer, "finalizer");
    const startMethod = startMethodOf(o.context, new.target.startMethod);
    checkNotBootstrapping();
    const scheduler = new Scheduler({
      processes,
      minProcesses,
      idleTimeout,
      maxTasks,
      maxMemory,
      concurrency,
      maxQueue,
      method: startMethod,
      initializer,
      initargs,
      finalizer,
      hasFinalizer: isSet(o.finalizer),
      finalargs,
      resourceLimits,
    });
    super(scheduler, processes);
    this.#s = scheduler;
    this.startMethod = startMethod;
  }

  /**
   * The pool's live workers (each: queued, running, completed, failed, utilization, waitTime,
   * runTime) and the same figures for the whole pool since it started. Times are in ms; the
   * percentiles look at the latest 1,024 tasks, max and mean at all.
   *
   * @example
   * ```ts
   * import { Pool } from "multiproc";
   * await using pool = new Pool(2);
   * const s = pool.stats();
   * console.log(s.completed, s.utilization.toFixed(2), s.runTime.p99, s.workers.length);
   * ```
   */
  stats(): PoolStats {
    return this.#s.stats();
  }

  override toString(): string {
    return `<Pool processes=${this.processes} state=${this.#s.state} context=${this.startMethod}>`;
  }
}
