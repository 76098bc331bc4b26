// Maps start-method names to backends and holds the program-wide default (setStartMethod). A
// backend's files load when it first starts a child (lazy.ts): the package root imports this.
import { ArgumentError, ErrorCodes, StateError } from "../errors.js";
import { lazyModule } from "../lazy.js";
import type { Backend, StartMethod } from "./backend.js";

const processModule = lazyModule<typeof import("./child-process.js")>(new URL("./child-process.js", import.meta.url));
const threadModule = lazyModule<typeof import("./thread.js")>(new URL("./thread.js", import.meta.url));
const backends: Record<StartMethod, () => Backend> = {
  process: () => processModule().processBackend,
  thread: () => threadModule().threadBackend,
};
let chosen: StartMethod | undefined;

export function checkStartMethod(kind: unknown): StartMethod {
  if (kind === "process" || kind === "thread") return kind;
  throw new ArgumentError(`unknown context '${String(kind)}'; expected one of: process, thread`, ErrorCodes.UNKNOWN_CONTEXT);
}

export function backendFor(kind: StartMethod): Backend {
  return backends[kind]();
}

export function defaultStartMethod(): StartMethod {
  return chosen ?? "process";
}

/**
 * Sets the default start method for this program (Python's set_start_method); `{ force: true }` changes one already set.
 *
 * @example
 * ```ts
 * import { setStartMethod, Process } from "multiproc";
 * setStartMethod("thread"); // every Process, Pool, Queue... made after this uses worker threads
 * const p = new Process({ target: () => console.log("in a thread") });
 * ```
 */
export function setStartMethod(kind: StartMethod, options: { force?: boolean } = {}): void {
  const method = checkStartMethod(kind);
  if (chosen !== undefined && !options.force && chosen !== method) {
    throw new StateError(`the start method is already set to '${chosen}'; pass { force: true } to change it`, {
      code: ErrorCodes.CONTEXT_ALREADY_SET,
    });
  }
  chosen = method;
}

/**
 * The default start method in force (Python's get_start_method).
 *
 * @example
 * ```ts
 * import { getStartMethod } from "multiproc";
 * console.log(getStartMethod()); // "process"
 * ```
 */
export function getStartMethod(): StartMethod {
  return defaultStartMethod();
}

/**
 * Every start method this platform offers (Python's get_all_start_methods).
 *
 * @example
 * ```ts
 * import { getAllStartMethods } from "multiproc";
 * console.log(getAllStartMethods()); // [ "process", "thread" ]
 * ```
 */
export function getAllStartMethods(): StartMethod[] {
  return ["process", "thread"];
}
