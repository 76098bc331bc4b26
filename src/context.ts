// Contexts: the same classes and functions, bound to one start method (Python's BaseContext).
// Shared-memory primitives behave identically under every backend, so a context re-exports them
// as they are; only the classes that start children (Process, later Pool) are bound.
import type { StartMethod } from "./backends/backend.js";
import { checkStartMethod, getAllStartMethods, getStartMethod, setStartMethod } from "./backends/registry.js";
import { Pipe } from "./connection/pipe.js";
import { JoinableQueue } from "./queues/joinable-queue.js";
import { LifoQueue } from "./queues/lifo-queue.js";
import { PriorityQueue } from "./queues/priority-queue.js";
import { Queue } from "./queues/queue.js";
import { SimpleQueue } from "./queues/simple-queue.js";
import { Pool } from "./pool/pool.js";
import { Process } from "./process.js";
import { SharedMemory } from "./shared/shared-memory.js";
import { syncPrimitives, type SyncPrimitives } from "./sync/primitives.js";

/**
 * Every factory of the package bound to one start method: `new ctx.Queue()`, `new ctx.Process(...)`, `ctx.Pipe()` (Python's context objects).
 *
 * @example
 * ```ts
 * import { getContext, type Context } from "multiproc";
 * const ctx: Context = getContext("thread");
 * await using pool = new ctx.Pool(2);
 * console.log(await pool.map((x: number) => x * x, [1, 2, 3])); // [ 1, 4, 9 ]
 * ```
 */
export interface Context extends SyncPrimitives {
  readonly startMethod: StartMethod;
  readonly Process: typeof Process;
  readonly Pool: typeof Pool;
  readonly SharedMemory: typeof SharedMemory;
  readonly Pipe: typeof Pipe;
  readonly Queue: typeof Queue;
  readonly SimpleQueue: typeof SimpleQueue;
  readonly JoinableQueue: typeof JoinableQueue;
  readonly LifoQueue: typeof LifoQueue;
  readonly PriorityQueue: typeof PriorityQueue;
  /** The start method this context is bound to. */
  getStartMethod(): StartMethod;
}

function makeContext(method: StartMethod): Context {
  // A subclass whose start method is pinned; `new ctx.Process(...)` reads it at construction.
  class BoundProcess<A extends unknown[] = unknown[]> extends Process<A> {
    protected static override startMethod: StartMethod | undefined = method;
  }
  Object.defineProperty(BoundProcess, "name", { value: "Process" });
  class BoundPool extends Pool {
    protected static override startMethod: StartMethod | undefined = method;
  }
  Object.defineProperty(BoundPool, "name", { value: "Pool" });
  return Object.freeze({
    startMethod: method,
    Process: BoundProcess,
    Pool: BoundPool,
    SharedMemory,
    Pipe,
    Queue,
    SimpleQueue,
    JoinableQueue,
    LifoQueue,
    PriorityQueue,
    ...syncPrimitives,
    getStartMethod: () => method,
  });
}

const contexts = new Map<StartMethod, Context>();

/**
 * The context for a start method ("process" by default, or whatever setStartMethod chose).
 *
 * @example
 * ```ts
 * import { getContext } from "multiproc";
 * const ctx = getContext("thread");
 * const q = new ctx.Queue<string>();
 * const p = new ctx.Process({ target: (q: { putSync(v: string): void }) => q.putSync("hi"), args: [q] });
 * ```
 */
export function getContext(kind?: StartMethod): Context {
  const method = kind === undefined ? getStartMethod() : checkStartMethod(kind);
  let ctx = contexts.get(method);
  if (ctx === undefined) {
    ctx = makeContext(method);
    contexts.set(method, ctx);
  }
  return ctx;
}

export { getAllStartMethods, getStartMethod, setStartMethod };
