// The Pool's engine: starts and replaces workers, hands units of work to them, routes answers to
// calls, and makes sure every unit ends (answered, failed with the worker, or timed out).
//
// Dispatch: a worker holds up to `depth` units, enough for ~PREFETCH_MS of work by the target's
// measured run time (1 until one has been measured, at least 2 for units under PAIR_MS, at most
// MAX_DEPTH), so a worker never idles waiting for its next task while long tasks are not hoarded
// by one worker. Units go to the accepting worker holding the fewest.
//
// Starting and replacing workers is worker-supply.ts; Pool.stats() is scheduler-stats.ts.
import type { HeapLimits, StartMethod } from "../backends/backend.js";
import { ErrorCodes, Full, type ProcessError, StateError, TimeoutError, WorkerLostError } from "../errors.js";
import type { TargetDescriptor } from "../target.js";
import { nativeError } from "../native/binding.js";
import { taskError } from "./errors.js";
import { Fifo } from "./fifo.js";
import { encodePayload, type ErrorMessage, type EventMessage, type ResultMessage, type SkippedMessage } from "./protocol.js";
import { poolStats } from "./scheduler-stats.js";
import { TaskLog, type PoolStats } from "./stats.js";
import { TargetTable } from "./target-table.js";
import type { Call, Engine, TargetEntry, Unit } from "./task.js";
import { WakePipe } from "../transport/wake.js";
import { POLL_MS, type Exit, type HandleEvents, type WorkerHandle } from "./worker-handle.js";
import { WorkerSupply } from "./worker-supply.js";

const PREFETCH_MS = 2;
const MAX_DEPTH = 1024;
/**
 * Units shorter than this are held at least two at a time, so a worker has its next one while it
 * runs one (one at a time, it idles for a round trip through the parent between units; the run
 * times measured are noisy on a busy machine). Longer ones are held one at a time, not hoarded.
 */
const PAIR_MS = 20;
/** A worker's batch goes out once it holds this many bytes: the worker starts on big chunks while the parent encodes the next. */
const FLUSH_BYTES = 32 * 1024;

export interface SchedulerOptions {
  processes: number;
  /** Workers kept when idle (elastic between this and `processes`). */
  minProcesses: number;
  /** Ms an idle worker above minProcesses lives. */
  idleTimeout: number;
  maxTasks: number;
  /** Bytes (maxMemoryPerChild), or 0. */
  maxMemory: number;
  concurrency: number;
  /** Tasks allowed to wait for a worker (maxQueue), or Infinity. */
  maxQueue: number;
  method: StartMethod;
  initializer: Promise<TargetDescriptor | null>;
  initargs: unknown[];
  finalizer: Promise<TargetDescriptor | null>;
  hasFinalizer: boolean;
  finalargs: unknown[];
  resourceLimits: ResourceLimits | undefined;
}

/**
 * A worker's own heap limits, named as worker_threads names them (MiB); process workers get the
 * matching V8 flags.
 *
 * @example
 * ```ts
 * import { Pool, type ResourceLimits } from "multiproc";
 * const limits: ResourceLimits = { maxOldGenerationSizeMb: 512 };
 * await using pool = new Pool({ processes: 4, resourceLimits: limits });
 * ```
 */
export type ResourceLimits = HeapLimits;

/** How long terminate() lets a worker run its finalizer, or a task watching its signal stop, before it is killed. */
const TERMINATE_GRACE_MS = 2000;

type State = "running" | "closed" | "terminated" | "broken";

export class Scheduler implements Engine, HandleEvents {
  readonly #o: SchedulerOptions;
  readonly #supply: WorkerSupply;
  /** The supply's set of live workers. */
  readonly #workers: Set<WorkerHandle>;
  #calls: Call[] = [];
  readonly #retry = new Fifo<Unit>();
  readonly #targets = new TargetTable();
  /** The pool-wide counts and times (each worker has its own record too). */
  readonly #record = new TaskLog();
  readonly #elastic: boolean;
  #idleTicker: NodeJS.Timeout | undefined;
  #state: State = "running";
  #error: ProcessError | undefined;
  #unitIds = 0;
  #preparing = 0;
  #dispatchQueued = false;
  #joiners: (() => void)[] = [];
  /** Awaited calls (AsyncResult waits, imap steps, callbacks): see #refresh. */
  #waiting = 0;
  #keepAlive: NodeJS.Timeout | undefined;
  readonly #wake: WakePipe | undefined;

  constructor(options: SchedulerOptions) {
    this.#o = options;
    this.#wake = WakePipe.open(() => {
      for (const h of this.#workers) void h.service();
    });
    this.#supply = new WorkerSupply(options, this.#wake?.target ?? null, this, {
      wanted: () => this.#state === "running" || this.#hasWork(),
      pristine: () => this.#unitIds === 0 && this.#state === "running",
      broken: (error) => this.#break(error),
      settle: () => this.#settleJoin(),
    });
    this.#workers = this.#supply.workers;
    // Process workers need the addon (their rings are shared memory) and Linux: without them the
    // pool starts broken, so every call rejects with why instead of a throw escaping (issue #22).
    const unavailable = options.method === "thread" ? undefined : nativeError('A Pool in the "process" context');
    this.#elastic = options.minProcesses < options.processes;
    if (unavailable !== undefined) this.#break(unavailable);
    else for (let i = 0; i < options.minProcesses; i++) this.#supply.spawn();
    if (this.#elastic && unavailable === undefined) {
      this.#idleTicker = setInterval(() => this.#retireIdle(), Math.max(10, Math.min(1000, options.idleTimeout / 4)));
      this.#idleTicker.unref();
    }
  }

  get state(): State {
    return this.#state;
  }

  /** Why new work is refused, or undefined if it is accepted. */
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
    return encodePayload(args);
  }

  // ---- targets ----

  /** The entry for `fn` if it is known already (the fast path), else undefined. */
  knownTarget(fn: object): TargetEntry | undefined {
    return this.#targets.known(fn);
  }

  target(fn: (...args: never[]) => unknown): Promise<TargetEntry> {
    return this.#targets.resolve(fn);
  }

  // ---- calls ----

  /** Counts calls accepted but not yet submitted (their function is being located). */
  preparing(delta: number): void {
    this.#preparing += delta;
  }

  /**
   * maxQueue: a Full error if `units` more tasks would leave more than maxQueue waiting for a
   * worker (beyond what free workers, and those the pool may still start, can begin now).
   */
  admit(units: number): ProcessError | undefined {
    const limit = this.#o.maxQueue;
    if (limit === Infinity) return undefined;
    const c = this.#o.concurrency;
    let waiting = this.#retry.length + this.#preparing;
    for (const call of this.#calls) waiting += call.queued();
    let free = (this.#o.processes - this.#workers.size) * c;
    for (const h of this.#workers) {
      if (h.state === "stopping" || h.state === "dead" || h.replaced) continue;
      const running = h.running;
      waiting += h.inflight.length - running;
      free += c - running;
    }
    if (waiting + units <= limit + Math.max(0, free)) return undefined;
    return new Full(`the pool's queue is full: ${waiting} tasks wait for a worker and maxQueue is ${limit}; wait for some to finish (or raise maxQueue)`);
  }

  /** Takes an accepted call (a pool closed meanwhile still runs it; a terminated one does not). */
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
    // Units of the call that a worker holds and has not begun are skipped there; a running one
    // sees its signal abort (currentTask), or with killOnAbort its worker is killed and replaced.
    for (const h of this.#workers) {
      let any = false;
      let i = 0;
      const running = call.kill ? h.running : 0;
      for (const unit of h.inflight) {
        if (unit.call === call && !unit.done) {
          if (i < running) {
            h.kill();
            any = false;
            break;
          }
          h.cancel(unit.id);
          any = true;
        }
        i++;
      }
      if (any) h.flush();
    }
    this.wake();
  }

  #take(): Unit | undefined {
    for (let unit = this.#retry.shift(); unit !== undefined; unit = this.#retry.shift()) {
      if (!unit.call.settled) return unit;
    }
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

  #depth(unit: Unit): number {
    const ema = unit.target.ema;
    if (ema === undefined) return 1;
    return Math.max(ema < PAIR_MS ? 2 : 1, Math.min(MAX_DEPTH, Math.floor(PREFETCH_MS / Math.max(ema, 1e-3))));
  }

  #dispatch(): void {
    this.#dispatchQueued = false;
    if (this.#state === "terminated" || this.#state === "broken") return;
    const accepting = [...this.#workers].filter((h) => h.accepting);
    const touched = new Set<WorkerHandle>();
    const concurrency = this.#o.concurrency;
    for (;;) {
      const unit = this.#take();
      if (unit === undefined) break;
      const measured = this.#depth(unit);
      const depth = measured > concurrency ? measured : concurrency;
      // A worker is refilled once it is down to half its depth, then up to its depth: tasks go
      // out in batches, not one frame per answered task.
      let best: WorkerHandle | undefined;
      for (const h of accepting) {
        const held = h.inflight.length;
        if (held >= depth || (held > depth >> 1 && !touched.has(h))) continue;
        if (best === undefined || held < best.inflight.length) best = h;
      }
      if (best === undefined) {
        this.#retry.unshift(unit);
        if (this.#elastic) this.#grow();
        break;
      }
      try {
        best.assign(unit);
      } catch (err) {
        // This unit's payload cannot be sent: it fails alone.
        unit.done = true;
        unit.call.onError(unit, err, undefined, 0);
        continue;
      }
      touched.add(best);
      if (best.pendingBytes >= FLUSH_BYTES) best.flush();
      if (this.#o.maxTasks > 0 && best.assigned >= this.#o.maxTasks) this.#supply.retire(best);
    }
    for (const h of touched) h.flush();
    this.#maybeStop();
  }

  // ---- elastic pools (minProcesses, idleTimeout) ----

  /** Work waits and every worker is full: start workers up to `processes`, one per waiting unit. */
  #grow(): void {
    if (this.#state !== "running" && this.#state !== "closed") return;
    let starting = 0;
    for (const h of this.#workers) if (h.state === "starting") starting++;
    let waiting = this.#retry.length;
    for (const call of this.#calls) waiting += call.queued();
    while (this.#workers.size < this.#o.processes && starting < waiting) {
      const before = this.#workers.size;
      this.#supply.spawn();
      if (this.#workers.size === before) return; // failed: the supply backs off
      starting++;
    }
  }

  /** Stops workers above minProcesses that stayed idle for idleTimeout (their finalizer runs). */
  #retireIdle(): void {
    if (this.#state !== "running") return;
    const now = performance.now();
    let live = 0;
    for (const h of this.#workers) if (h.accepting) live++;
    for (const h of this.#workers) {
      if (!h.accepting) continue;
      if (h.inflight.length > 0 || h.answered !== h.idleAnswered) {
        h.idleSince = undefined;
        h.idleAnswered = h.answered;
        continue;
      }
      h.idleSince ??= now;
      if (live > this.#o.minProcesses && now - h.idleSince >= this.#o.idleTimeout) {
        h.replaced = true; // no successor
        h.stop();
        live--;
      }
    }
  }

  // ---- worker events ----

  ready(_h: WorkerHandle): void {
    this.#supply.ready();
    this.wake();
  }

  drained(_h: WorkerHandle): void {
    this.wake();
  }

  expectSoon(h: WorkerHandle): boolean {
    const ema = h.inflight.peek()?.target.ema;
    return ema !== undefined && ema < POLL_MS;
  }

  started(h: WorkerHandle, unit: Unit, at: number): void {
    if (unit.timeout === undefined || unit.done) return;
    const left = unit.timeout - (performance.timeOrigin + performance.now() - at);
    unit.timer = setTimeout(() => this.#timedOut(h, unit), Math.max(0, left));
    unit.timer.unref();
  }

  #timedOut(h: WorkerHandle, unit: Unit): void {
    if (unit.done) return;
    unit.done = true;
    this.#record.failed++;
    // A running function cannot be stopped from outside: the worker goes, and a new one comes.
    h.kill();
    unit.call.onError(unit, new TimeoutError(`the task did not finish within ${unit.timeout} ms of its start; its worker (${h.name}) was stopped`), h, unit.timeout ?? 0);
  }

  event(_h: WorkerHandle, unit: Unit, m: EventMessage): void {
    if (!unit.done) unit.call.onEvent(unit, m.value);
  }

  reply(h: WorkerHandle, unit: Unit, m: ResultMessage | ErrorMessage | SkippedMessage): void {
    if (unit.timer !== undefined) clearTimeout(unit.timer);
    if (unit.done) return;
    unit.done = true;
    if (m.kind === "skipped") return;
    const t = unit.target;
    t.ema = t.ema === undefined ? m.busy : t.ema * 0.8 + m.busy * 0.2;
    const ok = m.kind === "result";
    this.#record.ended(h.record, ok, unit.count, m.busy, h.readAt - m.busy - unit.call.submittedAt);
    if (ok) unit.call.onResult(unit, m.value, h, m.busy);
    else unit.call.onError(unit, taskError(m.error, h), h, m.busy);
  }

  exited(h: WorkerHandle, exit: Exit): void {
    this.#workers.delete(h);
    // Never begun: first in line elsewhere, in their original order.
    for (let i = exit.unsent.length - 1; i >= 0; i--) {
      const unit = exit.unsent[i]!;
      if (!unit.done && !unit.call.settled) this.#retry.unshift(unit);
    }
    for (const unit of exit.lost) {
      if (unit.timer !== undefined) clearTimeout(unit.timer);
      if (unit.done) continue;
      unit.done = true;
      this.#record.failed++;
      const how = exit.code < 0 ? `was killed by signal ${-exit.code}` : `exited with code ${exit.code}`;
      unit.call.onError(unit, new WorkerLostError(`the worker running this task (${h.name}, pid ${h.pid}) ${how}`), undefined, 0);
    }
    if (this.#state === "terminated" || this.#state === "broken") {
      this.#settleJoin();
      return;
    }
    this.#supply.replace(h, exit.startError);
    this.wake();
    this.#settleJoin();
  }

  #break(error: ProcessError): void {
    this.#state = "broken";
    this.#error = error;
    this.#failAll(error);
  }

  #failAll(error: unknown, graceMs = 0): void {
    this.#supply.cancelRespawn();
    clearInterval(this.#idleTicker);
    const units = this.#retry.clear();
    const calls = new Set<Call>([...this.#calls, ...units.map((u) => u.call)]);
    for (const h of this.#workers) for (const u of h.inflight) calls.add(u.call);
    this.#calls = [];
    for (const call of calls) call.fail(error);
    for (const h of this.#workers) h.end(graceMs, this.#o.hasFinalizer);
    this.#refresh();
    this.#settleJoin();
  }

  /** Work that still needs a worker: units to retry, or calls with input left. */
  #hasWork(): boolean {
    return this.#preparing > 0 || this.#retry.length > 0 || this.#calls.some((c) => !c.exhausted);
  }

  // ---- lifetime ----

  waiting(delta: number): void {
    const idle = this.#waiting === 0;
    this.#waiting += delta;
    if (idle !== (this.#waiting === 0)) this.#refresh();
  }

  /**
   * Keeps the process alive while someone waits for a call's outcome or for join(), and only
   * then: workers are daemons, so a pool left open (or work nobody awaits) never keeps a program
   * alive, as in CPython, whose finalizers terminate such a pool at exit (issue #14). One ref'd
   * interval, toggled on the first and last waiter, as the in-flight count toggled it before.
   */
  #refresh(): void {
    const busy = this.#waiting > 0 || this.#joiners.length > 0;
    if (busy) {
      this.#keepAlive ??= setInterval(() => undefined, 1 << 30);
      this.#keepAlive.ref();
    } else {
      this.#keepAlive?.unref();
    }
  }

  #maybeStop(): void {
    if (this.#state !== "closed" || this.#hasWork()) return;
    for (const h of this.#workers) h.stop();
  }

  close(): void {
    if (this.#state !== "running") return;
    this.#state = "closed";
    clearInterval(this.#idleTicker);
    this.#maybeStop();
    this.#settleJoin();
  }

  terminate(): Promise<void> {
    if (this.#state !== "terminated" && this.#state !== "broken") {
      this.#state = "terminated";
      this.#failAll(new StateError("the pool was terminated before this task finished", { code: ErrorCodes.POOL_TERMINATED }), TERMINATE_GRACE_MS);
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
    if (this.#state === "running" || this.#workers.size > 0) {
      this.#refresh();
      return;
    }
    if (this.#state === "closed" && this.#hasWork()) return; // a respawn is on its way
    this.#supply.cancelRespawn();
    const joiners = this.#joiners;
    this.#joiners = [];
    for (const resolve of joiners) resolve();
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    this.#wake?.close();
  }

  // ---- statistics ----

  stats(): PoolStats {
    let queued = this.#retry.length + this.#preparing;
    for (const call of this.#calls) queued += call.queued();
    return poolStats(this.#workers, this.#record, queued);
  }
}
