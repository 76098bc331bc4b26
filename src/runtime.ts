// Who this process (or thread) is: the state behind currentProcess(), parentProcess() and
// isMainProcess(), set by the child bootstrap before any user module is imported.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { isMainThread, threadId } from "node:worker_threads";
import { ErrorCodes, StateError } from "./errors.js";

export interface Identity {
  name: string;
  /** Python's _identity: the path of child counters from the main process ([] there). */
  ident: number[];
  daemon: boolean;
  /** Inherited by children; the default authkey of managers and listeners. */
  authkey: Buffer;
  parent: { name: string; pid: number } | null;
  kind: "main" | "process" | "thread";
}

interface RuntimeState {
  identity: Identity;
  bootstrapping: boolean;
  childCounter: number;
  /** Hooks a child runs after its target, before it exits (see atChildExit). */
  exitHooks: (() => Promise<void>)[];
}

// One state per thread, shared by every copy of the package loaded in it. A symlinked install
// loads the package twice in a child (its bootstrap by the real path, the user's module through
// the link; issue #22): a second copy with state of its own would think it runs in the main
// process, and the user's `if (isMainProcess())` block would start pools inside every worker.
const SLOT = Symbol.for("multiproc.runtime.v1");
const state: RuntimeState = ((globalThis as { [SLOT]?: RuntimeState })[SLOT] ??= {
  identity: {
    name: "MainProcess",
    ident: [],
    daemon: false,
    authkey: randomBytes(32),
    parent: null,
    kind: "main",
  },
  bootstrapping: false,
  childCounter: 0,
  exitHooks: [],
});

/**
 * Work a child finishes after its target and before it exits, as Python's synchronous calls never
 * leave any: a manager call nobody awaited is still sent and answered (issue #14).
 */
export function atChildExit(hook: () => Promise<void>): void {
  state.exitHooks.push(hook);
}

/** Runs the atChildExit hooks (each bounds its own wait). */
export async function runChildExitHooks(): Promise<void> {
  await Promise.all(state.exitHooks.map((hook) => hook().catch(() => undefined)));
}

export function setIdentity(next: Identity): void {
  state.identity = next;
}

export function getIdentity(): Identity {
  return state.identity;
}

export function setBootstrapping(value: boolean): void {
  state.bootstrapping = value;
}

/** The next child's name and identity, like CPython ("Process-1", "Process-1:2", ...). */
export function nextChildIdentity(prefix = "Process"): { name: string; ident: number[] } {
  state.childCounter += 1;
  const ident = [...state.identity.ident, state.childCounter];
  return { name: `${prefix}-${ident.join(":")}`, ident };
}

/**
 * Refuses to start processes while this child is still importing its target's module: an
 * unguarded main module would otherwise start children of its own, which would do the same.
 */
export function checkNotBootstrapping(): void {
  if (!state.bootstrapping) return;
  throw new StateError(
    "an attempt was made to start a new process or pool while this child was still importing the module " +
      "that defines its target. The main module probably starts processes at top level: guard that code with " +
      "`if (isMainProcess()) { ... }`, the twin of Python's `if __name__ == \"__main__\":`.",
    { code: ErrorCodes.BOOTSTRAP },
  );
}

/**
 * False in every process or thread started by multiproc, true in the program's main process.
 * The twin of Python's `if __name__ == "__main__":` guard.
 *
 * @example
 * ```ts
 * import { isMainProcess, Pool } from "multiproc";
 * export const square = (x: number) => x * x;
 * if (isMainProcess()) { // children import this module too: only the main process runs this part
 *   await using pool = new Pool(2);
 *   console.log(await pool.map(square, [1, 2, 3]));
 * }
 * ```
 */
export function isMainProcess(): boolean {
  return state.identity.kind === "main" && isMainThread;
}

/**
 * What currentProcess() and parentProcess() describe.
 *
 * @example
 * ```ts
 * import { currentProcess, type ProcessInfo } from "multiproc";
 * const me: ProcessInfo = currentProcess();
 * console.log(`${me.name} (${me.pid})`);
 * ```
 */
export interface ProcessInfo {
  readonly name: string;
  readonly pid: number;
  /** The worker thread's id for thread children, 0 in a process's main thread. */
  readonly threadId: number;
  readonly daemon: boolean;
  readonly ident: readonly number[];
  readonly authkey: Buffer;
}

/**
 * Describes the process (or thread) this code runs in.
 *
 * @example
 * ```ts
 * import { currentProcess } from "multiproc";
 * console.log(currentProcess().name, currentProcess().pid); // "MainProcess" 12345
 * ```
 */
export function currentProcess(): ProcessInfo {
  return {
    name: state.identity.name,
    pid: process.pid,
    threadId,
    daemon: state.identity.daemon,
    ident: state.identity.ident,
    authkey: state.identity.authkey,
  };
}

/**
 * What parentProcess() describes: the pid and name of the process that started this one.
 *
 * @example
 * ```ts
 * import { parentProcess, type ParentInfo } from "multiproc";
 * const parent: ParentInfo | null = parentProcess();
 * if (parent !== null) console.log(parent.pid);
 * ```
 */
export interface ParentInfo {
  readonly name: string;
  readonly pid: number;
  /** Whether the parent process is still running. */
  isAlive(): boolean;
}

/**
 * The parent of this process or thread; null in the main process.
 *
 * @example
 * ```ts
 * import { parentProcess } from "multiproc";
 * export function child() {
 *   console.log(parentProcess()?.pid); // the parent's pid (null in the main process)
 * }
 * ```
 */
export function parentProcess(): ParentInfo | null {
  const parent = state.identity.parent;
  if (parent === null) return null;
  return {
    name: parent.name,
    pid: parent.pid,
    isAlive: () => pidAlive(parent.pid),
  };
}

/** Whether `pid` runs (a zombie, dead but not yet reaped, does not). Linux /proc based. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state follows the command name, which is in parentheses and may contain spaces.
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}
