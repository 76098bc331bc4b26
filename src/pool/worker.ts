// The child side of a Pool: the loop each worker runs (as the target of a Process). It reads
// batches of tasks from its task ring, runs them one at a time in arrival order, and publishes each
// result as soon as the task ends (protocol.ts has the diagram). Only this file runs in workers;
// the parent side is pool.ts and worker-handle.ts.
import { ErrorCodes, plainError, ProcessError } from "../errors.js";
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
  decodeValue,
  encodeReply,
  PARENT_WAITING,
  RESULT_RING_OFFSET,
  STARTED,
  TASK_RING_OFFSET,
  type FromWorker,
  type TaskMessage,
  type ToWorker,
  type WorkerConfig,
} from "./protocol.js";
import { openWake, ringWake } from "../transport/wake.js";

type AnyFunction = (...args: unknown[]) => unknown;

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

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return ((typeof v === "object" && v !== null) || typeof v === "function") && typeof (v as { then?: unknown }).then === "function";
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

function notArray(what: unknown): TypeError {
  return new TypeError(`starmap items must be arrays of arguments, got ${typeof what}`);
}

/** Runs fn over items one after another, staying synchronous until a call returns a promise. */
function runMany(fn: AnyFunction, items: unknown[], spread: boolean): unknown[] | Promise<unknown[]> {
  // Made at its size: filling it costs a third of growing it by push.
  const out = new Array<unknown>(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (spread && !Array.isArray(item)) throw notArray(item);
    const r = spread ? fn(...(item as unknown[])) : fn(item);
    if (isThenable(r)) return finishMany(fn, items, spread, out, i, r);
    out[i] = r;
  }
  return out;
}

async function finishMany(fn: AnyFunction, items: unknown[], spread: boolean, out: unknown[], at: number, pending: PromiseLike<unknown>): Promise<unknown[]> {
  out[at] = await pending;
  for (let i = at + 1; i < items.length; i++) {
    const item = items[i];
    if (spread && !Array.isArray(item)) throw notArray(item);
    out[i] = await (spread ? fn(...(item as unknown[])) : fn(item));
  }
  return out;
}

function runTask(fn: AnyFunction, task: TaskMessage, reader: FrameReader): unknown {
  // Decoded only now: a task skipped never revives its arguments, and one that cannot be decoded
  // (a segment already unlinked, say) fails alone.
  const payload = decodeValue(task.payload, reader) as unknown[];
  switch (task.mode) {
    case "apply":
      return fn(...payload);
    case "map":
      return runMany(fn, payload, false);
    case "starmap":
      return runMany(fn, payload, true);
  }
}

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
  #init: TargetDescriptor | null | undefined = undefined;
  #stopping = false;
  #started = 0;
  #wakeFd = -1;

  constructor(buffer: SharedArrayBuffer) {
    this.#control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    this.#tasks = new RingReader(buffer, TASK_RING_OFFSET);
    this.#results = new RingWriter(buffer, RESULT_RING_OFFSET);
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

  #accept(messages: ToWorker[]): void {
    for (const m of messages) {
      switch (m.kind) {
        case "init":
          this.#init = m.initializer;
          break;
        case "target": {
          const p = revive(m.target);
          p.then((fn) => this.#targets.set(m.id, fn), () => undefined);
          this.#pending.set(m.id, p);
          break;
        }
        case "task":
          // Field by field: an object spread with one more key costs ~0.5 us here.
          this.#queue.push({ kind: m.kind, id: m.id, target: m.target, mode: m.mode, timed: m.timed, payload: m.payload, cancelled: false });
          break;
        case "cancel":
          for (const t of this.#queue) if (t.id === m.id) t.cancelled = true;
          break;
        case "stop":
          this.#stopping = true;
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
    for (;;) {
      this.#drain();
      const task = this.#queue.shift();
      if (task === undefined) {
        if (this.#stopping || !(await this.#next())) return;
        continue;
      }
      Atomics.store(this.#control, STARTED, ++this.#started);
      if (task.cancelled) {
        this.#reply({ kind: "skipped", id: task.id });
        continue;
      }
      if (task.timed) this.#reply({ kind: "started", id: task.id, at: performance.timeOrigin + performance.now() });
      const begin = performance.now();
      try {
        const fn = this.#targets.get(task.target) ?? (await this.#pending.get(task.target));
        if (fn === undefined) throw new ProcessError(`unknown target #${task.target}`, { code: ErrorCodes.TARGET_NOT_FOUND });
        let value = runTask(fn, task, this.#in);
        if (isThenable(value)) value = await value;
        this.#result(task.id, performance.now() - begin, value, task.mode !== "apply");
      } catch (err) {
        this.#sendError({ kind: "error", id: task.id, busy: performance.now() - begin, error: err });
      }
      if (config.maxTasks > 0 && ++done >= config.maxTasks) return;
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
    this.#results.close();
  }
}

/** The target of every pool worker process or thread. */
export async function runWorker(shm: SharedMemory, config: WorkerConfig): Promise<void> {
  const worker = new Worker(shm.buffer);
  try {
    await worker.run(config);
  } finally {
    worker.close();
  }
}
