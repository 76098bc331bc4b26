// AbortSignal helpers. Rules borrowed from piscina's abort handling: an already-aborted signal
// rejects at once; reject first, then tear down; always detach listeners.
import { ErrorCodes, ProcessError } from "./errors.js";

/**
 * Rejection for an operation stopped by its AbortSignal; the signal's reason is the cause.
 *
 * @example
 * ```ts
 * import { AbortError, Queue } from "multiproc";
 * const q = new Queue<number>();
 * try {
 *   await q.get({ signal: AbortSignal.timeout(10) });
 * } catch (err) {
 *   if (err instanceof AbortError) console.log("gave up waiting");
 * }
 * ```
 */
export class AbortError extends ProcessError {
  constructor(reason?: unknown) {
    super("the operation was aborted", { code: ErrorCodes.ABORTED, cause: reason });
    this.name = "AbortError";
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(signal.reason);
}

/** Runs `onAbort` once if the signal fires; returns the function that detaches it. */
export function onAbort(signal: AbortSignal | undefined, onAbort: (reason: unknown) => void): () => void {
  if (signal === undefined) return () => undefined;
  const listener = () => onAbort(signal.reason);
  signal.addEventListener("abort", listener, { once: true });
  return () => signal.removeEventListener("abort", listener);
}
