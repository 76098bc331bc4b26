// A worker node: takes a ClusterPool's jobs from the BullMQ queue and runs them on a local process
// Pool (`npx multiproc worker` runs one; start any number on any hosts). The node process itself
// runs no user code: targets are revived by its pool's workers, where isMainProcess() is false,
// so a module whose main code is guarded does not run it again here. Its event loop stays free to
// renew the locks of running jobs; if the node dies, the locks expire and another node's
// stalled-job check hands its jobs on (wire.ts has the job format).
import { availableParallelism, hostname } from "node:os";
import { fileURLToPath } from "node:url";
import type { Job, Worker } from "bullmq";
import { ArgumentError, ErrorCodes, ProcessError, WorkerLostError } from "../errors.js";
import { untaskError } from "../pool/errors.js";
import { TASK_EVENTS, TASK_SETTLE } from "../pool/protocol.js";
import { Pool } from "../pool/pool.js";
import type { AsyncResult } from "../pool/results.js";
import { descriptorTarget, type TargetDescriptor } from "../target.js";
import { checkInteger, checkLimit, checkOptions, describe } from "../validate.js";
import { checkQueueName, loadDeps, parseConnection, type IORedis, type RedisTarget } from "./redis.js";
import { CANCEL_CHANNEL, decodeValue, encodeEvent, encodeOutcome, fromBase64, INLINE_OUTCOME_MAX, nodeWorkerName, OUTCOME_KEY, OUTCOME_REF, OUTCOME_TTL_MS, readJob, rootHref, type Outcome } from "./wire.js";

/**
 * Options of `new WorkerNode({...})` (the flags of `npx multiproc worker`).
 *
 * @example
 * ```ts
 * import { WorkerNode, type WorkerNodeOptions } from "multiproc/cluster";
 * const options: WorkerNodeOptions = { connection: "redis://127.0.0.1:6379", concurrency: 4, name: "gpu-box" };
 * const node = new WorkerNode(options);
 * ```
 */
export interface WorkerNodeOptions {
  /** The Redis server, as the pools give it. */
  connection: string | URL;
  /** Tasks run at once, each in its own worker process; default cpuCount(). */
  concurrency?: number;
  /** The BullMQ queue to serve; default "multiproc". */
  queue?: string;
  /** The directory relative module targets resolve against; default the working directory. */
  root?: string | URL;
  /** How the node shows up in nodes() and in worker names; default HOST:PID. No spaces. */
  name?: string;
  /** Milliseconds a running job's lock lasts without renewal (renewed at half): how soon a dead node's jobs move on. Default 10,000. */
  lockDuration?: number;
  /** Milliseconds between this node's checks for jobs whose node died; default 5,000. */
  stalledInterval?: number;
  /** Where the node reports connection trouble; default stderr. */
  log?: (line: string) => void;
}

type AnyFunction = (...args: never[]) => unknown;

/** BullMQ's own limit is set out of reach: the pool's `attempts`, carried by each job, decides. */
const MAX_STALLED = 1_000_000;

/**
 * A worker node serving a ClusterPool's queue from this process (what `npx multiproc worker` runs): tasks run on its own process pool.
 *
 * @example
 * ```ts
 * import { WorkerNode } from "multiproc/cluster";
 * const node = new WorkerNode({ connection: "redis://127.0.0.1:6379", concurrency: 2 });
 * await node.start();
 * process.once("SIGTERM", () => void node.close());
 * ```
 */
export class WorkerNode {
  readonly name: string;
  readonly concurrency: number;
  readonly queue: string;
  /** The Redis URL (without its password). */
  readonly connection: string;
  readonly #target: RedisTarget;
  readonly #root: string;
  readonly #lockDuration: number;
  readonly #stalledInterval: number;
  readonly #log: (line: string) => void;
  readonly #targets = new Map<string, AnyFunction>();
  #pool: Pool | undefined;
  #worker: Worker | undefined;
  #redis: IORedis | undefined;
  /** Subscribed to the pool's cancels (wire.ts: CANCEL_CHANNEL). */
  #cancels: IORedis | undefined;
  #closing: Promise<void> | undefined;
  #started = false;
  /** Ends start()'s wait for Redis (set while it waits). */
  #abortStart: (() => void) | undefined;
  #lastLogged = "";

  constructor(options: string | URL | WorkerNodeOptions) {
    const o: Partial<WorkerNodeOptions> = typeof options === "string" || options instanceof URL ? { connection: options } : checkOptions(options);
    if (o.connection === undefined) throw new ArgumentError("connection is required: a redis://HOST:PORT URL", ErrorCodes.INVALID_ARG_TYPE);
    this.#target = parseConnection(o.connection);
    this.connection = this.#target.display;
    this.queue = o.queue === undefined ? "multiproc" : checkQueueName(o.queue);
    this.concurrency = o.concurrency === undefined ? availableParallelism() : checkInteger(o.concurrency, "concurrency", 1, 1024);
    const name = o.name ?? `${hostname()}:${process.pid}`;
    if (typeof name !== "string" || !/^[\x21-\x7e]{1,100}$/.test(name) || name.includes("|")) {
      throw new ArgumentError(`name must be 1 to 100 printable characters without spaces or '|', got ${describe(name)}`, ErrorCodes.INVALID_ARG_VALUE);
    }
    this.name = name;
    if (o.root !== undefined && typeof o.root !== "string" && !(o.root instanceof URL)) {
      throw new ArgumentError(`root must be a directory path or a file: URL, got ${describe(o.root)}`, ErrorCodes.INVALID_ARG_TYPE);
    }
    this.#root = rootHref(o.root ?? process.cwd());
    this.#lockDuration = checkLimit(o.lockDuration, "lockDuration") ?? 10_000;
    this.#stalledInterval = checkLimit(o.stalledInterval, "stalledInterval") ?? 5_000;
    if (this.#lockDuration < 100) throw new ArgumentError(`lockDuration must be >= 100 ms, got ${this.#lockDuration}`, ErrorCodes.OUT_OF_RANGE);
    if (this.#stalledInterval < 100) throw new ArgumentError(`stalledInterval must be >= 100 ms, got ${this.#stalledInterval}`, ErrorCodes.OUT_OF_RANGE);
    if (o.log !== undefined && typeof o.log !== "function") throw new ArgumentError(`log must be a function, got ${describe(o.log)}`, ErrorCodes.INVALID_ARG_TYPE);
    this.#log = o.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** The root relative module targets resolve against, as a path. */
  get root(): string {
    return fileURLToPath(this.#root).replace(/(.)\/$/, "$1");
  }

  /**
   * Connects and starts taking jobs; resolves once the worker is registered with Redis. While Redis
   * is unreachable it keeps trying (saying why through `log`); a close() meanwhile makes it reject
   * with ERR_CLOSED.
   */
  async start(): Promise<void> {
    if (this.#started || this.#closing !== undefined) throw new ProcessError("the worker node was started already", { code: ErrorCodes.ALREADY_STARTED });
    this.#started = true;
    const deps = await loadDeps();
    // close() may come while the node starts (a signal to the CLI while Redis is unreachable):
    // it finds nothing to close yet, so nothing may be opened after it.
    if (this.#closing !== undefined) throw closedWhileStarting();
    this.#pool = new Pool({ processes: this.concurrency, context: "process" });
    const redis = new deps.Redis(this.#target.options);
    redis.on("error", (err: unknown) => this.#trouble(err));
    redis.on("ready", () => {
      if (this.#lastLogged !== "") this.#log(`multiproc worker ${this.name}: connected to ${this.connection} again`);
      this.#lastLogged = "";
    });
    this.#redis = redis;
    // Three parameters: BullMQ then hands the processor a signal that cancelJob aborts.
    const worker = new deps.bullmq.Worker(this.queue, (job: Job, _token: string | undefined, signal?: AbortSignal) => this.#run(job, signal), {
      connection: redis,
      concurrency: this.concurrency,
      name: nodeWorkerName(this.name, this.concurrency),
      lockDuration: this.#lockDuration,
      stalledInterval: this.#stalledInterval,
      maxStalledCount: MAX_STALLED,
      autorun: true,
    });
    worker.on("error", (err: unknown) => this.#trouble(err));
    this.#worker = worker;
    // Calls the pool gave up: their running jobs here see their signal abort (wire.ts).
    const cancels = redis.duplicate();
    cancels.on("error", () => undefined); // the main connection reports trouble
    cancels.on("message", (_channel: string, message: string) => {
      let ids: unknown;
      try {
        ids = JSON.parse(message);
      } catch {
        return;
      }
      if (Array.isArray(ids)) for (const id of ids) if (typeof id === "string") worker.cancelJob(id, "the pool cancelled the call");
    });
    void cancels.subscribe(worker.toKey(CANCEL_CHANNEL)).catch(() => undefined);
    this.#cancels = cancels;
    // BullMQ's wait for Redis does not end when the worker is closed while Redis is unreachable:
    // close() ends this one.
    await new Promise<void>((resolve, reject) => {
      this.#abortStart = () => reject(closedWhileStarting());
      worker.waitUntilReady().then(
        () => resolve(),
        (err: unknown) => reject(this.#closing !== undefined ? closedWhileStarting(err) : (err as Error)),
      );
    }).finally(() => (this.#abortStart = undefined));
  }

  /** Reports a connection problem once until the connection is back, not at every retry. */
  #trouble(err: unknown): void {
    const line = err instanceof Error ? err.message : String(err);
    if (line === this.#lastLogged) return;
    this.#lastLogged = line;
    this.#log(`multiproc worker ${this.name}: ${line}`);
  }

  #fn(d: TargetDescriptor): AnyFunction {
    const key = JSON.stringify(d);
    let fn = this.#targets.get(key);
    if (fn === undefined) {
      fn = descriptorTarget(d);
      this.#targets.set(key, fn);
    }
    return fn;
  }

  #outcome(o: Omit<Outcome, "worker" | "pid"> & Partial<Outcome>): Outcome {
    return { worker: this.name, pid: process.pid, ...o };
  }

  /** The processor: one job, one outcome (success or the task's error), never a thrown error. */
  async #run(job: Job, signal: AbortSignal | undefined): Promise<string> {
    const outcome = await this.#outcomeOf(job, signal);
    const limit = typeof (job.data as { x?: unknown }).x === "number" ? (job.data as { x: number }).x : Infinity;
    let encoded = encodeOutcome(outcome);
    // base64 is 4 bytes for 3: the limit is on the decoded size.
    if (Math.floor((encoded.length * 3) / 4) > limit) {
      const error = new ProcessError(
        `the task's ${outcome.ok ? "result" : "error"} encodes to about ${Math.floor((encoded.length * 3) / 4)} bytes, more than the pool's maxPayloadBytes (${limit}); return less per task, or raise maxPayloadBytes`,
        { code: ErrorCodes.PAYLOAD_TOO_LARGE },
      );
      encoded = encodeOutcome({ ...outcome, ok: false, value: error });
    }
    if (encoded.length <= INLINE_OUTCOME_MAX) return encoded;
    // A large outcome waits in a key of its own, so the event stream stays small (wire.ts).
    const key = this.#worker!.toKey(`${OUTCOME_KEY}:${job.id ?? ""}`);
    await this.#redis!.set(key, encoded, "PX", OUTCOME_TTL_MS);
    return `${OUTCOME_REF}${key}`;
  }

  async #outcomeOf(job: Job, signal: AbortSignal | undefined): Promise<Outcome> {
    let read;
    try {
      read = readJob(job.data, this.#root);
    } catch (err) {
      return this.#outcome({ ok: false, busy: 0, value: err });
    }
    const { job: data, target } = read;
    const lost = job.stalledCounter;
    if (lost >= data.a) {
      return this.#outcome({
        ok: false,
        busy: 0,
        value: new WorkerLostError(`the worker nodes running this task were lost ${lost} times (the pool's attempts: ${data.a}); it is not run again`),
      });
    }
    let args: unknown[];
    try {
      const decoded = decodeValue(fromBase64(data.p));
      if (!Array.isArray(decoded)) throw new TypeError("the payload is not an array");
      args = decoded as unknown[];
    } catch (err) {
      return this.#outcome({ ok: false, busy: 0, value: err });
    }
    const pool = this.#pool!;
    const fn = this.#fn(target) as (...args: unknown[]) => unknown;
    const timeout = data.o ?? undefined;
    const flags = typeof data.s === "number" ? data.s : 0;
    const settle = (flags & TASK_SETTLE) !== 0 && data.m !== "apply";
    // Emitted values become the job's progress, in order, all published before its outcome.
    let events: Promise<unknown> = Promise.resolve();
    const onEvent = (flags & TASK_EVENTS) === 0 ? undefined : (v: unknown) => {
      events = events.then(() => job.updateProgress(encodeEvent(v))).catch(() => undefined);
    };
    let r: AsyncResult<unknown>;
    try {
      if (data.m === "apply") r = pool.applyAsync(fn, args, { timeout, onEvent, signal });
      else if (data.m === "map") r = pool.mapAsync(fn, args, { chunksize: Math.max(1, args.length), timeout, onEvent, settle, signal });
      else r = pool.starmapAsync(fn, args as unknown[][], { chunksize: Math.max(1, args.length), timeout, onEvent, settle, signal });
    } catch (err) {
      return this.#outcome({ ok: false, busy: 0, value: err });
    }
    let ok = true;
    let value: unknown;
    try {
      value = await r.get();
      // Settled items' reasons go on with their own stacks (the pool attaches this node's).
      if (settle) for (const rec of value as { status: string; reason?: unknown }[]) if (rec.status === "rejected") rec.reason = untaskError(rec.reason);
    } catch (err) {
      ok = false;
      value = this.#explain(untaskError(err), target);
    }
    await events;
    const ran = r.stats[0];
    const busy = r.stats.reduce((n, s) => n + s.busyMs, 0);
    return ran === undefined ? this.#outcome({ ok, busy, value }) : { ok, busy, value, worker: `${this.name}/${ran.name}`, pid: ran.pid };
  }

  /** A module the node cannot find is most often a deployment problem: say where it looked. */
  #explain(err: unknown, target: TargetDescriptor): unknown {
    if ((err as { code?: unknown }).code !== ErrorCodes.TARGET_NOT_FOUND || target.kind !== "export") return err;
    return new ProcessError(
      `worker node ${this.name} cannot find the task's function '${target.name}' in ${target.url}: ${(err as Error).message}. ` +
        `Nodes resolve module targets against their root (${this.root}); start them in a copy of the pool's code, or with --root`,
      { code: ErrorCodes.TARGET_NOT_FOUND, cause: err },
    );
  }

  /** Stops taking jobs, lets the running ones finish, then shuts the local pool and the connections. */
  close(): Promise<void> {
    this.#abortStart?.();
    this.#closing ??= (async () => {
      try {
        // Without Redis, running tasks could not hand their outcomes back anyway (their jobs move
        // on to other nodes once Redis is back): do not wait for them, nor for the connection.
        await this.#worker?.close(this.#redis?.status !== "ready");
      } finally {
        this.#pool?.close();
        await this.#pool?.join();
        this.#cancels?.disconnect();
        this.#redis?.disconnect();
      }
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function closedWhileStarting(cause?: unknown): ProcessError {
  return new ProcessError("the worker node was closed while it started", { code: ErrorCodes.CLOSED, cause });
}
