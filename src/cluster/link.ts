// The ClusterPool engine's connection to Redis (engine.ts): it connects (retrying until Redis
// answers), opens the queue and reads the queue's event stream from a position taken from the
// server's clock, keeps the time of the last sign of life (pinging when Redis is quiet), notices
// when the stream was trimmed past what it read, and closes. It knows nothing of calls or jobs: it
// hands each event to the engine's hooks. Kept apart from the engine because the connection's
// lifetime (reconnections, start-up retries, closing without waiting on a dead server) is a
// concern of its own, and from flights.ts because those hold the jobs, not the connection.
import type { Queue, QueueEvents } from "bullmq";
import type { ProcessError } from "../errors.js";
import { loadDeps, unavailable, type IORedis, type RedisTarget } from "./redis.js";

export interface Backend {
  redis: IORedis;
  queue: Queue;
  events: QueueEvents;
}

/** What the link tells the engine. */
export interface LinkHooks {
  /** Whether the engine stopped (start-up gives up). */
  stopped(): boolean;
  /** The optional dependencies are missing: the engine cannot work. */
  broke(error: ProcessError): void;
  /** The queue and its event stream are open. */
  connected(): void;
  /** Events may have been lost (a reconnection, or the stream was trimmed past what we read). */
  recheck(): void;
  completed(jobId: string, returnvalue: unknown): void;
  failed(jobId: string, failedReason: string): void;
  /** A job reported progress (an event a task emitted). */
  progress(jobId: string, data: unknown): void;
}

const PING_MS = 1000;
/** How long closing waits for Redis (which may be gone). */
export const CLOSE_WAIT_MS = 2000;
const START_RETRY_MS = 500;
/** How often the stream is checked for a gap while jobs wait for events (one XINFO each). */
const GAP_CHECK_MS = 1000;

export class QueueLink {
  readonly #target: RedisTarget;
  readonly #queueName: string;
  readonly #connectionTimeout: number;
  readonly #hooks: LinkHooks;
  #redis: IORedis | undefined;
  #backend: Backend | undefined;
  #stopping = false;
  #everReady = false;
  /** Date.now() of the last sign of life from Redis (or of the moment someone began waiting). */
  #lastContact = Date.now();
  #lastError: unknown;
  #pinging = false;
  /** The newest event id the event stream gave us. */
  #lastSeen = "0-0";
  /** #lastSeen when the last gap check was sent: events after it were unread then (see #checkGap). */
  #checkedUpTo = "0-0";
  #lastGapCheck = 0;
  #gapChecking = false;

  constructor(target: RedisTarget, queue: string, connectionTimeout: number, hooks: LinkHooks) {
    this.#target = target;
    this.#queueName = queue;
    this.#connectionTimeout = connectionTimeout;
    this.#hooks = hooks;
  }

  /** The open queue, or undefined before start-up and after close(). */
  get backend(): Backend | undefined {
    return this.#backend;
  }

  /** The connection, as soon as it is made (before the queue opens); undefined after close(). */
  get redis(): IORedis | undefined {
    return this.#redis;
  }

  /** close() began. */
  get stopping(): boolean {
    return this.#stopping;
  }

  #stopped(): boolean {
    return this.#stopping || this.#hooks.stopped();
  }

  /** Settles with the backend once connected, or undefined if the engine stopped first. */
  async start(): Promise<Backend | undefined> {
    let deps;
    try {
      deps = await loadDeps();
    } catch (err) {
      this.#hooks.broke(err as ProcessError);
      return undefined;
    }
    if (this.#stopped()) return undefined;
    const redis = new deps.Redis(this.#target.options);
    redis.on("error", (err: unknown) => (this.#lastError = err));
    redis.on("ready", () => this.#onReady());
    this.#redis = redis;
    const queue = new deps.bullmq.Queue(this.#queueName, { connection: redis });
    queue.on("error", (err: unknown) => (this.#lastError = err));
    // Waits for the connection (commands queue until it is up): the events we need are those
    // after this moment, by the server's clock. A refused command (a server still loading, a
    // wrong password) is retried; the calls waiting meanwhile time out with its message.
    let time: unknown[] | undefined;
    while (time === undefined && !this.#stopped()) {
      try {
        time = await redis.time();
      } catch (err) {
        this.#lastError = err;
        if (!this.#stopped()) await new Promise((r) => setTimeout(r, START_RETRY_MS));
      }
    }
    if (time === undefined || this.#stopped()) {
      await queue.close().catch(() => undefined);
      return undefined;
    }
    const lastEventId = `${Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000) - 1}-0`;
    const events = new deps.bullmq.QueueEvents(this.#queueName, { connection: redis, lastEventId, blockingTimeout: 2000 });
    events.on("error", (err: unknown) => (this.#lastError = err));
    events.on("completed", (args: { jobId: string; returnvalue: unknown }, id: string) => {
      this.#seen(id);
      this.#hooks.completed(args.jobId, args.returnvalue);
    });
    events.on("failed", (args: { jobId: string; failedReason: string }, id: string) => {
      this.#seen(id);
      this.#hooks.failed(args.jobId, args.failedReason);
    });
    events.on("progress", (args: { jobId: string; data: unknown }, id: string) => {
      this.#seen(id);
      this.#hooks.progress(args.jobId, args.data);
    });
    // Every job's other events move the read position too (see #checkGap).
    for (const name of ["added", "waiting", "active", "stalled", "removed"] as const) events.on(name, (_args: unknown, id: string) => this.#seen(id));
    this.#lastSeen = lastEventId;
    this.#checkedUpTo = lastEventId;
    const backend = { redis, queue, events };
    this.#backend = backend;
    this.contact();
    this.#hooks.connected();
    return backend;
  }

  #onReady(): void {
    this.contact();
    if (!this.#everReady) {
      this.#everReady = true;
      return;
    }
    // A reconnection: events may have been trimmed from the stream while we were away.
    this.#hooks.recheck();
  }

  // ---- health ----

  /** A sign of life from Redis. */
  contact(): void {
    this.#lastContact = Date.now();
  }

  /** Records a Redis error: the message an ERR_REDIS_UNAVAILABLE carries. */
  noteError(err: unknown): void {
    this.#lastError = err;
  }

  /** The error for calls that waited connectionTimeout ms on a silent Redis. */
  unavailable(): ProcessError {
    return unavailable(this.#target, this.#connectionTimeout, this.#lastError);
  }

  /**
   * One tick of the engine's watchdog: looks for a gap in the stream (when jobs wait for events)
   * and pings a quiet Redis. Returns true when Redis was silent for longer than connectionTimeout.
   */
  check(waitingForEvents: boolean): boolean {
    const backend = this.#backend;
    if (backend !== undefined && waitingForEvents && !this.#gapChecking && Date.now() - this.#lastGapCheck >= GAP_CHECK_MS) this.#checkGap(backend);
    const redis = this.#redis;
    if (redis !== undefined && !this.#pinging && Date.now() - this.#lastContact >= Math.min(PING_MS, this.#connectionTimeout / 2)) {
      this.#pinging = true;
      redis.ping().then(
        () => {
          this.#pinging = false;
          this.contact();
        },
        (err: unknown) => {
          this.#pinging = false;
          this.#lastError = err;
        },
      );
    }
    return Date.now() - this.#lastContact > this.#connectionTimeout;
  }

  #seen(id: string): void {
    if (compareIds(id, this.#lastSeen) > 0) this.#lastSeen = id;
  }

  /**
   * Redis trims the event stream from its oldest end (BullMQ keeps ~10,000 events): a pool that
   * fell that far behind (a long busy stretch of its event loop) would never hear of the trimmed
   * completions. An unread event trimmed since the last check was newer than what we had read by
   * then (#checkedUpTo), and a trim takes everything older with it: so when the stream's oldest
   * entry is now newer than #checkedUpTo (or the stream is empty though events were added after
   * it), events we had not read may be gone, and we ask Redis for the state of our jobs, as after
   * a reconnection. Comparing with what we have read by now instead would miss a trim followed by
   * newer events we did read. A false alarm (over ~10,000 events in one interval, or a brand-new
   * stream) costs one look-up of the jobs in flight.
   */
  #checkGap(backend: Backend): void {
    this.#lastGapCheck = Date.now();
    this.#gapChecking = true;
    const upTo = this.#checkedUpTo;
    this.#checkedUpTo = this.#lastSeen;
    backend.redis
      .xinfo("STREAM", backend.queue.toKey("events"))
      .then(
        (reply) => {
          const info = reply as unknown[];
          const field = (name: string): unknown => {
            const at = info.indexOf(name);
            return at >= 0 ? info[at + 1] : undefined;
          };
          const first = field("first-entry");
          const firstId = Array.isArray(first) && typeof first[0] === "string" ? first[0] : undefined;
          const lastId = field("last-generated-id");
          const behind = firstId ?? (typeof lastId === "string" && field("length") === 0 ? lastId : undefined);
          if (behind !== undefined && compareIds(behind, upTo) > 0) this.#hooks.recheck();
        },
        () => {
          // No stream yet (nothing was trimmed), or Redis did not answer: the next check looks
          // back as far as this one did.
          if (compareIds(upTo, this.#checkedUpTo) < 0) this.#checkedUpTo = upTo;
        },
      )
      .finally(() => (this.#gapChecking = false));
  }

  // ---- closing ----

  /** Closes the connections (never waits long: Redis may be gone). */
  async close(): Promise<void> {
    this.#stopping = true;
    const backend = this.#backend;
    this.#backend = undefined;
    if (backend !== undefined) {
      await withTimeout(Promise.allSettled([backend.events.close(), backend.queue.close()]), CLOSE_WAIT_MS);
    }
    this.#redis?.disconnect();
    this.#redis = undefined;
  }
}

/** `p`, or after `ms` either undefined or the error `late` makes. */
export function withTimeout<T>(p: Promise<T>, ms: number, late?: () => Error): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<undefined>((resolve, reject) => {
      timer = setTimeout(() => (late === undefined ? resolve(undefined) : reject(late())), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Orders two stream ids ("ms-seq"). */
function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split("-").map(Number);
  const [bm = 0, bs = 0] = b.split("-").map(Number);
  return am !== bm ? am - bm : as - bs;
}
