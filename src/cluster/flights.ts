// The ClusterPool engine's jobs in Redis (engine.ts): each unit of work on its way is a flight,
// found by its call or by any job id it was submitted under. This file adds the jobs (in bulk,
// with our own ids), removes those a settled call no longer needs, routes each answer from the
// event stream to its flight exactly once (decoding the outcome, taking a large one from its own
// key), and after a possible loss of events asks Redis for the state of every job still awaited,
// submitting again the ones that vanished. Kept apart from the engine, which decides which units
// fly and when the pool lives or dies, and from link.ts, which holds the connection.
import { randomBytes } from "node:crypto";
import type { JobsOptions } from "bullmq";
import { ErrorCodes, ProcessError, RemoteError, WorkerLostError } from "../errors.js";
import { taskError } from "../pool/errors.js";
import type { StatsTable, WorkerIdentity } from "../pool/stats.js";
import type { Call, Unit } from "../pool/task.js";
import type { Backend, QueueLink } from "./link.js";
import { decodeEvent, decodeOutcome, OUTCOME_REF, reviveClass, type JobData } from "./wire.js";

/** One unit of work on its way through Redis; `ids` holds every job id it was submitted under. */
export interface Flight {
  unit: Unit;
  data: JobData;
  ids: string[];
  /** Redis confirmed the job (only confirmed jobs are looked up after a reconnection). */
  added: boolean;
  /** Its outcome is being taken from its own key. */
  fetching?: boolean;
}

/** BullMQ's reason when a job stalled more often than the node's maxStalledCount. */
const STALLED = /stalled more than allowable limit/;
const RECONCILE_BATCH = 200;

export class Flights {
  readonly #link: QueueLink;
  readonly #stats: StatsTable;
  /** Called when a flight settled: its place may go to another unit. */
  readonly #wake: () => void;
  readonly #prefix = `${randomBytes(6).toString("hex")}-`;
  readonly #flights = new Set<Flight>();
  /** The flights of each call, so that a call that settles finds its jobs at once. */
  readonly #byCall = new Map<Call, Set<Flight>>();
  readonly #byId = new Map<string, Flight>();
  #seq = 0;
  readonly #ops = new Set<Promise<unknown>>();

  constructor(link: QueueLink, stats: StatsTable, wake: () => void) {
    this.#link = link;
    this.#stats = stats;
    this.#wake = wake;
  }

  get size(): number {
    return this.#flights.size;
  }

  /** A unit takes off: it is tracked from now on (add() sends it). */
  open(unit: Unit, data: JobData): Flight {
    const flight: Flight = { unit, data, ids: [], added: false };
    this.#flights.add(flight);
    let mine = this.#byCall.get(unit.call);
    if (mine === undefined) this.#byCall.set(unit.call, (mine = new Set()));
    mine.add(flight);
    return flight;
  }

  /** A call settled: its flights end unheard; returns the ids of its jobs Redis confirmed. */
  release(call: Call): string[] {
    const ids: string[] = [];
    for (const f of this.#byCall.get(call) ?? []) {
      f.unit.done = true;
      this.#drop(f);
      if (f.added) ids.push(...f.ids);
    }
    return ids;
  }

  /** Ends every flight; returns their calls and the ids of their jobs Redis confirmed. */
  clear(): { calls: Call[]; ids: string[] } {
    const calls: Call[] = [];
    const ids: string[] = [];
    for (const f of this.#flights) {
      calls.push(f.unit.call);
      f.unit.done = true;
      if (f.added) ids.push(...f.ids);
    }
    this.#flights.clear();
    this.#byId.clear();
    this.#byCall.clear();
    return { calls, ids };
  }

  /** Gives each flight a fresh job id and adds the jobs in one round trip. */
  add(backend: Backend, flights: Flight[]): void {
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
          this.#link.contact();
          // Calls that settled while their jobs were on the way (abort, terminate) remove them now.
          void this.remove(flights.filter((f) => f.unit.done).flatMap((f) => f.ids));
        },
        (err: unknown) => {
          if (this.#link.stopping) return;
          const error = new ProcessError(`Redis refused the task: ${err instanceof Error ? err.message : String(err)}`, { code: ErrorCodes.REDIS, cause: err });
          for (const f of flights) this.#settle(f, (unit) => unit.call.onError(unit, error, undefined, 0));
        },
      ),
    );
  }

  /** Removes jobs no node took yet (a running job is locked, and BullMQ refuses: it ends unheard). */
  remove(ids: string[]): Promise<unknown> {
    const queue = this.#link.backend?.queue;
    if (queue === undefined || ids.length === 0) return Promise.resolve();
    return this.#track(Promise.allSettled(ids.map((id) => queue.remove(id))));
  }

  /** Keeps track of a Redis operation that terminate() should let finish (briefly) before closing. */
  #track(p: Promise<unknown>): Promise<unknown> {
    this.#ops.add(p);
    void p.finally(() => this.#ops.delete(p));
    return p;
  }

  /** Waits for the adds and removals under way, and for the removals they lead to. */
  async settleOps(): Promise<void> {
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
    this.#wake();
  }

  // ---- answers (the queue's event stream) ----

  completed(jobId: string, returnvalue: unknown): void {
    if (!jobId.startsWith(this.#prefix)) return; // another pool's job
    const f = this.#byId.get(jobId);
    if (f === undefined || f.fetching) return;
    this.#link.contact();
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

  /** A running job's task emitted a value (wire.ts: EventProgress): to its call's onEvent. */
  progress(jobId: string, data: unknown): void {
    if (!jobId.startsWith(this.#prefix)) return;
    const f = this.#byId.get(jobId);
    if (f === undefined || f.unit.done) return;
    let event;
    try {
      event = decodeEvent(data);
    } catch (err) {
      event = { value: err };
    }
    if (event !== undefined) f.unit.call.onEvent(f.unit, event.value);
  }

  /** A large outcome waits in a key of its own (wire.ts): take it, then settle as usual. */
  #fetchOutcome(f: Flight, jobId: string, key: string): void {
    const redis = this.#link.redis;
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
            this.completed(jobId, value);
            return;
          }
          const error = new ProcessError(`the outcome of job ${jobId} expired in Redis before this pool took it`, { code: ErrorCodes.PROTOCOL });
          this.#settle(f, (unit) => unit.call.onError(unit, error, undefined, 0));
        },
        (err: unknown) => {
          f.fetching = false;
          this.#link.noteError(err);
          // The connection went: the look-up after the reconnection finds the job again (and
          // runs it again if its outcome is out of reach). Redis refusing is this task's failure.
          if (redis.status !== "ready") return;
          const error = new ProcessError(`Redis refused the outcome of job ${jobId}: ${err instanceof Error ? err.message : String(err)}`, { code: ErrorCodes.REDIS, cause: err });
          this.#settle(f, (unit) => unit.call.onError(unit, error, undefined, 0));
        },
      );
  }

  failed(jobId: string, reason: string): void {
    if (!jobId.startsWith(this.#prefix)) return;
    const f = this.#byId.get(jobId);
    if (f === undefined) return;
    this.#link.contact();
    const error = STALLED.test(reason)
      ? new WorkerLostError(`the worker nodes running this task were lost more often than their stalled-job limit allows (BullMQ: ${reason})`)
      : new RemoteError(`BullMQ failed the task's job ${jobId}: ${reason}`);
    this.#settle(f, (unit) => unit.call.onError(unit, error, undefined, 0));
  }

  /** After a possible loss of events: the state of every confirmed job, straight from Redis. */
  async reconcile(): Promise<void> {
    const backend = this.#link.backend;
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
        else if (job.finishedOn !== undefined && typeof job.failedReason === "string" && job.failedReason !== "") this.failed(id, job.failedReason);
        else if (job.finishedOn !== undefined) this.completed(id, job.returnvalue);
      });
    }
    // Gone without a trace we saw (Redis restarted empty, or the result was trimmed from the
    // stream and removed): run again. The old ids stay mapped, so a late event still counts.
    const again = lost.filter((f) => this.#flights.has(f) && !f.unit.done);
    const now = this.#link.backend;
    if (again.length > 0 && now !== undefined && !this.#link.stopping) this.add(now, again);
  }
}
