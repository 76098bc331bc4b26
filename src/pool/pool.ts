// Pool: CPython's multiprocessing.Pool for Node. The calls and their argument checks are the
// shared call layer's (base-pool.ts); the work itself is the Scheduler's (scheduler.ts), which
// runs it on workers (worker.ts) over a pair of shared-memory rings each (protocol.ts).
import type { StartMethod } from "../backends/backend.js";
import { checkStartMethod, defaultStartMethod } from "../backends/registry.js";
import type { Context } from "../context.js";
import { ArgumentError, ErrorCodes } from "../errors.js";
import { checkNotBootstrapping } from "../runtime.js";
import { describeTarget, resolveTarget, type TargetDescriptor } from "../target.js";
import { checkInteger, checkOptions, describe } from "../validate.js";
import { availableParallelism } from "node:os";
import { BasePool } from "./base-pool.js";
import { Scheduler } from "./scheduler.js";
import type { WorkerStats } from "./stats.js";

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
    const initargs = o.initargs ?? [];
    if (!Array.isArray(initargs)) {
      throw new ArgumentError(`initargs must be an array, got ${describe(initargs)}`, ErrorCodes.INVALID_ARG_TYPE);
    }
    let initializer: Promise<TargetDescriptor | null> = Promise.resolve(null);
    if (o.initializer !== undefined && o.initializer !== null) {
      describeTarget(o.initializer, "initializer");
      initializer = resolveTarget(o.initializer, "initializer");
    }
    const startMethod = startMethodOf(o.context, new.target.startMethod);
    checkNotBootstrapping();
    const scheduler = new Scheduler({ processes, maxTasks, method: startMethod, initializer, initargs });
    super(scheduler, processes);
    this.#s = scheduler;
    this.startMethod = startMethod;
  }

  /** Per-worker statistics of the live workers since they started. */
  stats(): WorkerStats[] {
    return this.#s.stats();
  }

  override toString(): string {
    return `<Pool processes=${this.processes} state=${this.#s.state} context=${this.startMethod}>`;
  }
}
