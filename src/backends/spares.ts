// Warm spares: children launched ahead of time that wait for their payload, so that start() does
// not pay for Node's own start-up (~40-80 ms here, more than CPython's whole spawn). This is our
// forkserver: Node cannot fork a running runtime, but it can keep a fresh one waiting.
//
// The pool is refilled to MULTIPROC_SPARE_PROCESSES spares per start method (default min(2, cpu
// count); 0 turns spares off) once every child started so far is running its target. Not sooner:
// spares booting beside a child that is still starting share the cores with it, and made a
// program's first child take 400-510 ms instead of 250-280 (issue #15.3). Nothing is launched
// before the first start, so a program that starts one child never pays for spares it cannot use.
// Two rather than one because a single spare boots while the child that replaced it runs, so
// back-to-back starts wait for it; two boot side by side. A spare is unref'd: it never
// keeps its parent alive, and it dies with its parent like every child. The environment and the
// working directory it was launched with may be stale by the time it is used: the start message
// carries the parent's current ones and the child applies them before it imports anything.
import { availableParallelism } from "node:os";
import { isDeepStrictEqual } from "node:util";
import type { ChildMessage } from "./backend.js";

export interface Spare {
  /** True while the launched child can still take a payload. */
  usable(): boolean;
  /** Stops the child (it was never used). */
  discard(): void;
  /** How far the child got (follow()). */
  progress: Progress;
}

/** A launched child's start-up as its messages tell it. */
export interface Progress {
  /** Whether it has booted (said "ready"). */
  booted(): boolean;
  /** Settles once it runs its target (said "running") or is gone. */
  running: Promise<void>;
}

/** Follows the ChildMessages of a child (a ChildProcess or a Worker) from its launch. */
export function follow(child: { on(event: "message", listener: (m: unknown) => void): unknown }, exited: Promise<number>): Progress {
  let booted = false;
  const running = new Promise<void>((resolve) => {
    child.on("message", (m: unknown) => {
      const kind = (m as Partial<ChildMessage> | null)?.kind;
      if (kind === "ready") booted = true;
      else if (kind === "running") resolve();
    });
    void exited.then(() => resolve());
  });
  return { booted: () => booted, running };
}

const DEFAULT_SPARES = Math.min(2, availableParallelism());

function spareCount(): number {
  const n = Number(process.env.MULTIPROC_SPARE_PROCESSES ?? DEFAULT_SPARES);
  return Number.isInteger(n) && n >= 0 ? Math.min(n, 16) : DEFAULT_SPARES;
}

export class SparePool<S extends Spare> {
  readonly #spares: S[] = [];
  #scheduled = false;
  #closed = false;
  /** Children started and not yet running their target (nor gone). */
  #booting = 0;

  constructor(private readonly launch: () => S) {
    process.once("exit", () => {
      this.#closed = true;
      for (const s of this.#spares.splice(0)) s.discard();
    });
  }

  /** A ready (or still booting) spare, or undefined. */
  take(): S | undefined {
    let spare: S | undefined;
    while (this.#spares.length > 0 && spare === undefined) {
      const next = this.#spares.shift()!;
      if (next.usable()) spare = next;
      else next.discard();
    }
    return spare;
  }

  /**
   * Tells the pool `child` was given a payload. The pool refills when no started child is still
   * starting: a spare that had booted is not; any other child is until it runs its target.
   */
  started(child: Spare): void {
    if (child.progress.booted()) {
      this.#schedule();
      return;
    }
    this.#booting++;
    void child.progress.running.then(() => {
      if (--this.#booting === 0) this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#closed || this.#booting > 0 || spareCount() === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#booting > 0) return; // another start came first: wait for it to run
      while (!this.#closed && this.#spares.length < spareCount()) this.#spares.push(this.launch());
    }).unref();
  }
}

/** What a child must change in its environment to match the parent's now (undefined: nothing). */
export function envChanges(launchedWith: NodeJS.ProcessEnv, ignore: readonly string[]): Record<string, string | null> | undefined {
  const now = process.env;
  if (isDeepStrictEqual(stripped(launchedWith, ignore), stripped(now, ignore))) return undefined;
  const changes: Record<string, string | null> = {};
  for (const key of Object.keys(launchedWith)) if (!ignore.includes(key) && !(key in now)) changes[key] = null;
  for (const [key, value] of Object.entries(now)) {
    if (!ignore.includes(key) && value !== undefined && launchedWith[key] !== value) changes[key] = value;
  }
  return changes;
}

function stripped(env: NodeJS.ProcessEnv, ignore: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  for (const key of ignore) delete out[key];
  return out;
}

/** Applies envChanges() in the child. */
export function applyEnvChanges(changes: Record<string, string | null> | undefined): void {
  if (changes === undefined) return;
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete process.env[key];
    else process.env[key] = value;
  }
}
