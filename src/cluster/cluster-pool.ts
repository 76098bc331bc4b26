// ClusterPool: the Pool API (base-pool.ts) with its tasks run by worker nodes on any number of
// hosts, through a BullMQ queue on a Redis server (engine.ts; the nodes are worker-node.ts, started
// with `npx multiproc worker`). Its own class rather than a Pool context: it takes a connection
// instead of a process count, its delivery is at-least-once, and its lifetime is a connection's.
import { ArgumentError, ErrorCodes } from "../errors.js";
import { BasePool } from "../pool/base-pool.js";
import { checkNotBootstrapping } from "../runtime.js";
import type { WorkerStats } from "../pool/stats.js";
import { checkInteger, checkLimit, checkOptions, describe } from "../validate.js";
import { ClusterEngine } from "./engine.js";
import { checkQueueName, parseConnection } from "./redis.js";
import { parseNodeWorkerName, rootHref } from "./wire.js";

/**
 * Options of `new ClusterPool({...})`: the Redis URL, the queue name, retries of tasks whose node died, timeouts and payload limits.
 *
 * @example
 * ```ts
 * import { ClusterPool, type ClusterPoolOptions } from "multiproc/cluster";
 * const options: ClusterPoolOptions = { connection: "redis://127.0.0.1:6379", queue: "jobs", attempts: 5 };
 * await using pool = new ClusterPool(options);
 * ```
 */
export interface ClusterPoolOptions {
  /** The Redis server: `redis://[user:password@]HOST[:PORT][/DB]`, or `rediss://` for TLS. */
  connection: string | URL;
  /** The BullMQ queue the worker nodes serve (`--queue`); default "multiproc". */
  queue?: string;
  /** The parallelism expected across the nodes (default 16): map's default chunksize is ceil(n / (4 x processes)), as in CPython. */
  processes?: number;
  /** Runs of a task whose worker node dies (SIGKILL, power loss) before it rejects with WorkerLostError; default 3. */
  attempts?: number;
  /** Milliseconds calls wait for an unreachable (or silent) Redis before they reject with ERR_REDIS_UNAVAILABLE; default 10,000. */
  connectionTimeout?: number;
  /** Largest encoded arguments of one task (a chunk, for maps) or result, in bytes; default 8 MiB. */
  maxPayloadBytes?: number;
  /** Jobs of this pool in Redis at once (waiting or running); default 1,000. */
  maxInFlight?: number;
  /** The directory module targets are named relative to (the nodes' `--root`); default the working directory. */
  root?: string | URL;
}

/**
 * A worker node serving the pool's queue (as BullMQ lists its connections).
 *
 * @example
 * ```ts
 * import { ClusterPool, type ClusterNode } from "multiproc/cluster";
 * await using pool = new ClusterPool({ connection: "redis://127.0.0.1:6379" });
 * const nodes: ClusterNode[] = await pool.nodes();
 * console.log(nodes.reduce((n, node) => n + node.concurrency, 0), "tasks at once");
 * ```
 */
export interface ClusterNode {
  /** The node's `--name` (default HOST:PID). */
  name: string;
  /** Tasks it runs at once (`--concurrency`). */
  concurrency: number;
}

const MiB = 1024 * 1024;

/**
 * The Pool API on worker nodes on any hosts, through BullMQ queues on a Redis server (needs `npm install bullmq ioredis`); start nodes with `npx multiproc worker --connection redis://...`.
 *
 * @example
 * ```ts
 * import { isMainProcess } from "multiproc";
 * import { ClusterPool } from "multiproc/cluster";
 *
 * export function square(x: number) { return x * x; }
 *
 * if (isMainProcess()) {
 *   await using pool = new ClusterPool({ connection: "redis://127.0.0.1:6379" });
 *   console.log(await pool.nodes()); // [ { name: 'host:1234', concurrency: 2 }, ... ]
 *   console.log(await pool.map(square, [1, 2, 3])); // [ 1, 4, 9 ]
 * }
 * ```
 */
export class ClusterPool extends BasePool {
  protected override objectChunkMax = Infinity;
  /** The Redis URL (without its password). */
  readonly connection: string;
  /** The BullMQ queue name. */
  readonly queue: string;
  readonly #s: ClusterEngine;

  constructor(options: string | URL | ClusterPoolOptions) {
    const o: Partial<ClusterPoolOptions> = typeof options === "string" || options instanceof URL ? { connection: options } : checkOptions(options);
    if (o.connection === undefined) throw new ArgumentError("connection is required: a redis://HOST:PORT URL", ErrorCodes.INVALID_ARG_TYPE);
    const target = parseConnection(o.connection);
    const queue = o.queue === undefined ? "multiproc" : checkQueueName(o.queue);
    const processes = o.processes === undefined ? 16 : checkInteger(o.processes, "processes", 1);
    const attempts = o.attempts === undefined ? 3 : checkInteger(o.attempts, "attempts", 1, 1000);
    const connectionTimeout = checkLimit(o.connectionTimeout, "connectionTimeout") ?? 10_000;
    const maxPayloadBytes = o.maxPayloadBytes === undefined ? 8 * MiB : checkInteger(o.maxPayloadBytes, "maxPayloadBytes", 1, 512 * MiB);
    const maxInFlight = o.maxInFlight === undefined ? 1000 : checkInteger(o.maxInFlight, "maxInFlight", 1);
    if (o.root !== undefined && typeof o.root !== "string" && !(o.root instanceof URL)) {
      throw new ArgumentError(`root must be a directory path or a file: URL, got ${describe(o.root)}`, ErrorCodes.INVALID_ARG_TYPE);
    }
    const root = rootHref(o.root ?? process.cwd());
    // A worker importing a main module that makes pools at top level must not make one here.
    checkNotBootstrapping();
    const engine = new ClusterEngine({ target, queue, attempts, connectionTimeout, maxPayloadBytes, maxInFlight, rootHref: root });
    super(engine, processes);
    this.#s = engine;
    this.connection = target.display;
    this.queue = queue;
  }

  /** Per-worker statistics (a worker is NODE/PoolWorker-N) of the tasks this pool got answers for. */
  stats(): WorkerStats[] {
    return this.#s.stats();
  }

  /** The worker nodes connected to the queue now. */
  async nodes(): Promise<ClusterNode[]> {
    const names = await this.#s.workerNames();
    return names.map(parseNodeWorkerName).filter((n): n is ClusterNode => n !== undefined);
  }

  override toString(): string {
    return `<ClusterPool ${this.connection} queue=${this.queue} state=${this.#s.state}>`;
  }
}
