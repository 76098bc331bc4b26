// Contexts: the same classes and functions, bound to one start method (Python's BaseContext).
// Shared-memory primitives behave identically under every backend, so a context carries the very
// classes the package exports; only the classes that start children (Process, Pool) are bound.
// Every member is a getter: a context, like the package root, loads a feature on first use.
import type { StartMethod } from "./backends/backend.js";
import { checkStartMethod, getAllStartMethods, getStartMethod, setStartMethod } from "./backends/registry.js";
import * as api from "./lazy-api.js";

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
export interface Context {
  readonly startMethod: StartMethod;
  readonly Process: typeof api.Process;
  readonly Pool: typeof api.Pool;
  readonly SharedMemory: typeof api.SharedMemory;
  readonly Pipe: typeof api.Pipe;
  readonly Queue: typeof api.Queue;
  readonly SimpleQueue: typeof api.SimpleQueue;
  readonly JoinableQueue: typeof api.JoinableQueue;
  readonly LifoQueue: typeof api.LifoQueue;
  readonly PriorityQueue: typeof api.PriorityQueue;
  readonly Lock: typeof api.Lock;
  readonly RLock: typeof api.RLock;
  readonly Semaphore: typeof api.Semaphore;
  readonly BoundedSemaphore: typeof api.BoundedSemaphore;
  readonly Event: typeof api.Event;
  readonly Condition: typeof api.Condition;
  readonly Barrier: typeof api.Barrier;
  readonly Value: typeof api.Value;
  readonly RawValue: typeof api.RawValue;
  readonly SharedArray: typeof api.SharedArray;
  readonly RawArray: typeof api.RawArray;
  /** The start method this context is bound to. */
  getStartMethod(): StartMethod;
}

/** The same value on every read, made on the first (the class it extends loads then). */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

function makeContext(method: StartMethod): Context {
  // A subclass whose start method is pinned; `new ctx.Process(...)` reads it at construction.
  const boundProcess = once(() => {
    class BoundProcess<A extends unknown[] = unknown[]> extends api.Process<A> {
      protected static override startMethod: StartMethod | undefined = method;
    }
    Object.defineProperty(BoundProcess, "name", { value: "Process" });
    return BoundProcess;
  });
  const boundPool = once(() => {
    class BoundPool extends api.Pool {
      protected static override startMethod: StartMethod | undefined = method;
    }
    Object.defineProperty(BoundPool, "name", { value: "Pool" });
    return BoundPool;
  });
  return Object.freeze({
    startMethod: method,
    get Process() {
      return boundProcess();
    },
    get Pool() {
      return boundPool();
    },
    SharedMemory: api.SharedMemory,
    Pipe: api.Pipe,
    Queue: api.Queue,
    SimpleQueue: api.SimpleQueue,
    JoinableQueue: api.JoinableQueue,
    LifoQueue: api.LifoQueue,
    PriorityQueue: api.PriorityQueue,
    Lock: api.Lock,
    RLock: api.RLock,
    Semaphore: api.Semaphore,
    BoundedSemaphore: api.BoundedSemaphore,
    Event: api.Event,
    Condition: api.Condition,
    Barrier: api.Barrier,
    Value: api.Value,
    RawValue: api.RawValue,
    SharedArray: api.SharedArray,
    RawArray: api.RawArray,
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
