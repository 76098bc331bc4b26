// How a task's error reaches the caller. Like CPython's Pool, the caller gets the error the task
// threw (revived: same name, message, code and own fields; built-in classes keep their class), and
// its `cause` is a RemoteError whose stack is the worker's stack (CPython: RemoteTraceback).
import { inspect } from "node:util";
import { RemoteError } from "../errors.js";
import type { WorkerIdentity } from "./stats.js";

function where(w: WorkerIdentity): string {
  return `${w.name} (pid ${w.pid}${w.threadId !== 0 ? `, thread ${w.threadId}` : ""})`;
}

/** What taskError replaced on an error, so that a relay (a cluster's worker node) can send the original on. */
const originals = new WeakMap<Error, { stack: string | undefined; cause: unknown; hadCause: boolean }>();

export function taskError(remote: unknown, worker: WorkerIdentity): unknown {
  if (!(remote instanceof Error)) {
    return new RemoteError(`a task in ${where(worker)} threw a non-Error value: ${inspect(remote)}`, { cause: remote });
  }
  originals.set(remote, { stack: remote.stack, cause: remote.cause, hadCause: "cause" in remote });
  const remoteStack = remote.stack ?? `${remote.name}: ${remote.message}`;
  const trace = new RemoteError(`raised in ${where(worker)}`, "cause" in remote ? { cause: remote.cause } : undefined);
  Object.defineProperty(trace, "stack", {
    value: `RemoteError: raised in ${where(worker)}; the remote stack:\n${remoteStack}`,
    configurable: true,
    writable: true,
  });
  Object.defineProperty(remote, "cause", { value: trace, configurable: true, writable: true, enumerable: false });
  Object.defineProperty(remote, "stack", {
    value: `${remote.name}: ${remote.message}\n    at a pool task in ${where(worker)} (the remote stack is in .cause)`,
    configurable: true,
    writable: true,
  });
  return remote;
}

/** Undoes taskError on an error about to be relayed further: its own stack and cause come back. */
export function untaskError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const original = originals.get(err);
  if (original === undefined) return err;
  originals.delete(err);
  Object.defineProperty(err, "stack", { value: original.stack, configurable: true, writable: true });
  if (original.hadCause) Object.defineProperty(err, "cause", { value: original.cause, configurable: true, writable: true, enumerable: false });
  else delete (err as { cause?: unknown }).cause;
  return err;
}
