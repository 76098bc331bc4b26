// CPython's manager protocol (Lib/multiprocessing/managers.py), after the connection handshake.
// Every frame is one pickle (reader.ts/writer.ts). Connections come in two kinds:
//
//   request connection (one per create/incref/decref/dummy/...; the client closes it after)
//     client -> server  (None, funcname, args, kwds)     funcname in SERVER_FUNCS
//     server -> client  ('#RETURN', result) | ('#TRACEBACK', text)
//
//   call connection (per proxy and thread: a request connection whose funcname was
//   'accept_connection'; from then on it carries method calls, one at a time)
//     client -> server  (ident, methodname, args, kwds)
//     server -> client  ('#RETURN', value)               the method's result
//                     | ('#PROXY', (exposed, Token))     methodToTypeid: a new object, refcount 1
//                     | ('#ERROR', exception)            the method raised
//                     | ('#TRACEBACK', text)             anything else went wrong
//                     | ('#UNSERIALIZABLE', text)        the result could not be pickled
//
// create answers ('#RETURN', (ident, exposed)) and takes the object's first reference; CPython's
// client then increfs for its proxy and decrefs for the create (net: one reference per proxy).
import { ErrorCodes, ProcessError, RemoteError, Empty, Full, TimeoutError, BrokenBarrierError } from "../../errors.js";
import { pickle } from "./writer.js";
import { PyException, PyTuple } from "./values.js";
import { PythonRaise, type Kwds } from "./python-methods.js";

/** The request connection's functions (CPython's Server.public). */
export const SERVER_FUNCS = new Set(["shutdown", "create", "accept_connection", "get_methods", "debug_info", "number_of_objects", "dummy", "incref", "decref"]);

export const Reply = {
  RETURN: "#RETURN",
  ERROR: "#ERROR",
  TRACEBACK: "#TRACEBACK",
  PROXY: "#PROXY",
  UNSERIALIZABLE: "#UNSERIALIZABLE",
} as const;

export type ReplyKind = (typeof Reply)[keyof typeof Reply];
const REPLY_KINDS = new Set<string>(Object.values(Reply));

/** A request or call as it arrived: (ident, method, args, kwds). */
export interface PyRequest {
  ident: unknown;
  method: string;
  args: unknown[];
  kwds: Kwds;
}

function isKwds(v: unknown): v is Kwds {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Set) && !Buffer.isBuffer(v);
}

/** The request's shape, or undefined when it is not (ident, str, tuple, dict). */
export function parseRequest(v: unknown): PyRequest | undefined {
  if (!Array.isArray(v) || v.length !== 4) return undefined;
  const [ident, method, args, kwds] = v as unknown[];
  if (typeof method !== "string" || !Array.isArray(args)) return undefined;
  if (kwds instanceof Map && kwds.size === 0) return { ident, method, args, kwds: {} };
  if (!isKwds(kwds)) return undefined;
  return { ident, method, args, kwds };
}

export function encodeRequest(ident: unknown, method: string, args: readonly unknown[], kwds: Kwds = {}): Buffer {
  return pickle(new PyTuple([ident, method, new PyTuple(args), kwds]), `(ident, '${method}', args, kwds)`);
}

export function encodeReply(kind: ReplyKind, value: unknown): Buffer {
  return pickle(new PyTuple([kind, value]), `('${kind}', value)`);
}

/** A reply's (kind, value), or undefined when it is not one. */
export function parseReply(v: unknown): { kind: ReplyKind; value: unknown } | undefined {
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== "string" || !REPLY_KINDS.has(v[0])) return undefined;
  return { kind: v[0] as ReplyKind, value: v[1] };
}

// ---- errors, both ways ----

const BY_CODE: Partial<Record<string, () => PyException>> = {
  [ErrorCodes.EMPTY]: () => new PyException("_queue", "Empty", []),
  [ErrorCodes.FULL]: () => new PyException("queue", "Full", []),
  [ErrorCodes.TIMEOUT]: () => new PyException("builtins", "TimeoutError", []),
  [ErrorCodes.BROKEN_BARRIER]: () => new PyException("threading", "BrokenBarrierError", []),
};
const BY_NAME = new Set(["KeyError", "ValueError", "IndexError", "AttributeError", "TypeError"]);

/** The exception a CPython client should see for `err` (`#ERROR`), or undefined for `#TRACEBACK`. */
export function pythonException(err: unknown): PyException | undefined {
  if (err instanceof PythonRaise) return err.exception;
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  const byCode = typeof code === "string" ? BY_CODE[code] : undefined;
  if (byCode !== undefined) return byCode();
  if (BY_NAME.has(err.name)) return new PyException("builtins", err.name, [err.message]);
  return undefined;
}

/** CPython's format_exc() stands in a `#TRACEBACK`; ours names the JS error and its stack. */
export function tracebackText(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  return `Traceback (a multiproc manager server, Node.js):\n${e.stack ?? `${e.name}: ${e.message}`}${typeof code === "string" ? `\n(code ${code})` : ""}\n`;
}

const EXPECTED: Record<string, (m: string, o: { cause: unknown }) => Error> = {
  Empty: (m, o) => new Empty(m || "the queue is empty", o),
  Full: (m, o) => new Full(m || "the queue is full", o),
  TimeoutError: (m, o) => new TimeoutError(m || "timed out", o),
  BrokenBarrierError: (m, o) => new BrokenBarrierError(m || "the barrier is broken", o),
};

/** A CPython server's error reply as the error our caller gets (Empty/Full keep their class). */
export function errorFromReply(kind: ReplyKind, value: unknown): Error {
  if (kind === Reply.ERROR && value instanceof PyException) {
    const expected = EXPECTED[value.name];
    if (expected !== undefined) return expected(value.message, { cause: value });
    return new RemoteError(`${value.name}: ${value.message}`, { cause: value });
  }
  if (typeof value === "string") return new RemoteError(`the CPython manager answered ${kind}:\n${value}`);
  return new ProcessError(`the CPython manager answered ${kind} with something that is not an error`, { code: ErrorCodes.PROTOCOL });
}
