// ClusterPool: the Pool API (base-pool.ts) with its tasks run by worker nodes on any number of
// hosts, through a BullMQ queue on a Redis server (engine.ts; the nodes are worker-node.ts, started
// with `npx multiproc worker`). Its own class rather than a Pool context: it takes a connection
// instead of a process count, its delivery is at-least-once, and its lifetime is a connection's.
import { ArgumentError, ErrorCodes } from "../errors.js";
import { BasePool } from "../pool/base-pool.js";
import { checkNotBootstrapping } from "../runtime.js";
import type { WorkerStats } from "../pool/stats.js";
import { checkInteger, checkOptions, checkTimeout, describe } from "../validate.js";
import { ClusterEngine } from "./engine.js";
import { checkQueueName, parseConnection } from "./redis.js";
import { parseNodeWorkerName, rootHref } from "./wire.js";

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

/** A worker node serving the pool's queue (as BullMQ lists its connections). */
export interface ClusterNode {
  /** The node's `--name` (default HOST:PID). */
  name: string;
  /** Tasks it runs at once (`--concurrency`). */
  concurrency: number;
}

const MiB = 1024 * 1024;

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
    const connectionTimeout = checkTimeout(o.connectionTimeout, "connectionTimeout") ?? 10_000;
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
