// The Redis side of the cluster: the connection URL (checked at the call), the options every
// connection uses, and the optional packages (bullmq, ioredis), loaded only when a cluster is used
// so that `import "multiproc"` never pays for them.
import { ArgumentError, ErrorCodes, ProcessError } from "../errors.js";
import { describe } from "../validate.js";
import type { RedisOptions } from "ioredis";

type BullMQ = typeof import("bullmq");
type IORedisModule = typeof import("ioredis");
export type IORedis = import("ioredis").Redis;

export interface RedisTarget {
  /** The URL without its password, for messages. */
  readonly display: string;
  readonly options: RedisOptions;
}

/** Reconnect quickly: a pool's calls give up after connectionTimeout anyway, and nodes should resume soon after Redis is back. */
function retryStrategy(times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 5), 1000);
}

/** Parses `redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS). Throws at the call. */
export function parseConnection(value: unknown, name = "connection"): RedisTarget {
  let text: string;
  if (value instanceof URL) text = value.href;
  else if (typeof value === "string") text = value;
  else throw new ArgumentError(`${name} must be a redis:// URL string, got ${describe(value)}`, ErrorCodes.INVALID_ARG_TYPE);
  const bad = (why: string) => new ArgumentError(`${name} must be a URL like redis://HOST:PORT[/DB]: ${why}, got '${text}'`, ErrorCodes.INVALID_ARG_VALUE);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad("it does not parse as a URL");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw bad(`the scheme is '${url.protocol}', not redis: or rediss:`);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw bad("no host");
  const port = url.port === "" ? 6379 : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad("the port is not between 1 and 65535");
  let db = 0;
  const path = url.pathname.replace(/^\//, "");
  if (path !== "") {
    if (!/^\d+$/.test(path)) throw bad(`the path '/${path}' is not a database number`);
    db = Number(path);
  }
  if (url.search !== "" || url.hash !== "") throw bad("query strings and fragments are not understood");
  const options: RedisOptions = {
    host,
    port,
    db,
    // BullMQ's blocking connections require it; our own waits have their own time limits.
    maxRetriesPerRequest: null,
    retryStrategy,
    connectTimeout: 5000,
  };
  if (url.username !== "") options.username = decodeURIComponent(url.username);
  if (url.password !== "") options.password = decodeURIComponent(url.password);
  if (url.protocol === "rediss:") options.tls = {};
  const shown = new URL(url.href);
  if (shown.password !== "") shown.password = "***";
  return { display: shown.href.replace(/\/$/, ""), options };
}

/** Checks a BullMQ queue name (it becomes part of Redis keys and of CLIENT SETNAME). */
export function checkQueueName(value: unknown, name = "queue"): string {
  if (typeof value !== "string") throw new ArgumentError(`${name} must be a string, got ${describe(value)}`, ErrorCodes.INVALID_ARG_TYPE);
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(value)) {
    throw new ArgumentError(`${name} must be 1 to 100 letters, digits, '_', '.' or '-', got '${value}'`, ErrorCodes.INVALID_ARG_VALUE);
  }
  return value;
}

export interface ClusterDeps {
  bullmq: BullMQ;
  Redis: IORedisModule["Redis"];
}

let deps: Promise<ClusterDeps> | undefined;

/** bullmq and ioredis, imported on first use; a coded error when they are not installed. */
export function loadDeps(): Promise<ClusterDeps> {
  deps ??= (async () => {
    try {
      const [bullmq, ioredis] = await Promise.all([import("bullmq"), import("ioredis")]);
      return { bullmq, Redis: ioredis.Redis };
    } catch (err) {
      deps = undefined;
      throw new ProcessError("the cluster needs the packages bullmq and ioredis: npm install bullmq ioredis", {
        code: ErrorCodes.MISSING_DEPENDENCY,
        cause: err,
      });
    }
  })();
  return deps;
}

/** The error that gives a connection problem its cause and says what happens next. */
export function unavailable(target: RedisTarget, ms: number, cause: unknown): ProcessError {
  const why = cause instanceof Error ? ` (last error: ${cause.message})` : "";
  return new ProcessError(
    `Redis at ${target.display} did not answer for ${ms} ms${why}; the call gave up. The pool reconnects by itself and serves new calls once Redis answers again`,
    { code: ErrorCodes.REDIS_UNAVAILABLE, cause },
  );
}
