// The ClusterPool's engine: the same calls as the local Pool (calls.ts, imap.ts), but each unit of
// work (an apply, a chunk of a map) becomes a BullMQ job on a Redis queue that worker nodes on any
// host take (worker-node.ts). Results stream back through the queue's event stream (one XREAD
// connection, no polling per job) and are routed to their calls, which keep input order.
//
// Delivery is at least once: a node that dies mid-task loses its job's lock and another node's
// stalled-job check puts the job back; a node refuses a job that was lost `attempts` times
// (WorkerLostError). After a reconnection, or when the stream was trimmed past what the pool read,
// the engine asks Redis for the state of every job it still waits for; a job that vanished is
// submitted again. Redis that does not answer for `connectionTimeout` ms fails the calls waiting
// on it (ERR_REDIS_UNAVAILABLE); the connections keep retrying, so later calls work again.
import { randomBytes } from "node:crypto";
import type { JobsOptions, Queue, QueueEvents } from "bullmq";
import { ArgumentError, ErrorCodes, ProcessError, RemoteError, StateError, WorkerLostError } from "../errors.js";
import { taskError } from "../pool/errors.js";
import { StatsTable, type WorkerIdentity, type WorkerStats } from "../pool/stats.js";
import { TargetTable } from "../pool/target-table.js";
import { payloadValue, type Call, type Engine, type TargetEntry, type Unit } from "../pool/task.js";
import { loadDeps, unavailable, type IORedis, type RedisTarget } from "./redis.js";
import { decodeOutcome, encodeValue, OUTCOME_REF, reviveClass, toBase64, toWire, WIRE_VERSION, type JobData } from "./wire.js";

export interface EngineSettings {
  target: RedisTarget;
  queue: string;
  attempts: number;
  connectionTimeout: number;
  maxPayloadBytes: number;
  /** Jobs in Redis (waiting or running) at most, across the pool's calls. */
  maxInFlight: number;
  /** The root that module URLs are sent relative to (a file: URL ending in "/"). */
  rootHref: string;
}

/** One unit of work on its way through Redis; `ids` holds every job id it was submitted under. */
interface Flight {
  unit: Unit;
  data: JobData;
  ids: string[];
  /** Redis confirmed the job (only confirmed jobs are looked up after a reconnection). */
  added: boolean;
  /** Its outcome is being taken from its own key. */
  fetching?: boolean;
}

interface Backend {
  redis: IORedis;
  queue: Queue;
  events: QueueEvents;
}

type State = "running" | "closed" | "terminated" | "broken";

/** BullMQ's reason when a job stalled more often than the node's maxStalledCount. */
const STALLED = /stalled more than allowable limit/;
const PING_MS = 1000;
const CLOSE_WAIT_MS = 2000;
const RECONCILE_BATCH = 200;
const START_RETRY_MS = 500;
const GAP_CHECK_MS = 5000;

export class ClusterEngine implements Engine {
  readonly #o: EngineSettings;
  readonly #prefix = `${randomBytes(6).toString("hex")}-`;
  readonly #targets = new TargetTable();
  readonly #stats = new StatsTable();
  #state: State = "running";
  #error: ProcessError | undefined;
  #calls: Call[] = [];
  readonly #flights = new Set<Flight>();
  /** The flights of each call, so that a call that settles finds its jobs at once. */
  readonly #byCall = new Map<Call, Set<Flight>>();
  readonly #byId = new Map<string, Flight>();
  #seq = 0;
  #unitIds = 0;
  #preparing = 0;
  #dispatchQueued = false;
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
  #lastGapCheck = 0;
  #gapChecking = false;
  #health: NodeJS.Timeout | undefined;
  #joiners: (() => void)[] = [];
  readonly #ops = new Set<Promise<unknown>>();
  #shutdown: Promise<void> | undefined;

  /** Settles with the backend once connected, or undefined if the engine stopped first. */
  readonly #ready: Promise<Backend | undefined>;

  constructor(settings: EngineSettings) {
    this.#o = settings;
    this.#ready = this.#start();
  }

  get state(): State {
    return this.#state;
  }

  refusal(): ProcessError | undefined {
    switch (this.#state) {
      case "running":
        return undefined;
      case "closed":
        return new StateError("the pool is closed and accepts no new work", { code: ErrorCodes.CLOSED });
      case "terminated":
        return new StateError("the pool was terminated and accepts no new work", { code: ErrorCodes.POOL_TERMINATED });
      case "broken":
        return this.#error;
    }
  }

  encodeArgs(args: unknown[]): Uint8Array {
    const bytes = encodeValue(args);
    this.#checkSize(bytes.length, "args");
    return bytes;
  }

  #checkSize(n: number, what: string): void {
    if (n > this.#o.maxPayloadBytes) {
      throw new ArgumentError(
        `${what} encode to ${n} bytes, more than the pool's maxPayloadBytes (${this.#o.maxPayloadBytes}); send less per task (a smaller chunksize), or pass a reference to the data`,
        ErrorCodes.PAYLOAD_TOO_LARGE,
      );
    }
  }

  knownTarget(fn: object): TargetEntry | undefined {
    return this.#targets.known(fn);
  }

  target(fn: (...args: never[]) => unknown): Promise<TargetEntry> {
    return this.#targets.resolve(fn);
  }

  // ---- start-up ----

  #stopped(): boolean {
    return this.#stopping || this.#state === "broken";
  }

  async #start(): Promise<Backend | undefined> {
    let deps;
    try {
      deps = await loadDeps();
    } catch (err) {
      this.#break(err as ProcessError);
      return undefined;
    }
    if (this.#stopped()) return undefined;
    const redis = new deps.Redis(this.#o.target.options);
    redis.on("error", (err: unknown) => (this.#lastError = err));
    redis.on("ready", () => this.#onReady());
    this.#redis = redis;
    const queue = new deps.bullmq.Queue(this.#o.queue, { connection: redis });
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
    const events = new deps.bullmq.QueueEvents(this.#o.queue, { connection: redis, lastEventId, blockingTimeout: 2000 });
    events.on("error", (err: unknown) => (this.#lastError = err));
    events.on("completed", (args: { jobId: string; returnvalue: unknown }, id: string) => {
      this.#seen(id);
      this.#completed(args.jobId, args.returnvalue);
    });
    events.on("failed", (args: { jobId: string; failedReason: string }, id: string) => {
      this.#seen(id);
      this.#failed(args.jobId, args.failedReason);
    });
    // Every job's other events move the read position too (see #checkGap).
    for (const name of ["added", "waiting", "active", "stalled", "removed"] as const) events.on(name, (_args: unknown, id: string) => this.#seen(id));
    this.#lastSeen = lastEventId;
    const backend = { redis, queue, events };
    this.#backend = backend;
    this.#contact();
    this.wake();
    return backend;
  }

  #onReady(): void {
    this.#contact();
    if (!this.#everReady) {
      this.#everReady = true;
      return;
    }
    // A reconnection: events may have been trimmed from the stream while we were away.
    void this.#reconcile();
  }

  // ---- calls ----

  preparing(delta: number): void {
    this.#preparing += delta;
    this.#watch();
  }

  submit(call: Call): void {
    if (this.#state === "terminated" || this.#state === "broken") {
      call.fail(this.refusal());
      return;
    }
    this.#calls.push(call);
    this.wake();
  }

  nextUnitId(): number {
    this.#unitIds = (this.#unitIds + 1) >>> 0;
    return this.#unitIds;
  }

  wake(): void {
    if (this.#dispatchQueued) return;
    this.#dispatchQueued = true;
    queueMicrotask(() => this.#dispatch());
  }

  finished(call: Call): void {
    const i = this.#calls.indexOf(call);
    if (i >= 0) this.#calls.splice(i, 1);
    if (this.#state === "terminated" || this.#state === "broken") return;
    // Jobs of a settled call that no node took yet are removed; running ones end unheard.
    const ids: string[] = [];
    for (const f of this.#byCall.get(call) ?? []) {
      f.unit.done = true;
      this.#drop(f);
      if (f.added) ids.push(...f.ids);
    }
    void this.#remove(ids);
    this.wake();
  }

  #take(): Unit | undefined {
    for (let i = 0; i < this.#calls.length; i++) {
      const call = this.#calls[i]!;
      const unit = call.take();
      if (unit !== undefined) return unit;
      if (call.exhausted) {
        this.#calls.splice(i, 1);
        i--;
      }
    }
    return undefined;
  }

  #jobData(unit: Unit): JobData {
    const bytes = "encoded" in unit.payload ? unit.payload.encoded : encodeValue(payloadValue(unit.payload));
    this.#checkSize(bytes.length, unit.mode === "apply" ? "args" : `items ${unit.index}..${unit.index + unit.count - 1}`);
    return {
      v: WIRE_VERSION,
      t: toWire(unit.target.descriptor, this.#o.rootHref),
      m: unit.mode,
      p: toBase64(bytes),
      a: this.#o.attempts,
      o: unit.timeout ?? null,
      x: this.#o.maxPayloadBytes,
    };
  }

  #dispatch(): void {
    this.#dispatchQueued = false;
    if (this.#state === "terminated" || this.#state === "broken") return;
    const backend = this.#backend;
    if (backend !== undefined) {
      const flights: Flight[] = [];
      while (this.#flights.size < this.#o.maxInFlight) {
        const unit = this.#take();
        if (unit === undefined) break;
        let data: JobData;
        try {
          data = this.#jobData(unit);
        } catch (err) {
          // This unit cannot be sent (unserialisable, too large): it fails alone.
          unit.done = true;
          unit.call.onError(unit, err, undefined, 0);
          continue;
        }
        const flight: Flight = { unit, data, ids: [], added: false };
        this.#flights.add(flight);
        let mine = this.#byCall.get(unit.call);
        if (mine === undefined) this.#byCall.set(unit.call, (mine = new Set()));
        mine.add(flight);
        flights.push(flight);
      }
      if (flights.length > 0) this.#add(backend, flights);
    }
    this.#watch();
    this.#maybeFinish();
  }

  /** Gives each flight a fresh job id and adds the jobs in one round trip. */
  #add(backend: Backend, flights: Flight[]): void {
    const jobs = flights.map((f) => {
      const id = `${this.#prefix}${++this.#seq}`;
      f.ids.push(id);
      f.added = false;
      this.#byId.set(id, f);
      const opts: JobsOptions = { jobId: id, attempts: 1, removeOnComplete: true, removeOnFail: { age: 24 * 3600, count: 1000 } };
      return { name: f.data.t.name === "" ? "anonymous" : f.data.t.name, data: f.data, opts };
    });
    void this.#track(
      backend.queue.addBulk(jobs).then(
        () => {
          for (const f of flights) f.added = true;
          this.#contact();
          // Calls that settled while their jobs were on the way (abort, terminate) remove them now.
          void this.#remove(flights.filter((f) => f.unit.done).flatMap((f) => f.ids));
        },
        (err: unknown) => {
          if (this.#stopping) return;
          const error = new ProcessError(`Redis refused the task: ${err instanceof Error ? err.message : String(err)}`, { code: ErrorCodes.REDIS, cause: err });
          for (const f of flights) this.#settle(f, (unit) => unit.call.onError(unit, error, undefined, 0));
        },
      ),
    );
  }

  /** Keeps track of a Redis operation that terminate() should let finish (briefly) before closing. */
  #track(p: Promise<unknown>): Promise<unknown> {
    this.#ops.add(p);
    void p.finally(() => this.#ops.delete(p));
    return p;
  }

  /** Waits for the adds and removals under way, and for the removals they lead to. */
  async #settleOps(): Promise<void> {
    while (this.#ops.size > 0) await Promise.allSettled([...this.#ops]);
  }

  #drop(f: Flight): void {
    this.#flights.delete(f);
    const mine = this.#byCall.get(f.unit.call);
    mine?.delete(f);
    if (mine?.size === 0) this.#byCall.delete(f.unit.call);
    for (const id of f.ids) this.#byId.delete(id);
  }

  /** Ends a flight once: later answers about it (another delivery, a stale event) are ignored. */
  #settle(f: Flight, deliver: (unit: Unit) => void): void {
    this.#drop(f);
    if (f.unit.done) return;
    f.unit.done = true;
    deliver(f.unit);
    this.wake();
  }

  // ---- answers (the queue's event stream) ----

  #completed(jobId: string, returnvalue: unknown): void {
    if (!jobId.startsWith(this.#prefix)) return; // another pool's job
    const f = this.#byId.get(jobId);
    if (f === undefined || f.fetching) return;
    this.#contact();
    if (typeof returnvalue === "string" && returnvalue.startsWith(OUTCOME_REF)) {
      this.#fetchOutcome(f, jobId, returnvalue.slice(OUTCOME_REF.length));
      return;
    }
    this.#settle(f, (unit) => {
      let outcome;
      try {
        outcome = decodeOutcome(returnvalue);
      } catch (err) {
        unit.call.onError(unit, err, undefined, 0);
        return;
      }
      const worker: WorkerIdentity = { name: outcome.worker, pid: outcome.pid, threadId: 0 };
      this.#stats.add(worker, unit.count, outcome.busy);
      if (outcome.ok) unit.call.onResult(unit, outcome.value, worker, outcome.busy);
      else unit.call.onError(unit, taskError(reviveClass(outcome.value), worker), worker, outcome.busy);
    });
  }

  /** A large outcome waits in a key of its own (wire.ts): take it, then settle as usual. */
  #fetchOutcome(f: Flight, jobId: string, key: string): void {
    const redis = this.#redis;
    if (redis === undefined) return;
    f.fetching = true;
    redis
      .multi()
      .get(key)
      .del(key)
      .exec()
      .then(
        (replies) => {
          f.fetching = false;
          const value = replies?.[0]?.[1];
          if (typeof value === "string") {
            this.#completed(jobId, value);
            return;
          }
          const error = new ProcessError(`the outcome of job ${jobId} expired in Redis before this pool took it`, { code: ErrorCodes.PROTOCOL });
          this.#settle(f, (unit) => unit.call.onError(unit, error, undefined, 0));
        },
        (err: unknown) => {
          f.fetching = false;
          this.#lastError = err;
          // The connection went: the look-up after the reconnection finds the job again (and
          // runs it again if its outcome is out of reach). Redis refusing is this task's failure.
          if (redis.status !== "ready") return;
          const error = new ProcessError(`Redis refused the outcome of job ${jobId}: ${err instanceof Error ? err.message : String(err)}`, { code: ErrorCodes.REDIS, cause: err });
          this.#settle(f, (unit) => unit.call.onError(unit, error, undefined, 0));
        },
      );
  }

  #failed(jobId: string, reason: string): void {
    if (!jobId.startsWith(this.#prefix)) return;
    const f = this.#byId.get(jobId);
    if (f === undefined) return;
    this.#contact();
    const error = STALLED.test(reason)
      ? new WorkerLostError(`the worker nodes running this task were lost more often than their stalled-job limit allows (BullMQ: ${reason})`)
      : new RemoteError(`BullMQ failed the task's job ${jobId}: ${reason}`);
    this.#settle(f, (unit) => unit.call.onError(unit, error, undefined, 0));
  }

  /** After a reconnection: the state of every confirmed job, straight from Redis. */
  async #reconcile(): Promise<void> {
    const backend = this.#backend;
    if (backend === undefined) return;
    const flights = [...this.#flights].filter((f) => f.added);
    const lost: Flight[] = [];
    for (let i = 0; i < flights.length; i += RECONCILE_BATCH) {
      const batch = flights.slice(i, i + RECONCILE_BATCH);
      let jobs;
      try {
        jobs = await Promise.all(batch.map((f) => backend.queue.getJob(f.ids.at(-1)!)));
      } catch {
        return; // the connection went again; the next reconnection looks again
      }
      batch.forEach((f, k) => {
        if (!this.#flights.has(f)) return;
        const job = jobs[k];
        const id = f.ids.at(-1)!;
        if (job === undefined || job === null) lost.push(f);
        else if (job.finishedOn !== undefined && typeof job.failedReason === "string" && job.failedReason !== "") this.#failed(id, job.failedReason);
        else if (job.finishedOn !== undefined) this.#completed(id, job.returnvalue);
      });
    }
    // Gone without a trace we saw (Redis restarted empty, or the result was trimmed from the
    // stream and removed): run again. The old ids stay mapped, so a late event still counts.
    const again = lost.filter((f) => this.#flights.has(f) && !f.unit.done);
    if (again.length > 0 && this.#backend !== undefined && !this.#stopping) this.#add(this.#backend, again);
  }

  // ---- health ----

  #contact(): void {
    this.#lastContact = Date.now();
  }

  /** Work that waits on Redis. */
  #busy(): boolean {
    return this.#flights.size > 0 || this.#preparing > 0 || this.#calls.some((c) => !c.exhausted);
  }

  /** Runs the watchdog while work waits on Redis: it pings, and gives up after connectionTimeout of silence. */
  #watch(): void {
    const busy = this.#busy() && this.#state !== "terminated" && this.#state !== "broken";
    if (busy && this.#health === undefined) {
      this.#contact(); // the time limit counts from when someone began to wait
      const tick = Math.max(10, Math.min(250, this.#o.connectionTimeout / 4));
      this.#health = setInterval(() => this.#checkHealth(), tick);
      this.#health.unref();
    } else if (!busy && this.#health !== undefined) {
      clearInterval(this.#health);
      this.#health = undefined;
    }
  }

  #seen(id: string): void {
    if (compareIds(id, this.#lastSeen) > 0) this.#lastSeen = id;
  }

  /**
   * Redis trims the event stream (BullMQ keeps ~10,000 events): a pool that fell that far behind
   * (a long busy stretch of its event loop) would never hear of the trimmed completions. When the
   * stream's oldest entry is newer than the newest event we read (or the stream is empty though
   * events were added after it), events we had not read may be gone: we ask Redis for the state
   * of our jobs, as after a reconnection. A false alarm (a brand-new stream) costs one look-up.
   */
  #checkGap(backend: Backend): void {
    this.#lastGapCheck = Date.now();
    this.#gapChecking = true;
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
          if (behind !== undefined && compareIds(behind, this.#lastSeen) > 0) {
            this.#lastSeen = behind;
            void this.#reconcile();
          }
        },
        () => undefined, // no stream yet: nothing was trimmed
      )
      .finally(() => (this.#gapChecking = false));
  }

  #checkHealth(): void {
    const backend = this.#backend;
    if (backend !== undefined && this.#flights.size > 0 && !this.#gapChecking && Date.now() - this.#lastGapCheck >= GAP_CHECK_MS) this.#checkGap(backend);
    const redis = this.#redis;
    if (redis !== undefined && !this.#pinging && Date.now() - this.#lastContact >= Math.min(PING_MS, this.#o.connectionTimeout / 2)) {
      this.#pinging = true;
      redis.ping().then(
        () => {
          this.#pinging = false;
          this.#contact();
        },
        (err: unknown) => {
          this.#pinging = false;
          this.#lastError = err;
        },
      );
    }
    if (Date.now() - this.#lastContact > this.#o.connectionTimeout) {
      this.#failAll(unavailable(this.#o.target, this.#o.connectionTimeout, this.#lastError));
      this.#contact();
    }
  }

  // ---- failure and lifetime ----

  /** Fails every call with work pending; returns the ids of its jobs Redis confirmed (the others are removed when their add returns). */
  #failAll(error: unknown): string[] {
    const calls = new Set<Call>(this.#calls);
    const ids: string[] = [];
    for (const f of this.#flights) {
      calls.add(f.unit.call);
      f.unit.done = true;
      if (f.added) ids.push(...f.ids);
    }
    this.#flights.clear();
    this.#byId.clear();
    this.#byCall.clear();
    this.#calls = [];
    for (const call of calls) call.fail(error);
    this.#watch();
    return ids;
  }

  #break(error: ProcessError): void {
    this.#state = "broken";
    this.#error = error;
    this.#failAll(error);
    this.#settleJoin();
  }

  /** Removes jobs no node took yet (a running job is locked, and BullMQ refuses: it ends unheard). */
  #remove(ids: string[]): Promise<unknown> {
    const queue = this.#backend?.queue;
    if (queue === undefined || ids.length === 0) return Promise.resolve();
    return this.#track(Promise.allSettled(ids.map((id) => queue.remove(id))));
  }

  #maybeFinish(): void {
    if (this.#state === "closed" && !this.#busy()) this.#settleJoin();
  }

  close(): void {
    if (this.#state !== "running") return;
    this.#state = "closed";
    this.#maybeFinish();
  }

  terminate(): Promise<void> {
    if (this.#state !== "terminated" && this.#state !== "broken") {
      this.#state = "terminated";
      const ids = this.#failAll(new StateError("the pool was terminated before this task finished", { code: ErrorCodes.POOL_TERMINATED }));
      // Jobs already in Redis go now; those still on their way go when their add returns.
      void this.#remove(ids);
      this.#shutdown ??= withTimeout(this.#settleOps(), CLOSE_WAIT_MS).then(() => this.#closeBackend());
    }
    return this.join();
  }

  join(): Promise<void> {
    if (this.#state === "running") {
      return Promise.reject(new StateError("close() or terminate() the pool before join()", { code: ErrorCodes.POOL_RUNNING }));
    }
    const p = new Promise<void>((resolve) => this.#joiners.push(resolve));
    this.#settleJoin();
    return p;
  }

  #settleJoin(): void {
    if (this.#state === "running" || (this.#state === "closed" && this.#busy())) return;
    this.#shutdown ??= this.#closeBackend();
    void this.#shutdown.then(() => {
      const joiners = this.#joiners;
      this.#joiners = [];
      for (const resolve of joiners) resolve();
    });
  }

  /** Closes the connections (never waits long: Redis may be gone). */
  async #closeBackend(): Promise<void> {
    this.#stopping = true;
    if (this.#health !== undefined) clearInterval(this.#health);
    this.#health = undefined;
    const backend = this.#backend;
    this.#backend = undefined;
    if (backend !== undefined) {
      await withTimeout(Promise.allSettled([backend.events.close(), backend.queue.close()]), CLOSE_WAIT_MS);
    }
    this.#redis?.disconnect();
    this.#redis = undefined;
  }

  // ---- statistics and nodes ----

  stats(): WorkerStats[] {
    return this.#stats.snapshot();
  }

  /** The names BullMQ workers on this queue registered with (CLIENT LIST); waits for the connection. */
  async workerNames(): Promise<string[]> {
    const late = () => unavailable(this.#o.target, this.#o.connectionTimeout, this.#lastError);
    const backend = this.#backend ?? (await withTimeout(this.#ready, this.#o.connectionTimeout, late));
    if (backend === undefined || this.#stopping) throw this.refusal() ?? new StateError("the pool is shut down", { code: ErrorCodes.CLOSED });
    const workers = await withTimeout(backend.queue.getWorkers(), this.#o.connectionTimeout, late);
    return (workers ?? []).map((w) => {
      const raw = (w as { rawname?: unknown }).rawname ?? w.name;
      return typeof raw === "string" ? raw : "";
    });
  }
}

/** `p`, or after `ms` either undefined or the error `late` makes. */
function withTimeout<T>(p: Promise<T>, ms: number, late?: () => Error): Promise<T | undefined> {
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
