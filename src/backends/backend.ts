// The one small interface every start method implements. Process (and later Pool) talk only to
// this; each backend supplies its own launcher (child-process.ts, thread.ts) and its own child-side
// bootstrap (entry/process.ts, entry/thread.ts).
import type { Identity } from "../runtime.js";
import type { TargetDescriptor } from "../target.js";

/**
 * How children start: "process" (a fresh Node process, Python's spawn) or "thread" (a worker thread).
 *
 * @example
 * ```ts
 * import { getContext, type StartMethod } from "multiproc";
 * const kind: StartMethod = process.env.USE_THREADS ? "thread" : "process";
 * const ctx = getContext(kind);
 * ```
 */
export type StartMethod = "process" | "thread";

/**
 * What a child tells its parent (spares.ts decides when to launch spares from these): "ready" once
 * it has booted and waits for its payload, "running" just before it calls its target.
 */
export interface ChildMessage {
  kind: "ready" | "running";
}

/** Who the child is and what it gets; serialised at start() so bad arguments fail there. */
export interface ChildInit {
  args: unknown[];
  identity: Identity;
}

/** Everything a child needs to become who it is and run its target. */
export interface StartPayload extends ChildInit {
  target: TargetDescriptor;
}

export interface ChildHandle {
  /** OS pid of the child (the parent's own pid for a thread child). */
  readonly pid: number;
  /** Worker thread id for thread children, 0 for processes. */
  readonly threadId: number;
  /** Settles with the Python-style exit code once the child is gone. */
  readonly exited: Promise<number>;
  /** SIGTERM; for a thread, stop it and report -15. */
  terminate(): void;
  /** SIGKILL; for a thread, stop it and report -9. */
  kill(): void;
  /** Whether the child keeps this process alive (false for daemons). */
  setRef(ref: boolean): void;
}

/** A child's own V8 heap limits, named as worker_threads' resourceLimits (MiB). */
export interface HeapLimits {
  maxOldGenerationSizeMb?: number;
  maxYoungGenerationSizeMb?: number;
  codeRangeSizeMb?: number;
  stackSizeMb?: number;
}

/** How a child is started beyond its payload: a pool worker's own heap limits (issue 16). */
export interface LaunchOptions {
  resourceLimits?: HeapLimits | undefined;
}

export interface Backend {
  readonly method: StartMethod;
  /**
   * Starts a child now. `init` is serialised synchronously (an unsendable argument throws here,
   * before anything starts); the target follows when resolved (see target.ts).
   */
  start(init: ChildInit, target: Promise<TargetDescriptor>, launch?: LaunchOptions): ChildHandle;
}
