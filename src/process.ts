// Process: run a target in another process or thread, with CPython's lifecycle and exit codes.
import type { Backend, ChildHandle, LaunchOptions, StartMethod } from "./backends/backend.js";
import { ArgumentError, ErrorCodes, StateError } from "./errors.js";
import { checkNotBootstrapping, getIdentity, nextChildIdentity } from "./runtime.js";
import { checkTarget, resolveTarget } from "./target.js";
import { platformError } from "./native/platform.js";
import { checkOptions, checkTimeout, describe } from "./validate.js";
import { collectAbandons } from "./transport/handles.js";
import { backendFor, defaultStartMethod } from "./backends/registry.js";

/**
 * A function that can run in a child: its arguments are `A`, its result is ignored.
 *
 * @example
 * ```ts
 * import { Process, type Target } from "multiproc";
 * export const report: Target<[string]> = (msg) => console.log(msg);
 * new Process({ target: report, args: ["done"] }).start();
 * ```
 */
export type Target<A extends unknown[]> = (...args: A) => unknown;

/**
 * What `new Process({...})` takes: the target, its arguments, a name and whether it is a daemon.
 *
 * @example
 * ```ts
 * import { Process, type ProcessOptions } from "multiproc";
 * export function work(n: number) { console.log(n * 2); }
 * const options: ProcessOptions<[number]> = { target: work, args: [21], name: "doubler", daemon: true };
 * new Process(options).start();
 * ```
 */
export interface ProcessOptions<A extends unknown[]> {
  target: Target<A>;
  /** Arguments; multiproc objects (queues, locks, segments, ...) in here work in the child. */
  args?: A;
  name?: string;
  /** A daemon child is killed when its parent exits; the parent does not wait for it. */
  daemon?: boolean;
}

const live = new Set<Process<unknown[]>>();

/**
 * Internal: the child's exit code once it ends, without keeping the event loop alive (join() does,
 * for whoever awaits it). Pools and managers watch their daemon children through this, so a
 * program that leaves them open still ends (issue #14).
 */
export const kExited = Symbol("multiproc.process.exited");

/**
 * Runs `lookUp` once the synchronous code that launched a child is done: locating a target the
 * first time takes node:inspector ~20-30 ms, which then overlaps the child's own start-up instead
 * of delaying its launch (issue #15.3).
 */
function afterLaunch<T>(lookUp: () => Promise<T>): Promise<T> {
  return Promise.resolve().then(lookUp);
}

/**
 * A function run in another process or thread (Python's `multiprocessing.Process`). Its arguments may hold any multiproc object (queues, locks, shared memory, proxies).
 *
 * @example
 * ```ts
 * import { isMainProcess, Process } from "multiproc";
 *
 * export function greet(name: string) {
 *   console.log(`hello ${name} from pid ${process.pid}`);
 * }
 *
 * if (isMainProcess()) {
 *   const p = new Process({ target: greet, args: ["bob"] });
 *   p.start();
 *   await p.join();
 *   console.log(p.exitCode); // 0
 * }
 * ```
 */
export class Process<A extends unknown[] = unknown[]> {
  /** The start method; subclasses made by a context pin it. */
  protected static startMethod: StartMethod | undefined = undefined;

  name: string;
  #daemon: boolean;
  readonly #target: Target<A>;
  readonly #args: A;
  #child: ChildHandle | undefined;
  #exitCode: number | null = null;
  #closed = false;
  #method: StartMethod | undefined;
  readonly #ident: number[];

  constructor(options: ProcessOptions<A>) {
    const opts = checkOptions(options) as Partial<ProcessOptions<A>>;
    checkTarget(opts.target, "target");
    this.#target = opts.target as Target<A>;
    const args = opts.args ?? ([] as unknown as A);
    if (!Array.isArray(args)) {
      throw new ArgumentError(`args must be an array, got ${describe(args)}`, ErrorCodes.INVALID_ARG_TYPE);
    }
    this.#args = args;
    if (opts.name !== undefined && typeof opts.name !== "string") {
      throw new ArgumentError(`name must be a string, got ${describe(opts.name)}`, ErrorCodes.INVALID_ARG_TYPE);
    }
    // Named at creation, as CPython does ("Process-N"); the counter is the child's identity.
    const { name, ident } = nextChildIdentity();
    this.#ident = ident;
    this.name = opts.name ?? name;
    this.#daemon = opts.daemon ?? getIdentity().daemon;
    this.#method = (new.target).startMethod;
  }

  /** @internal Settles with the exit code once the child ends (undefined before start). */
  [kExited](): Promise<number> | undefined {
    return this.#child?.exited;
  }

  #checkClosed(): void {
    if (this.#closed) throw new StateError("process object is closed", { code: ErrorCodes.CLOSED });
  }

  /** Whether the child is killed when this process exits (set before start()). */
  get daemon(): boolean {
    return this.#daemon;
  }

  set daemon(value: boolean) {
    if (this.#child !== undefined) {
      throw new StateError("cannot set daemon on a process that has started", { code: ErrorCodes.ALREADY_STARTED });
    }
    this.#daemon = Boolean(value);
  }

  /** The child's pid once started (the parent's own pid for a thread child), else null. */
  get pid(): number | null {
    this.#checkClosed();
    return this.#child?.pid ?? null;
  }

  /** Worker thread id for thread children; 0 for process children; null before start. */
  get threadId(): number | null {
    return this.#child?.threadId ?? null;
  }

  /** null while running (or not started), 0 ok, 1 uncaught error, N from exit(N), -signal if killed. */
  get exitCode(): number | null {
    this.#checkClosed();
    return this.#exitCode;
  }

  /** The start method this process runs (or will run) under. */
  get startMethod(): StartMethod {
    return this.#method ?? defaultStartMethod();
  }

  /** Starts the child; throws ERR_ALREADY_STARTED the second time. */
  start(): void {
    this.#checkClosed();
    if (this.#child !== undefined) {
      throw new StateError("cannot start a process twice", { code: ErrorCodes.ALREADY_STARTED });
    }
    checkNotBootstrapping();
    const me = getIdentity();
    if (me.daemon) {
      throw new StateError("daemonic processes are not allowed to have children", { code: ErrorCodes.ALREADY_STARTED });
    }
    const ident = this.#ident;
    const backend: Backend = backendFor(this.startMethod);
    // Off Linux only threads can start for now (issue #22); the check sits in native/platform.ts.
    if (backend.method !== "thread") {
      const unsupported = platformError("Process.start()");
      if (unsupported !== undefined) throw unsupported;
    }
    // Objects in args may reserve holder slots that the child claims; if it dies first, give them up.
    const [child, abandon] = collectAbandons(() => backend.start({
      args: this.#args,
      identity: {
        name: this.name,
        ident,
        daemon: this.#daemon,
        authkey: me.authkey,
        parent: { name: me.name, pid: process.pid },
        kind: backend.method,
      },
    }, afterLaunch(() => resolveTarget(this.#target)), this.launchOptions()));
    this.#child = child;
    live.add(this as unknown as Process);
    if (this.#daemon) child.setRef(false);
    void child.exited.then((code) => {
      abandon();
      this.#exitCode = code;
      live.delete(this as unknown as Process);
    });
  }

  /** @internal How the backend starts the child beyond its payload (a pool worker's heap limits). */
  protected launchOptions(): LaunchOptions | undefined {
    return undefined;
  }

  /** Whether the child has started and not yet exited. */
  isAlive(): boolean {
    this.#checkClosed();
    return this.#child !== undefined && this.#exitCode === null;
  }

  /**
   * Waits for the child to end. With a timeout, resolves after at most that many milliseconds
   * whether or not it ended (check exitCode), as in Python.
   */
  async join(options: { timeout?: number } = {}): Promise<void> {
    this.#checkClosed();
    const timeout = checkTimeout(checkOptions(options).timeout);
    const child = this.#child;
    if (child === undefined) throw new StateError("can only join a started process", { code: ErrorCodes.NOT_STARTED });
    if (this.#exitCode !== null) return;
    if (timeout === undefined) {
      // A daemon's handle does not keep the event loop alive, so whoever waits for it must (else
      // Node would end a main module awaiting join() with "unsettled top-level await").
      const keepAlive = this.#daemon ? setInterval(() => undefined, 1 << 30) : undefined;
      try {
        await child.exited;
      } finally {
        clearInterval(keepAlive);
      }
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([child.exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout)))]);
    clearTimeout(timer);
  }

  /** SIGTERM (exit code -15). */
  terminate(): void {
    this.#checkClosed();
    if (this.#exitCode === null) this.#child?.terminate();
  }

  /** SIGKILL (exit code -9). */
  kill(): void {
    this.#checkClosed();
    if (this.#exitCode === null) this.#child?.kill();
  }

  /** Releases the object; throws if the child is still running. */
  close(): void {
    if (this.#closed) return;
    if (this.#child !== undefined && this.#exitCode === null) {
      throw new StateError("cannot close a process while it is still running; join or terminate it first", {
        code: ErrorCodes.INVALID_ARG_VALUE,
      });
    }
    this.#closed = true;
  }

  /** `<Process name=... pid=... state>`, as Python's repr. */
  toString(): string {
    const state = this.#closed ? "closed" : this.#child === undefined ? "initial" : this.#exitCode === null ? "started" : `stopped exitcode=${this.#exitCode}`;
    return `<Process name='${this.name}' ${state}${this.#daemon ? " daemon" : ""}>`;
  }
}

/**
 * The children of this process that are still running.
 *
 * @example
 * ```ts
 * import { activeChildren, Process } from "multiproc";
 * new Process({ target: () => new Promise((r) => setTimeout(r, 100)) }).start();
 * console.log(activeChildren().length); // 1
 * ```
 */
export function activeChildren(): Process<unknown[]>[] {
  return [...live];
}

/** Waits for every non-daemon child; used before a child exits, as CPython does. */
export async function joinChildren(): Promise<void> {
  while (true) {
    const waiting = [...live].filter((p) => !p.daemon);
    if (waiting.length === 0) return;
    await Promise.all(waiting.map((p) => p.join()));
  }
}

// Daemon children die with their parent: on a normal exit here, and by PR_SET_PDEATHSIG on a crash.
process.on("exit", () => {
  for (const p of live) {
    if (p.daemon) {
      try {
        p.terminate();
      } catch {
        // Already gone.
      }
    }
  }
});
