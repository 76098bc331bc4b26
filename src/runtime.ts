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

let identity: Identity = {
  name: "MainProcess",
  ident: [],
  daemon: false,
  authkey: randomBytes(32),
  parent: null,
  kind: "main",
};
let bootstrapping = false;
let childCounter = 0;

export function setIdentity(next: Identity): void {
  identity = next;
}

export function getIdentity(): Identity {
  return identity;
}

export function setBootstrapping(value: boolean): void {
  bootstrapping = value;
}

/** The next child's name and identity, like CPython ("Process-1", "Process-1:2", ...). */
export function nextChildIdentity(prefix = "Process"): { name: string; ident: number[] } {
  childCounter += 1;
  const ident = [...identity.ident, childCounter];
  return { name: `${prefix}-${ident.join(":")}`, ident };
}

/**
 * Refuses to start processes while this child is still importing its target's module: an
 * unguarded main module would otherwise start children of its own, which would do the same.
 */
export function checkNotBootstrapping(): void {
  if (!bootstrapping) return;
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
  return identity.kind === "main" && isMainThread;
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
    name: identity.name,
    pid: process.pid,
    threadId,
    daemon: identity.daemon,
    ident: identity.ident,
    authkey: identity.authkey,
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
  const parent = identity.parent;
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
