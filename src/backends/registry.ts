// Maps start-method names to backends and holds the program-wide default (setStartMethod).
import { ArgumentError, ErrorCodes, StateError } from "../errors.js";
import type { Backend, StartMethod } from "./backend.js";
import { processBackend } from "./child-process.js";
import { threadBackend } from "./thread.js";

const backends: Record<StartMethod, Backend> = { process: processBackend, thread: threadBackend };
let chosen: StartMethod | undefined;

export function checkStartMethod(kind: unknown): StartMethod {
  if (kind === "process" || kind === "thread") return kind;
  throw new ArgumentError(`unknown context '${String(kind)}'; expected one of: process, thread`, ErrorCodes.UNKNOWN_CONTEXT);
}

export function backendFor(kind: StartMethod): Backend {
  return backends[kind];
}

export function defaultStartMethod(): StartMethod {
  return chosen ?? "process";
}

export function setStartMethod(kind: StartMethod, options: { force?: boolean } = {}): void {
  const method = checkStartMethod(kind);
  if (chosen !== undefined && !options.force && chosen !== method) {
    throw new StateError(`the start method is already set to '${chosen}'; pass { force: true } to change it`, {
      code: ErrorCodes.CONTEXT_ALREADY_SET,
    });
  }
  chosen = method;
}

export function getStartMethod(): StartMethod {
  return defaultStartMethod();
}

export function getAllStartMethods(): StartMethod[] {
  return ["process", "thread"];
}
