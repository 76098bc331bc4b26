// The child side of a Pool: the loop each worker runs (as the target of a Process). It reads
// batches of tasks from its task ring, begins them one at a time in arrival order, and publishes
// each result as soon as the task ends (protocol.ts has the diagram). Only this file runs in
// workers; the parent side is pool.ts and worker-handle.ts. What a task sees of itself
// (currentTask) is task-contexts.ts.
import { AbortError } from "../abort.js";
import { ErrorCodes, plainError, ProcessError, StateError } from "../errors.js";
import { setBootstrapping } from "../runtime.js";
import type { SharedMemory } from "../shared/shared-memory.js";
import type { TargetDescriptor } from "../target.js";
import { reviveTarget } from "../target-revive.js";
import { Spinner } from "../native/spin.js";
import { RingReader, RingWriter } from "../transport/ring.js";
import { FrameReader, FrameWriter } from "./codec.js";
import { Fifo } from "./fifo.js";
import {
  CONTROL_BYTES,
  decodeBatch,
  encodeReply,
  PARENT_WAITING,
  RESULT_RING_OFFSET,
  STARTED,
  TASK_RING_OFFSET,
  TASK_TIMED,
  type FromWorker,
  type TaskMessage,
  type ToWorker,
  type WorkerConfig,
} from "./protocol.js";
import { openWake, ringWake } from "../transport/wake.js";
import { TaskContexts } from "./task-contexts.js";
import { isThenable, runTask, type AnyFunction } from "./task-run.js";
import { memoryInUse } from "./worker-memory.js";


/** How long an idle worker blocks in a synchronous wait before it waits asynchronously. */
const IDLE_SYNC_MS = 5;
/**
 * How long a worker that ran out of tasks stays awake looking for the next one before it sleeps.
 * These machines are VMs whose idle cores halt: a futex wake-up of a sleeping worker costs 25-50 us
 * there (20,000 thread ping-pongs: 53 us per round trip with plain waits, 1.3 us with a 5 us spin),
 * which was most of an apply's round trip. A caller that submits one task at a time comes back
 * within tens of microseconds; one that stopped costs the worker this much CPU once, after which
 * the Spinner halves the budget each time it ends in sleep.
 */
const LINGER_MS = 0.25;

interface QueuedTask extends TaskMessage {
  cancelled: boolean;
}

/** Imports (or rebuilds) a target; a child importing user code must not start processes meanwhile. */
async function revive(d: TargetDescriptor): Promise<AnyFunction> {
  setBootstrapping(true);
  try {
    return await reviveTarget(d);
  } finally {
    setBootstrapping(false);
  }
}

/** How often a watcher looks at the task ring while tasks run (a cancel reaches a task this late at most). */
const WATCH_POLL_MS = 2;
/** Milliseconds between two looks at the worker's memory (a look reads /proc: microseconds). */
const MEMORY_CHECK_MS = 10;

class Worker {
  readonly #control: Int32Array;
  readonly #tasks: RingReader;
  readonly #results: RingWriter;
  readonly #out = new FrameWriter(1 << 16);
  /** Decodes task payloads: they lie in their batch's frame, so one reader serves a whole batch. */
  readonly #in = new FrameReader(new Uint8Array(0));
  readonly #queue = new Fifo<QueuedTask>();
  readonly #pending = new Map<number, Promise<AnyFunction>>();
  readonly #targets = new Map<number, AnyFunction>();
  readonly #idle = new Spinner(LINGER_MS);
  readonly #hasTask = (): boolean => this.#tasks.available();
  readonly #contexts: TaskContexts;
  readonly #concurrency: number;
  readonly #maxMemory: number;
  #init: TargetDescriptor | null | undefined = undefined;
  #finalizer: TargetDescriptor | null = null;
  #stopping = false;
  /** The parent said terminate (or is gone): abort what runs, begin nothing more. */
  #terminating = false;
  /** No task is begun any more (maxTasksPerChild reached, memory over its limit): exit once the running ones end. */
  #retiring = false;
  #started = 0;
  #wakeFd = -1;
  /** Tasks running asynchronously outside the loop (concurrency above 1). */
  #running = 0;
  /** Async tasks in progress, outside the loop or awaited by it. */
  #busy = 0;
  /** Resolves the loop's wait while tasks run outside it. */
  #woken: (() => void) | undefined;
  #watcher: { stopped: boolean } | undefined;
  #memoryCheckAt = 0;

  constructor(buffer: SharedArrayBuffer, config: WorkerConfig) {
    this.#control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    this.#tasks = new RingReader(buffer, TASK_RING_OFFSET);
    this.#results = new RingWriter(buffer, RESULT_RING_OFFSET);
    this.#concurrency = config.concurrency;
    this.#maxMemory = config.maxMemory;
    this.#contexts = new TaskContexts(this.#control, config.concurrency > 1, (id, value) => this.#emit(id, value), () => this.#watch());
  }

  // A reply larger than the room left goes in fragments: before waiting for room, the parent must
  // hear of those published, or it would sleep on its pipe while this waits for it to read.
  readonly #ringParent = (): void => {
    if (this.#wakeFd >= 0 && Atomics.load(this.#control, PARENT_WAITING) !== 0 && Atomics.exchange(this.#control, PARENT_WAITING, 0) !== 0) {
      ringWake(this.#wakeFd);
    }
  };

  readonly #sendOptions = { beforeWait: this.#ringParent };

  #reply(m: FromWorker): void {
    this.#results.sendSync(encodeReply(this.#out, m), this.#sendOptions);
    this.#ringParent();
  }

  #emit(id: number, value: unknown): void {
    this.#reply({ kind: "event", id, value });
  }

  #accept(messages: ToWorker[]): void {
    for (const m of messages) {
      switch (m.kind) {
        case "init":
          this.#init = m.initializer;
          this.#finalizer = m.finalizer;
          break;
        case "target": {
          const p = revive(m.target);
          p.then((fn) => this.#targets.set(m.id, fn), () => undefined);
          this.#pending.set(m.id, p);
          break;
        }
        case "task":
          // Field by field: an object spread with one more key costs ~0.5 us here.
          this.#queue.push({ kind: m.kind, id: m.id, target: m.target, mode: m.mode, flags: m.flags, payload: m.payload, cancelled: false });
          break;
        case "cancel":
          // Not begun: skipped when its turn comes. Running: its signal aborts (currentTask).
          for (const t of this.#queue) if (t.id === m.id) t.cancelled = true;
          this.#contexts.abort(m.id, () => new AbortError("the call was cancelled"));
          break;
        case "stop":
          this.#stopping = true;
          break;
        case "terminate":
          this.#stopping = true;
          this.#terminating = true;
          this.#contexts.abortAll(() => new StateError("the pool was terminated", { code: ErrorCodes.POOL_TERMINATED }));
          break;
      }
    }
  }

  #drain(): void {
    for (let frame = this.#tasks.tryRecv(); frame !== undefined; frame = this.#tasks.tryRecv()) this.#accept(decodeBatch(frame));
  }

  /**
   * Waits for the next frame; false at EOF (the parent is gone). An idle worker first waits
   * synchronously for a moment: the futex wakes this very thread (~4 us), where an asynchronous
   * wait needs the waiter thread and then the event loop, two hops that cost tens of microseconds
   * on a busy machine. After IDLE_SYNC_MS it waits asynchronously, so the worker's own timers and
   * I/O (set up by an initializer, say) run while it stays idle.
   */
  async #next(): Promise<boolean> {
    try {
      this.#idle.spin(this.#hasTask);
      try {
        this.#accept(decodeBatch(this.#tasks.recvSync({ timeout: IDLE_SYNC_MS })));
        return true;
      } catch (err) {
        if ((err as ProcessError).code !== ErrorCodes.TIMEOUT) throw err;
      }
      this.#accept(decodeBatch(await this.#tasks.recv()));
      return true;
    } catch (err) {
      if ((err as ProcessError).code === ErrorCodes.EOF) return false;
      throw err;
    }
  }

  /**
   * Reads frames while a task runs (the loop itself awaits it, or waits for one of several to
   * end), so that a cancel or terminate reaches a running task's signal and more tasks arrive for
   * a concurrency above 1. Started only for tasks that hold their context or run concurrently:
   * other tasks never pay for it. Stops once no task runs.
   */
  #watch(): void {
    if (this.#watcher !== undefined || this.#busy === 0) return;
    const watch = { stopped: false };
    this.#watcher = watch;
    void (async () => {
      while (!watch.stopped) {
        // A timer, not a native wait: a native async wait still pending when a thread worker is
        // terminated settles into a terminating isolate and aborts the whole process
        // (waiter.cc's OnAsync resolves with Check()). Seen with pool-cancel.test.ts.
        await new Promise((resolve) => setTimeout(resolve, WATCH_POLL_MS));
        if (watch.stopped) return;
        let closed = false;
        try {
          closed = !this.#tasks.available() && this.#tasks.isClosed();
        } catch {
          closed = true;
        }
        if (closed) {
          // EOF: the parent is gone; what runs sees its signal abort.
          this.#accept([{ kind: "terminate" }]);
          this.#woken?.();
          return;
        }
        if (!this.#tasks.available()) continue;
        this.#drain();
        this.#woken?.();
      }
    })();
  }

  #unwatch(): void {
    if (this.#busy > 0 || this.#watcher === undefined) return;
    this.#watcher.stopped = true;
    this.#watcher = undefined;
  }

  /** Runs the initializer; false (after telling the parent) if it failed. */
  async #start(config: WorkerConfig): Promise<boolean> {
    const initargs = config.initargs;
    while (this.#init === undefined) if (!(await this.#next())) return false;
    try {
      if (this.#init !== null) {
        const fn = await revive(this.#init);
        const r = fn(...initargs);
        if (isThenable(r)) await r;
      }
    } catch (err) {
      this.#sendError({ kind: "init-failed", error: err });
      return false;
    }
    this.#wakeFd = openWake(config.wake);
    this.#reply({ kind: "ready", wake: this.#wakeFd >= 0 });
    return true;
  }

  #sendError(m: Extract<FromWorker, { error: unknown }>): void {
    try {
      this.#reply(m);
    } catch {
      this.#reply({ ...m, error: plainError(m.error) });
    }
  }

  async run(config: WorkerConfig): Promise<void> {
    if (!(await this.#start(config))) return;
    let done = 0;
    const contexts = this.#contexts;
    for (;;) {
      this.#drain();
      if (this.#terminating) break;
      const task = this.#running < this.#concurrency && !this.#retiring ? this.#queue.shift() : undefined;
      if (task === undefined) {
        if (this.#running > 0) {
          await new Promise<void>((resolve) => (this.#woken = resolve));
          this.#woken = undefined;
          continue;
        }
        if (this.#retiring || this.#stopping || !(await this.#next())) break;
        continue;
      }
      Atomics.store(this.#control, STARTED, ++this.#started);
      if (config.maxTasks > 0 && ++done >= config.maxTasks) this.#retiring = true;
      if (task.cancelled) {
        this.#reply({ kind: "skipped", id: task.id });
        continue;
      }
      if ((task.flags & TASK_TIMED) !== 0) this.#reply({ kind: "started", id: task.id, at: performance.timeOrigin + performance.now() });
      const begin = performance.now();
      let value: unknown;
      try {
        const fn = this.#targets.get(task.target) ?? (await this.#pending.get(task.target));
        if (fn === undefined) throw new ProcessError(`unknown target #${task.target}`, { code: ErrorCodes.TARGET_NOT_FOUND });
        if (contexts.concurrent) {
          value = contexts.run(task.id, task.flags, () => runTask(fn, task, this.#in));
        } else {
          // No closure per task: the task is current from here until contexts.end().
          contexts.enter(task.id, task.flags);
          value = runTask(fn, task, this.#in);
        }
      } catch (err) {
        contexts.end(task.id);
        this.#sendError({ kind: "error", id: task.id, busy: performance.now() - begin, error: err });
        this.#checkMemory();
        continue;
      }
      if (!isThenable(value)) {
        contexts.end(task.id);
        this.#result(task.id, performance.now() - begin, value, task.mode !== "apply");
        this.#checkMemory();
        continue;
      }
      this.#busy++;
      if (this.#concurrency === 1) {
        // One task at a time: await it here (a task that holds its context gets a watcher).
        if (contexts.holds(task.id)) this.#watch();
        try {
          value = await value;
          this.#result(task.id, performance.now() - begin, value, task.mode !== "apply");
        } catch (err) {
          this.#sendError({ kind: "error", id: task.id, busy: performance.now() - begin, error: err });
        }
        this.#busy--;
        contexts.end(task.id);
        this.#unwatch();
        this.#checkMemory();
        continue;
      }
      // Runs outside the loop, which meanwhile begins more tasks (up to the concurrency).
      this.#running++;
      this.#watch();
      Promise.resolve(value)
        .then(
          (v) => this.#result(task.id, performance.now() - begin, v, task.mode !== "apply"),
          (err: unknown) => this.#sendError({ kind: "error", id: task.id, busy: performance.now() - begin, error: err }),
        )
        .finally(() => {
          contexts.end(task.id);
          this.#running--;
          this.#busy--;
          this.#unwatch();
          this.#checkMemory();
          this.#woken?.();
        })
        .catch(() => undefined); // a reply that cannot be published: the parent sees the worker's end
    }
    // Tasks still running had their signal aborted (terminate); the parent kills after a grace.
    while (this.#running > 0) {
      await new Promise<void>((resolve) => (this.#woken = resolve));
      this.#woken = undefined;
    }
    await this.#finalize(config);
  }

  /** maxMemoryPerChild: past the limit, begin no more tasks (the parent sends the rest elsewhere). */
  #checkMemory(): void {
    if (this.#maxMemory === 0) return;
    const now = performance.now();
    if (now < this.#memoryCheckAt) return;
    this.#memoryCheckAt = now + MEMORY_CHECK_MS;
    if (memoryInUse() > this.#maxMemory) this.#retiring = true;
  }

  /** The finalizer runs as the worker retires; an error in it is reported here and ends nothing else. */
  async #finalize(config: WorkerConfig): Promise<void> {
    if (this.#finalizer === null) return;
    try {
      const fn = await revive(this.#finalizer);
      const r = fn(...config.finalargs);
      if (isThenable(r)) await r;
    } catch (err) {
      process.emitWarning(`the pool's finalizer failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, { code: "MULTIPROC_FINALIZER" });
    }
  }

  #result(id: number, busy: number, value: unknown, list: boolean): void {
    try {
      this.#reply({ kind: "result", id, busy, value, list });
    } catch (err) {
      if ((err as ProcessError).code !== ErrorCodes.UNSERIALIZABLE) throw err;
      const error = new ProcessError(`the task's result cannot be sent back to the pool: ${(err as Error).message}`, {
        code: ErrorCodes.UNSERIALIZABLE,
      });
      this.#reply({ kind: "error", id, busy, error });
    }
  }

  close(): void {
    this.#contexts.close();
    this.#results.close();
  }
}

/** The target of every pool worker process or thread. */
export async function runWorker(shm: SharedMemory, config: WorkerConfig): Promise<void> {
  const worker = new Worker(shm.buffer, config);
  try {
    await worker.run(config);
  } finally {
    worker.close();
  }
}
