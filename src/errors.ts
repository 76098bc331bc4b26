// Every error a user can meet, in one table: a class per Python exception and a stable `code`.
// Tests and callers match on `code` (or the class), never on message text.

/**
 * Stable codes carried by every error this package throws.
 *
 * @example
 * ```ts
 * import { ErrorCodes, Queue } from "multiproc";
 * try {
 *   new Queue().getNowait();
 * } catch (err) {
 *   if ((err as { code?: string }).code === ErrorCodes.EMPTY) console.log("empty");
 * }
 * ```
 */
export const ErrorCodes = {
  PROCESS: "ERR_MULTIPROC",
  TIMEOUT: "ERR_TIMEOUT",
  AUTHENTICATION: "ERR_AUTHENTICATION",
  BUFFER_TOO_SHORT: "ERR_BUFFER_TOO_SHORT",
  REMOTE: "ERR_REMOTE",
  WORKER_LOST: "ERR_WORKER_LOST",
  BROKEN_BARRIER: "ERR_BROKEN_BARRIER",
  EMPTY: "ERR_QUEUE_EMPTY",
  FULL: "ERR_QUEUE_FULL",
  EOF: "ERR_EOF",
  OWNER_DIED: "ERR_OWNER_DIED",
  INVALID_ARG_TYPE: "ERR_INVALID_ARG_TYPE",
  INVALID_ARG_VALUE: "ERR_INVALID_ARG_VALUE",
  OUT_OF_RANGE: "ERR_OUT_OF_RANGE",
  UNSERIALIZABLE: "ERR_UNSERIALIZABLE",
  ALREADY_STARTED: "ERR_ALREADY_STARTED",
  NOT_STARTED: "ERR_NOT_STARTED",
  CLOSED: "ERR_CLOSED",
  BOOTSTRAP: "ERR_BOOTSTRAP",
  TARGET_NOT_FOUND: "ERR_TARGET_NOT_FOUND",
  TARGET_NOT_SELF_CONTAINED: "ERR_TARGET_NOT_SELF_CONTAINED",
  NATIVE_UNAVAILABLE: "ERR_NATIVE_UNAVAILABLE",
  /** The "process" context needs Linux for now (macOS, Windows: use the "thread" context). */
  PLATFORM_UNSUPPORTED: "ERR_PLATFORM_UNSUPPORTED",
  /** `require("multiproc")`: the package is ESM-only; `await import("multiproc")` loads it. */
  REQUIRE_ESM: "ERR_REQUIRE_ESM",
  UNKNOWN_CONTEXT: "ERR_UNKNOWN_CONTEXT",
  CONTEXT_ALREADY_SET: "ERR_CONTEXT_ALREADY_SET",
  ABORTED: "ERR_ABORTED",
  BROKEN_PIPE: "ERR_BROKEN_PIPE",
  // Shared memory (the native layer uses the ERR_SHM_ prefix for every errno it reports).
  SHM_EXISTS: "ERR_SHM_EXISTS",
  SHM_NOT_FOUND: "ERR_SHM_NOT_FOUND",
  /** /dev/shm is full (the message says how to make it larger). */
  SHM_NO_SPACE: "ERR_SHM_NO_SPACE",
  /** No more segments: /dev/shm's inodes or the file descriptor limit (the message says which). */
  SHM_NO_SEGMENTS: "ERR_SHM_NO_SEGMENTS",
  /** The process is at vm.max_map_count (checked before mapping, so V8 keeps room for its heap). */
  SHM_NO_MAPPINGS: "ERR_SHM_NO_MAPPINGS",
  SHM_INVALID_NAME: "ERR_SHM_INVALID_NAME",
  SHM_ITEM_TOO_LARGE: "ERR_SHM_ITEM_TOO_LARGE",
  SHM_BAD_LAYOUT: "ERR_SHM_BAD_LAYOUT",
  // Connections and managers (src/connection, src/managers).
  HANDSHAKE_TIMEOUT: "ERR_HANDSHAKE_TIMEOUT",
  LEGACY_AUTH_REFUSED: "ERR_LEGACY_AUTH_REFUSED",
  BAD_MESSAGE_LENGTH: "ERR_BAD_MESSAGE_LENGTH",
  PROTOCOL: "ERR_PROTOCOL",
  CONNECTION_FAILED: "ERR_CONNECTION_FAILED",
  /** A listener's (or manager server's) `address` read before it was bound to the port 0 asked for: await `ready` (or `listen()`) first. */
  NOT_LISTENING: "ERR_NOT_LISTENING",
  KEY_NOT_FOUND: "ERR_KEY_NOT_FOUND",
  VALUE_NOT_FOUND: "ERR_VALUE_NOT_FOUND",
  UNKNOWN_TYPEID: "ERR_UNKNOWN_TYPEID",
  UNKNOWN_METHOD: "ERR_UNKNOWN_METHOD",
  NOT_EXPOSED: "ERR_METHOD_NOT_EXPOSED",
  UNKNOWN_OBJECT: "ERR_UNKNOWN_OBJECT",
  /**
   * A pickle from a CPython peer holds something outside the value set multiproc reads (a global
   * other than the manager protocol's, an opcode such as PERSID): refused, never run.
   */
  PICKLE_REFUSED: "ERR_PICKLE_REFUSED",
  RELEASED: "ERR_PROXY_RELEASED",
  NOT_HELD: "ERR_NOT_HELD",
  TOO_MANY_HOLDERS: "ERR_TOO_MANY_HOLDERS",
  BUSY: "ERR_BUSY",
  NOT_READABLE: "ERR_NOT_READABLE",
  NOT_WRITABLE: "ERR_NOT_WRITABLE",
  MESSAGE_TOO_LONG: "ERR_MESSAGE_TOO_LONG",
  TASK_DONE_TOO_MANY: "ERR_TASK_DONE_TOO_MANY",
  NOT_READY: "ERR_NOT_READY",
  WORKER_START: "ERR_WORKER_START",
  POOL_TERMINATED: "ERR_POOL_TERMINATED",
  POOL_RUNNING: "ERR_POOL_RUNNING",
  /**
   * Bytes another process wrote (a message, a ring or pool frame, a shared header) do not parse:
   * the reader refuses them instead of guessing (docs/reliability.md, "Fuzzing").
   */
  CORRUPT: "ERR_CORRUPT",
  // Synchronisation and shared values (src/sync, src/shared/value.ts, shared-array.ts).
  /** A BoundedSemaphore released above its start value (or any semaphore above 2^31 - 1). */
  RELEASED_TOO_MANY: "ERR_RELEASED_TOO_MANY",
  /** A typecode Value/SharedArray do not know, or an operation its type does not support. */
  INVALID_TYPECODE: "ERR_INVALID_TYPECODE",
  /** getLock() on a Value or SharedArray made with { lock: false }. */
  NO_LOCK: "ERR_NO_LOCK",
  /** More simultaneous waiters on one Condition than it has slots for. */
  TOO_MANY_WAITERS: "ERR_TOO_MANY_WAITERS",
  // ClusterPool and worker nodes (src/cluster).
  /** Redis could not be reached (or did not answer) for longer than the pool's connectionTimeout. */
  REDIS_UNAVAILABLE: "ERR_REDIS_UNAVAILABLE",
  /** Redis refused a command (out of memory, a script error, ...). */
  REDIS: "ERR_REDIS",
  /** A task's arguments or result, encoded, exceed the pool's maxPayloadBytes. */
  PAYLOAD_TOO_LARGE: "ERR_PAYLOAD_TOO_LARGE",
  /** An optional package a feature needs (bullmq and ioredis for the cluster) is not installed. */
  MISSING_DEPENDENCY: "ERR_MISSING_DEPENDENCY",
} as const;

/**
 * The `code` of a multiproc error: one of {@link ErrorCodes}' values (docs/errors.md lists each).
 *
 * @example
 * ```ts
 * import type { ErrorCode } from "multiproc";
 * const retryable: ErrorCode[] = ["ERR_TIMEOUT", "ERR_WORKER_LOST"];
 * ```
 */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes] | `ERR_SHM_${string}` | `ERR_${string}`;

interface ErrorOptionsWithCode {
  code?: ErrorCode;
  cause?: unknown;
}

/**
 * Base of every multiproc error (Python's `multiprocessing.ProcessError`).
 *
 * @example
 * ```ts
 * import { ProcessError, Queue } from "multiproc";
 * try {
 *   new Queue().getNowait();
 * } catch (err) {
 *   if (err instanceof ProcessError) console.log(err.code); // "ERR_QUEUE_EMPTY"
 * }
 * ```
 */
export class ProcessError extends Error {
  readonly code: ErrorCode;
  constructor(message: string, options: ErrorOptionsWithCode = {}) {
    const code = options.code ?? ErrorCodes.PROCESS;
    super(withReference(message, code), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Every message ends by naming its entry in docs/errors.md (cause and fix of each code), added
 * here once rather than at each call site (issue #17). A message that already names an entry is
 * left as it is: an error rebuilt from one that travelled (a manager's reply, a child's failure)
 * or one that quotes its cause (a RemoteError quotes the remote error) keeps the more precise one.
 */
function withReference(message: string, code: string): string {
  return message.includes("(see docs/errors.md#") ? message : `${message} (see docs/errors.md#${code.toLowerCase()})`;
}

function defaultCode(code: ErrorCode) {
  return (options: ErrorOptionsWithCode = {}): ErrorOptionsWithCode => ({ ...options, code: options.code ?? code });
}

/**
 * A wait ran out of time (Python's `multiprocessing.TimeoutError`).
 *
 * @example
 * ```ts
 * import { Lock, TimeoutError } from "multiproc";
 * const lock = new Lock();
 * await lock.acquire();
 * const result = await new Promise((r) => setTimeout(r, 0)).then(() => lock.acquire({ timeout: 10 }));
 * console.log(result); // false: acquire() answers a timeout with false, AsyncResult.get() throws TimeoutError
 * void TimeoutError;
 * ```
 */
export class TimeoutError extends ProcessError {
  constructor(message = "timed out", options?: ErrorOptionsWithCode) {
    super(message, defaultCode(ErrorCodes.TIMEOUT)(options));
  }
}
/**
 * The peer failed the HMAC challenge, or we failed its.
 *
 * @example
 * ```ts
 * import { AuthenticationError, Client } from "multiproc";
 * try {
 *   await Client(["127.0.0.1", 6000], { authkey: "wrong key" });
 * } catch (err) {
 *   if (err instanceof AuthenticationError) console.log("the server refused our key");
 * }
 * ```
 */
export class AuthenticationError extends ProcessError {
  constructor(message = "authentication failed", options?: ErrorOptionsWithCode) {
    super(message, defaultCode(ErrorCodes.AUTHENTICATION)(options));
  }
}
/**
 * A message did not fit the buffer given to `recvBytesInto`; the message is in `.bytes`.
 *
 * @example
 * ```ts
 * import { BufferTooShort, Pipe } from "multiproc";
 * const [a, b] = Pipe();
 * b.sendBytes(new Uint8Array(100));
 * try {
 *   await a.recvBytesInto(new Uint8Array(10));
 * } catch (err) {
 *   if (err instanceof BufferTooShort) console.log(err.bytes.length); // 100: the whole message
 * }
 * ```
 */
export class BufferTooShort extends ProcessError {
  constructor(readonly bytes: Uint8Array, message = "buffer too short for the message") {
    super(message, { code: ErrorCodes.BUFFER_TOO_SHORT });
  }
}
/**
 * An error raised on the other side of a manager or pool; the remote error is in `cause`.
 *
 * @example
 * ```ts
 * import { Manager, RemoteError } from "multiproc";
 * await using manager = await Manager();
 * const l = await manager.list([1, 2]);
 * try {
 *   await l.remove(3); // not in the list: the server raised
 * } catch (err) {
 *   if (err instanceof RemoteError) console.log(err.cause); // the server's error
 * }
 * ```
 */
export class RemoteError extends ProcessError {
  constructor(message: string, options?: ErrorOptionsWithCode) {
    super(message, defaultCode(ErrorCodes.REMOTE)(options));
  }
}
/**
 * The process or thread running a task died before it answered.
 *
 * @example
 * ```ts
 * import { Pool, WorkerLostError } from "multiproc";
 * await using pool = new Pool(2);
 * try {
 *   await pool.apply(() => process.kill(process.pid, "SIGKILL"), []);
 * } catch (err) {
 *   if (err instanceof WorkerLostError) console.log("the worker died; the pool replaced it");
 * }
 * ```
 */
export class WorkerLostError extends ProcessError {
  constructor(message = "the worker running this task died", options?: ErrorOptionsWithCode) {
    super(message, defaultCode(ErrorCodes.WORKER_LOST)(options));
  }
}
/**
 * A Barrier was aborted, reset or timed out while this party waited.
 *
 * @example
 * ```ts
 * import { Barrier, BrokenBarrierError } from "multiproc";
 * const barrier = new Barrier(2);
 * setTimeout(() => barrier.abort(), 10);
 * try {
 *   await barrier.wait();
 * } catch (err) {
 *   if (err instanceof BrokenBarrierError) console.log("aborted while waiting");
 * }
 * ```
 */
export class BrokenBarrierError extends ProcessError {
  constructor(message = "the barrier is broken", options?: ErrorOptionsWithCode) {
    super(message, defaultCode(ErrorCodes.BROKEN_BARRIER)(options));
  }
}
/**
 * `getNowait` (or a timed `get`) on an empty queue.
 *
 * @example
 * ```ts
 * import { Empty, Queue } from "multiproc";
 * const q = new Queue<number>();
 * try {
 *   q.getNowait();
 * } catch (err) {
 *   if (err instanceof Empty) console.log("nothing yet");
 * }
 * ```
 */
export class Empty extends ProcessError {
  constructor(message = "the queue is empty", options?: ErrorOptionsWithCode) {
    super(message, defaultCode(ErrorCodes.EMPTY)(options));
  }
}
/**
 * `putNowait` (or a timed `put`) on a full queue.
 *
 * @example
 * ```ts
 * import { Full, Queue } from "multiproc";
 * const q = new Queue<number>({ maxsize: 1 });
 * q.putNowait(1);
 * try {
 *   q.putNowait(2);
 * } catch (err) {
 *   if (err instanceof Full) console.log("the queue holds 1 item at most");
 * }
 * ```
 */
export class Full extends ProcessError {
  constructor(message = "the queue is full", options?: ErrorOptionsWithCode) {
    super(message, defaultCode(ErrorCodes.FULL)(options));
  }
}
/**
 * The other end of a connection is closed and nothing is left to read.
 *
 * @example
 * ```ts
 * import { EOFError, Pipe } from "multiproc";
 * const [a, b] = Pipe();
 * b.close();
 * try {
 *   await a.recv();
 * } catch (err) {
 *   if (err instanceof EOFError) console.log("the other end closed");
 * }
 * ```
 */
export class EOFError extends ProcessError {
  constructor(message = "the other end is closed", options?: ErrorOptionsWithCode) {
    super(message, defaultCode(ErrorCodes.EOF)(options));
  }
}
/**
 * The previous holder of a lock died while holding it. The lock now belongs to the caller,
 * which should check the state the lock protects before going on.
 *
 * @example
 * ```ts
 * import { Lock, OwnerDiedError } from "multiproc";
 * const lock = new Lock();
 * // ... a process that held `lock` was killed ...
 * try {
 *   await lock.acquire({ throwIfOwnerDied: true }); // without the option: lock.ownerDied is true instead
 * } catch (err) {
 *   if (err instanceof OwnerDiedError) console.log("its holder died; the lock is ours now: check the state it guards");
 * }
 * ```
 */
export class OwnerDiedError extends ProcessError {
  constructor(readonly ownerPid: number, message = `the holder of this lock (pid ${ownerPid}) died`) {
    super(message, { code: ErrorCodes.OWNER_DIED });
  }
}
/**
 * A bad argument, thrown at the call that was wrong. The message names the argument.
 *
 * @example
 * ```ts
 * import { ArgumentError, Pool } from "multiproc";
 * try {
 *   new Pool(0);
 * } catch (err) {
 *   if (err instanceof ArgumentError) console.log(err.code); // "ERR_OUT_OF_RANGE" or "ERR_INVALID_ARG_VALUE"
 * }
 * ```
 */
export class ArgumentError extends ProcessError {
  constructor(message: string, code: ErrorCode = ErrorCodes.INVALID_ARG_VALUE, cause?: unknown) {
    super(message, { code, cause });
  }
}
/**
 * A call that does not fit the object's state: started twice, used after close, ...
 *
 * @example
 * ```ts
 * import { Process, StateError } from "multiproc";
 * const p = new Process({ target: () => {} });
 * p.start();
 * try {
 *   p.start();
 * } catch (err) {
 *   if (err instanceof StateError) console.log(err.code); // "ERR_ALREADY_STARTED"
 * }
 * await p.join();
 * ```
 */
export class StateError extends ProcessError {}
/**
 * A named shared-memory segment could not be created, found or mapped (`code` says which).
 *
 * @example
 * ```ts
 * import { SharedMemory, SharedMemoryError } from "multiproc";
 * try {
 *   new SharedMemory({ name: "no-such-segment" });
 * } catch (err) {
 *   if (err instanceof SharedMemoryError) console.log(err.code); // "ERR_SHM_NOT_FOUND"
 * }
 * ```
 */
export class SharedMemoryError extends ProcessError {}

/**
 * Wraps whatever a native call threw (an Error with a `code`) into our hierarchy.
 * @internal
 */
export function fromNative(err: unknown): ProcessError {
  if (err instanceof ProcessError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === "string" ? (e.code as ErrorCode) : ErrorCodes.PROCESS;
  const message = typeof e.message === "string" ? e.message : String(err);
  if (code.startsWith("ERR_SHM_")) return new SharedMemoryError(message, { code, cause: err });
  if (code === ErrorCodes.INVALID_ARG_TYPE || code === ErrorCodes.INVALID_ARG_VALUE || code === ErrorCodes.OUT_OF_RANGE) {
    return new ArgumentError(message, code, err);
  }
  return new ProcessError(message, { code, cause: err });
}

/**
 * Bytes from another process that do not parse (code ERR_CORRUPT); `what` says where.
 * @internal
 */
export function corruptData(what: string, cause?: unknown): ProcessError {
  return new ProcessError(`corrupt data from another process: ${what}`, { code: ErrorCodes.CORRUPT, cause });
}

/**
 * A copy of an error that can always travel (when the original holds something that cannot).
 * @internal
 */
export function plainError(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(String(err));
  const copy = new Error(err.message);
  copy.name = err.name;
  copy.stack = err.stack;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") Object.assign(copy, { code });
  return copy;
}
