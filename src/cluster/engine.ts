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
//
// This file holds the Engine itself: which units fly (maxInFlight, payload limits), the calls'
// lifetime (close, terminate, join, a broken pool) and the watchdog. The jobs in Redis and the
// routing of answers are flights.ts; the connection and the event stream are link.ts.
import { ArgumentError, ErrorCodes, type ProcessError, StateError } from "../errors.js";
import { StatsTable, type WorkerStats } from "../pool/stats.js";
import { TargetTable } from "../pool/target-table.js";
import { payloadValue, type Call, type Engine, type TargetEntry, type Unit } from "../pool/task.js";
import { Flights, type Flight } from "./flights.js";
import { CLOSE_WAIT_MS, QueueLink, withTimeout, type Backend } from "./link.js";
import type { RedisTarget } from "./redis.js";
import { CANCEL_CHANNEL, encodeValue, toBase64, toWire, WIRE_VERSION, type JobData } from "./wire.js";

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

type State = "running" | "closed" | "terminated" | "broken";

export class ClusterEngine implements Engine {
  readonly #o: EngineSettings;
  readonly #targets = new TargetTable();
  readonly #stats = new StatsTable();
  #state: State = "running";
  #error: ProcessError | undefined;
  #calls: Call[] = [];
  readonly #link: QueueLink;
  readonly #flights: Flights;
  #unitIds = 0;
  #preparing = 0;
  #dispatchQueued = false;
  #health: NodeJS.Timeout | undefined;
  #joiners: (() => void)[] = [];
  #shutdown: Promise<void> | undefined;

  /** Settles with the backend once connected, or undefined if the engine stopped first. */
  readonly #ready: Promise<Backend | undefined>;

  constructor(settings: EngineSettings) {
    this.#o = settings;
    this.#link = new QueueLink(settings.target, settings.queue, settings.connectionTimeout, {
      stopped: () => this.#state === "broken",
      broke: (error) => this.#break(error),
      connected: () => this.wake(),
      recheck: () => void this.#flights.reconcile(),
      completed: (jobId, returnvalue) => this.#flights.completed(jobId, returnvalue),
      failed: (jobId, reason) => this.#flights.failed(jobId, reason),
      progress: (jobId, data) => this.#flights.progress(jobId, data),
    });
    this.#flights = new Flights(this.#link, this.#stats, () => this.wake());
    this.#ready = this.#link.start();
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
    // Jobs of a settled call that no node took yet are removed; the nodes running the others
    // abort their signal (wire.ts: CANCEL_CHANNEL), and their outcomes are ignored.
    const ids = this.#flights.release(call);
    if (ids.length > 0) {
      void this.#flights.remove(ids);
      const backend = this.#link.backend;
      backend?.redis.publish(backend.queue.toKey(CANCEL_CHANNEL), JSON.stringify(ids)).catch(() => undefined);
    }
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
      ...(unit.call.flags !== 0 ? { s: unit.call.flags } : {}),
    };
  }

  #dispatch(): void {
    this.#dispatchQueued = false;
    if (this.#state === "terminated" || this.#state === "broken") return;
    const backend = this.#link.backend;
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
        flights.push(this.#flights.open(unit, data));
      }
      if (flights.length > 0) this.#flights.add(backend, flights);
    }
    this.#watch();
    this.#maybeFinish();
  }

  // ---- health ----

  /** Work that waits on Redis. */
  #busy(): boolean {
    return this.#flights.size > 0 || this.#preparing > 0 || this.#calls.some((c) => !c.exhausted);
  }

  /** Runs the watchdog while work waits on Redis: it pings, and gives up after connectionTimeout of silence. */
  #watch(): void {
    const busy = this.#busy() && this.#state !== "terminated" && this.#state !== "broken";
    if (busy && this.#health === undefined) {
      this.#link.contact(); // the time limit counts from when someone began to wait
      const tick = Math.max(10, Math.min(250, this.#o.connectionTimeout / 4));
      this.#health = setInterval(() => this.#checkHealth(), tick);
      this.#health.unref();
    } else if (!busy && this.#health !== undefined) {
      clearInterval(this.#health);
      this.#health = undefined;
    }
  }

  #checkHealth(): void {
    if (this.#link.check(this.#flights.size > 0)) {
      this.#failAll(this.#link.unavailable());
      this.#link.contact();
    }
  }

  // ---- failure and lifetime ----

  /** Fails every call with work pending; returns the ids of its jobs Redis confirmed (the others are removed when their add returns). */
  #failAll(error: unknown): string[] {
    const calls = new Set<Call>(this.#calls);
    const flying = this.#flights.clear();
    for (const call of flying.calls) calls.add(call);
    this.#calls = [];
    for (const call of calls) call.fail(error);
    this.#watch();
    return flying.ids;
  }

  #break(error: ProcessError): void {
    this.#state = "broken";
    this.#error = error;
    this.#failAll(error);
    this.#settleJoin();
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
      void this.#flights.remove(ids);
      this.#shutdown ??= withTimeout(this.#flights.settleOps(), CLOSE_WAIT_MS).then(() => this.#closeBackend());
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

  /** Stops the watchdog and closes the connections (never waits long: Redis may be gone). */
  #closeBackend(): Promise<void> {
    if (this.#health !== undefined) clearInterval(this.#health);
    this.#health = undefined;
    return this.#link.close();
  }

  // ---- statistics and nodes ----

  stats(): WorkerStats[] {
    return this.#stats.snapshot();
  }

  /** The names BullMQ workers on this queue registered with (CLIENT LIST); waits for the connection. */
  async workerNames(): Promise<string[]> {
    const late = () => this.#link.unavailable();
    const backend = this.#link.backend ?? (await withTimeout(this.#ready, this.#o.connectionTimeout, late));
    if (backend === undefined || this.#link.stopping) throw this.refusal() ?? new StateError("the pool is shut down", { code: ErrorCodes.CLOSED });
    const workers = await withTimeout(backend.queue.getWorkers(), this.#o.connectionTimeout, late);
    return (workers ?? []).map((w) => {
      const raw = (w as { rawname?: unknown }).rawname ?? w.name;
      return typeof raw === "string" ? raw : "";
    });
  }
}
