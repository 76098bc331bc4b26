// Who is calling: the server sets this around every method call it dispatches, so that
// server-side objects can tell callers apart (a Lock's holder, an RLock's owner) and give up a
// wait when the caller's connection goes away. Read it synchronously at method entry (before any
// await): it is only valid during the synchronous part of the call.
export interface CallContext {
  /** The caller's connection (0 for code running in the server process itself). */
  readonly conn: number;
  /** Aborts when the caller's connection closes: blocking waits must end then. */
  readonly signal: AbortSignal;
}

const LOCAL: CallContext = { conn: 0, signal: new AbortController().signal };
let current: CallContext | undefined;

export function runAs<T>(ctx: CallContext, fn: () => T): T {
  const previous = current;
  current = ctx;
  try {
    return fn();
  } finally {
    current = previous;
  }
}

export function caller(): CallContext {
  return current ?? LOCAL;
}

/** Implemented by objects that hold something per caller (locks): called when a connection closes. */
export const kCallerGone = Symbol("multiproc.managers.callerGone");

export interface CallerAware {
  [kCallerGone](conn: number): void;
}

/** Implemented by objects with something to clean up when their server stops (segments). */
export const kServerStopped = Symbol("multiproc.managers.serverStopped");

export interface ServerStopAware {
  [kServerStopped](): void;
}

/** Implemented by objects with something to give back when no reference to them is left (tables). */
export const kFreed = Symbol("multiproc.managers.freed");

export interface FreeAware {
  [kFreed](): void;
}
