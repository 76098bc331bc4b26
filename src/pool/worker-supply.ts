// The Pool's supply of workers: starting one (named PoolWorker-N, with the scheduler as its
// events), starting a successor for one that retires or dies, and backing off when workers cannot
// start (ERR_WORKER_START after START_TRIES failures in a row). Apart from scheduler.ts because
// none of it runs per task: the scheduler hands out work, this keeps the workers there.
import { ErrorCodes, ProcessError } from "../errors.js";
import type { WorkerConfig } from "./protocol.js";
import type { SchedulerOptions } from "./scheduler.js";
import { WorkerHandle, type HandleEvents } from "./worker-handle.js";

/** Consecutive start-up failures after which the pool gives up. */
const START_TRIES = 3;
const RESPAWN_DELAY_MS = 100;

let workerCounter = 0;

/** What the supply asks of its scheduler. */
export interface SupplyHooks {
  /** Whether a new worker is wanted (the pool runs, or has work left). */
  wanted(): boolean;
  /** Whether nothing was submitted yet to a running pool: a first failure then throws at once. */
  pristine(): boolean;
  /** Workers cannot start: the pool is broken with this error. */
  broken(error: ProcessError): void;
  /** A respawn timer fired (a joiner may be waiting for it). */
  settle(): void;
}

export class WorkerSupply {
  /** The live workers (the scheduler reads this set directly). */
  readonly workers = new Set<WorkerHandle>();
  readonly #o: SchedulerOptions;
  readonly #wake: WorkerConfig["wake"];
  readonly #events: HandleEvents;
  readonly #hooks: SupplyHooks;
  #startFailures = 0;
  #respawnTimer: NodeJS.Timeout | undefined;

  constructor(options: SchedulerOptions, wake: WorkerConfig["wake"], events: HandleEvents, hooks: SupplyHooks) {
    this.#o = options;
    this.#wake = wake;
    this.#events = events;
    this.#hooks = hooks;
  }

  spawn(): void {
    workerCounter++;
    try {
      const h = new WorkerHandle({
        method: this.#o.method,
        name: `PoolWorker-${workerCounter}`,
        config: {
          maxTasks: this.#o.maxTasks,
          initargs: this.#o.initargs,
          finalargs: this.#o.finalargs,
          concurrency: this.#o.concurrency,
          maxMemory: this.#o.maxMemory,
          wake: this.#wake,
        },
        resourceLimits: this.#o.resourceLimits,
        initializer: this.#o.initializer,
        finalizer: this.#o.finalizer,
        events: this.#events,
      });
      this.workers.add(h);
    } catch (err) {
      if (this.workers.size === 0 && this.#startFailures === 0 && this.#hooks.pristine()) throw err;
      this.#startFailed(err);
    }
  }

  /** A worker is ready: workers can start. */
  ready(): void {
    this.#startFailures = 0;
  }

  /** A worker that got its last task (maxTasksPerChild): start its successor now. */
  retire(h: WorkerHandle): void {
    h.replaced = true;
    if (this.#hooks.wanted()) this.spawn();
  }

  /** A worker died (and was removed from `workers`): its successor, or a back-off if it never started. */
  replace(h: WorkerHandle, startError: unknown): void {
    if (startError !== undefined) {
      this.#startFailed(startError);
    } else if (!h.replaced && this.#hooks.wanted()) {
      this.spawn();
    }
  }

  /** No respawn is to come (the pool ended). */
  cancelRespawn(): void {
    clearTimeout(this.#respawnTimer);
    this.#respawnTimer = undefined;
  }

  #startFailed(error: unknown): void {
    this.#startFailures++;
    if (this.#startFailures >= START_TRIES) {
      const detail = error instanceof Error ? error.message : String(error);
      this.#hooks.broken(
        new ProcessError(`pool workers failed to start ${this.#startFailures} times in a row: ${detail}`, {
          code: ErrorCodes.WORKER_START,
          cause: error,
        }),
      );
      return;
    }
    // Back off before the next try, so a worker that cannot start does not respawn in a storm.
    const delay = RESPAWN_DELAY_MS * 2 ** (this.#startFailures - 1);
    const timer = setTimeout(() => {
      if (this.#hooks.wanted()) this.spawn();
      this.#hooks.settle();
    }, delay);
    timer.unref();
    this.#respawnTimer = timer;
  }
}
