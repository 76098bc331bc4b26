// The parent's side of one pool worker: the Process running worker.ts, the segment with its two
// rings, the tasks it holds (in the order sent), and what happened when it died. Starting the
// worker and sorting out its end are in worker-launch.ts.
import type { StartMethod } from "../backends/backend.js";
import { corruptData, ErrorCodes } from "../errors.js";
import { kExited, type Process } from "../process.js";
import type { Segment } from "../shared/segment.js";
import type { SharedMemory } from "../shared/shared-memory.js";
import type { TargetDescriptor } from "../target.js";
import type { RingReader, RingWriter } from "../transport/ring.js";
import { FrameReader } from "./codec.js";
import { Fifo } from "./fifo.js";
import {
  BatchWriter,
  decodeReply,
  PARENT_WAITING,
  readReply,
  STARTED,
  TASK_TIMED,
  WATCHING,
  type ErrorMessage,
  type EventMessage,
  type FromWorker,
  type ResultMessage,
  type SkippedMessage,
  type WorkerConfig,
} from "./protocol.js";
import { WorkerRecord, type WorkerIdentity } from "./stats.js";
import type { ResourceLimits } from "./scheduler.js";
import type { Unit } from "./task.js";
import { discardLeftovers, launchWorker, sortHeld, startErrorOf, unlinkQuietly } from "./worker-launch.js";

/** See #poll. */
export const POLL_MS = 0.05;
/** The reader yields to the event loop at least this often while results keep coming. */
const YIELD_MS = 4;

export interface Exit {
  code: number;
  /** Tasks the worker had begun and not answered: they died with it. */
  lost: Unit[];
  /** Tasks the worker never began: they can run elsewhere. */
  unsent: Unit[];
  /** Set when the worker died before it was ready (its initializer failed, or it crashed). */
  startError: unknown;
}

export interface HandleEvents {
  ready(h: WorkerHandle): void;
  started(h: WorkerHandle, unit: Unit, at: number): void;
  reply(h: WorkerHandle, unit: Unit, message: ResultMessage | ErrorMessage | SkippedMessage): void;
  /** A running task emitted a value (currentTask().emit). */
  event(h: WorkerHandle, unit: Unit, message: EventMessage): void;
  /** A batch of frames was handled: there may be room for more tasks. */
  drained(h: WorkerHandle): void;
  /** Whether a result from `h` is due within POLL_MS (worth polling for). */
  expectSoon(h: WorkerHandle): boolean;
  exited(h: WorkerHandle, exit: Exit): void;
}

export interface HandleOptions {
  method: StartMethod;
  name: string;
  config: WorkerConfig;
  resourceLimits: ResourceLimits | undefined;
  initializer: Promise<TargetDescriptor | null>;
  finalizer: Promise<TargetDescriptor | null>;
  events: HandleEvents;
}

export type HandleState = "starting" | "ready" | "stopping" | "dead";

export class WorkerHandle implements WorkerIdentity {
  readonly name: string;
  readonly pid: number;
  readonly threadId: number;
  state: HandleState = "starting";
  /** Tasks sent and not answered, in the order sent (the order the worker runs them). */
  readonly inflight = new Fifo<Unit>();
  /** Tasks ever assigned (for maxTasksPerChild). */
  assigned = 0;
  /** Its replacement was already started (it is retiring after maxTasksPerChild), or none is wanted (idle above minProcesses). */
  replaced = false;
  /** Its counts and time summaries (Pool.stats()). */
  readonly record = new WorkerRecord();
  /** When it was last seen with nothing to do (idleTimeout), or undefined while busy. */
  idleSince: number | undefined;
  /** Answers counted when idleSince was set: a change means it worked in between. */
  idleAnswered = 0;
  readonly #events: HandleEvents;
  readonly #segment: Segment;
  #linked = true;
  readonly #control: Int32Array;
  readonly #reader: RingReader;
  readonly #writer: RingWriter;
  readonly #process: Process<[SharedMemory, WorkerConfig]>;
  readonly #stopReading = new AbortController();
  readonly #known = new Set<number>();
  readonly #batch = new BatchWriter();
  readonly #queue: Uint8Array[] = [];
  #answered = 0;
  /** Replies answer the oldest task in flight (concurrency 1), or any task in flight. */
  readonly #ordered: boolean;
  #killTimer: NodeJS.Timeout | undefined;
  #startError: unknown = undefined;
  #broken = false;
  /** The worker rings the parent's wake pipe: read on wake-ups (service), not by waiting on the ring. */
  #piped = false;
  #servicing = false;

  constructor(options: HandleOptions) {
    this.name = options.name;
    this.#events = options.events;
    this.#ordered = options.config.concurrency === 1;
    const launched = launchWorker(options.method, this.name, options.config, options.resourceLimits);
    this.#segment = launched.segment;
    this.#control = launched.control;
    this.#writer = launched.writer;
    this.#reader = launched.reader;
    this.#process = launched.process;
    this.pid = this.#process.pid ?? -1;
    this.threadId = this.#process.threadId ?? 0;
    Promise.all([options.initializer, options.finalizer]).then(
      ([initializer, finalizer]) => {
        this.#batch.init(initializer, finalizer);
        this.flush();
      },
      () => this.kill(),
    );
    // Not join(): that keeps the event loop alive, and an idle pool must not (issue #14).
    void this.#process[kExited]()?.then((code) => this.#onExit(code));
    void this.#readLoop();
  }

  /** Ready and not retiring: may be given tasks. */
  get accepting(): boolean {
    return this.state === "ready" && !this.replaced;
  }

  /** Bytes queued for the next flush. */
  get pendingBytes(): number {
    return this.#batch.bytes;
  }

  /** Queues a task for the next flush; throws (adding nothing) if its payload cannot be sent. */
  assign(unit: Unit): void {
    const t = unit.target;
    if (!this.#known.has(t.id)) {
      this.#batch.target(t.id, t.descriptor);
      this.#known.add(t.id);
    }
    this.#batch.task(unit.id, t.id, unit.mode, (unit.timeout !== undefined ? TASK_TIMED : 0) | unit.call.flags, unit.payload);
    this.inflight.push(unit);
    this.assigned++;
  }

  cancel(id: number): void {
    if (this.state !== "dead") this.#batch.cancel(id);
  }

  /** Answers read from it so far. */
  get answered(): number {
    return this.#answered;
  }

  /** Tasks it has begun and not answered (the first `running` of `inflight`). */
  get running(): number {
    return this.state === "dead" ? 0 : Math.max(0, Math.min(this.inflight.length, Atomics.load(this.#control, STARTED) - this.#answered));
  }

  /**
   * Ends it for terminate(). When it may still do something useful (run a finalizer, or a running
   * task holds its currentTask() and can see its signal abort) it is told to terminate and killed
   * after `graceMs`; otherwise it is killed at once.
   */
  end(graceMs: number, finalizes: boolean): void {
    if (this.state === "dead") return;
    if (graceMs <= 0 || (!finalizes && Atomics.load(this.#control, WATCHING) === 0)) {
      this.kill();
      return;
    }
    this.state = "stopping";
    this.#batch.terminate();
    this.flush();
    this.#killTimer ??= setTimeout(() => this.kill(), graceMs);
    this.#killTimer.unref();
  }

  /** Asks the worker to finish what it holds and exit. */
  stop(): void {
    if (this.state === "dead" || this.state === "stopping") return;
    this.state = "stopping";
    this.#batch.stop();
    this.flush();
  }

  kill(): void {
    if (this.state === "dead") return;
    try {
      this.#process.kill();
    } catch {
      // Already gone: the exit handler runs anyway.
    }
  }

  /** Sends what was queued: straight into the ring when it fits, else after what waits before it. */
  flush(): void {
    if (this.state === "dead") return;
    const frame = this.#batch.take();
    if (frame === undefined) return;
    try {
      if (this.#queue.length === 0 && this.#writer.trySend(frame)) {
        // A result due within microseconds is cheaper to catch by polling than by sleeping on the
        // wake pipe: an event loop asleep in epoll on a halted core wakes 25-50 us late.
        if (this.#piped && this.#events.expectSoon(this)) void this.service();
        return;
      }
    } catch {
      return; // The worker is gone; its exit handler sorts out its tasks.
    }
    this.#queue.push(frame.slice());
    if (this.#queue.length === 1) void this.#pump();
  }

  async #pump(): Promise<void> {
    while (this.#queue.length > 0 && this.state !== "dead") {
      try {
        await this.#writer.send(this.#queue[0]!, { signal: this.#stopReading.signal, ref: false });
      } catch {
        return;
      }
      this.#queue.shift();
    }
  }

  /** Reads the result ring by waiting on it, until the worker says it rings the wake pipe. */
  async #readLoop(): Promise<void> {
    let yielded = performance.now();
    for (;;) {
      if (this.#piped) {
        void this.service();
        return;
      }
      // Results that keep coming are read on microtasks alone: let timers and I/O run now and then.
      if (performance.now() - yielded > YIELD_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        yielded = performance.now();
      }
      if (this.#events.expectSoon(this)) await this.#poll();
      let frame: Uint8Array;
      try {
        frame = await this.#reader.recv({ signal: this.#stopReading.signal, ref: false });
      } catch (err) {
        // A result ring that does not parse: the worker cannot be trusted with more tasks.
        if ((err as { code?: unknown }).code === ErrorCodes.CORRUPT) this.#breakDown();
        return; // Otherwise EOF (the worker closed its end) or the exit handler took over.
      }
      this.#onFrame(frame);
      this.#drain();
      if (this.#broken) return;
      this.#events.drained(this);
    }
  }

  /**
   * Reads what the worker published (on a wake-up from the pipe), then tells the worker to ring
   * the pipe for the next frame (wake.ts has the protocol).
   */
  async service(): Promise<void> {
    if (!this.#piped || this.#servicing || this.#broken || this.state === "dead") return;
    this.#servicing = true;
    const began = performance.now();
    try {
      for (;;) {
        Atomics.store(this.#control, PARENT_WAITING, 0);
        this.#drain();
        if (this.#broken) return; // killed: its exit sorts out its tasks
        this.#events.drained(this);
        if ((this.state as HandleState) === "dead") return;
        if (this.#events.expectSoon(this)) {
          await this.#poll();
          if (this.#reader.available()) {
            if (performance.now() - began < YIELD_MS) continue;
            // Results keep coming: let timers and I/O run, then read on.
            setImmediate(() => void this.service());
            return;
          }
        }
        Atomics.store(this.#control, PARENT_WAITING, 1);
        if (!this.#reader.available()) return;
      }
    } finally {
      this.#servicing = false;
    }
  }

  /**
   * Polls the result ring on microtasks for up to POLL_MS, when a result is due within that time.
   * An asynchronous wait costs two thread hops (the waiter thread, then the event loop), tens of
   * microseconds on a busy machine; polling on microtasks lets the caller's promise chain (which
   * submits the next task) run in between, and costs nothing once the result is there.
   */
  async #poll(): Promise<void> {
    const end = performance.now() + POLL_MS;
    while (!this.#reader.available() && this.state !== "dead" && performance.now() < end) await Promise.resolve();
  }

  /** performance.now() when the replies being handled were read (one clock read per batch, for waitTime). */
  readAt = 0;

  #drain(): void {
    this.readAt = performance.now();
    while (!this.#broken) {
      let m: FromWorker | undefined;
      try {
        // Replies are decoded where they lie in the ring: no copy, no allocation per frame.
        m = this.#reader.tryRecvIn(this.#decode);
      } catch {
        this.#breakDown(); // the ring is corrupt, or a reply does not parse or answers the wrong task
        return;
      }
      if (m === undefined) return;
      this.#handleReply(m);
    }
  }

  readonly #frameReader = new FrameReader(new Uint8Array(0));
  readonly #decode = (bytes: Uint8Array, start: number, end: number): FromWorker =>
    this.#checkOrder(readReply(this.#frameReader.reset(bytes, start, end), this.#place));
  /** A map's numbers go straight into its result (Call.output), without an array per chunk. */
  readonly #place = (id: number, r: FrameReader): boolean => {
    const unit = this.inflight.peek();
    if (unit === undefined || unit.id !== id) return false;
    const out = unit.call.output?.(unit);
    return out !== undefined && r.numbersInto(out, unit.index, unit.count);
  };

  /**
   * A worker whose replies do not parse (its segment corrupted by someone) cannot be trusted with
   * more tasks: it is killed, and its exit sorts out its tasks (WorkerLostError or sent again).
   */
  #breakDown(): void {
    this.#broken = true;
    this.kill();
  }

  #onFrame(frame: Uint8Array): void {
    if (this.#broken) return;
    this.readAt = performance.now();
    let m: FromWorker;
    try {
      m = this.#checkOrder(decodeReply(frame));
    } catch {
      this.#breakDown();
      return;
    }
    this.#handleReply(m);
  }

  /**
   * A reply must answer the oldest task in flight; checked before the task leaves `inflight`, so
   * a worker killed for it still accounts for it.
   */
  #checkOrder(m: FromWorker): FromWorker {
    if (m.kind === "result" || m.kind === "error" || m.kind === "skipped") {
      const next = this.inflight.peek();
      if (next === undefined || (next.id !== m.id && (this.#ordered || this.#find(m.id) === undefined))) {
        throw corruptData(`${this.name} answered task ${m.id}, expected ${next?.id}`);
      }
    }
    return m;
  }

  /** The unit in flight with this id (answers and events may come for any running task). */
  #find(id: number): Unit | undefined {
    for (const unit of this.inflight) if (unit.id === id) return unit;
    return undefined;
  }

  #handleReply(m: FromWorker): void {
    switch (m.kind) {
      case "ready":
        if (this.state === "starting") this.state = "ready";
        this.#piped = m.wake;
        this.#unlink(); // both sides have it mapped: the name is no longer needed
        this.#events.ready(this);
        return;
      case "init-failed":
        this.#startError = m.error;
        return;
      case "started": {
        const unit = this.inflight.peek();
        if (unit?.id === m.id) this.#events.started(this, unit, m.at);
        return;
      }
      case "event": {
        const unit = this.#find(m.id);
        if (unit !== undefined) this.#events.event(this, unit, m);
        return;
      }
      default: {
        const head = this.inflight.peek()!;
        const unit = head.id === m.id ? this.inflight.shift()! : this.inflight.remove(this.#find(m.id)!);
        this.#answered++;
        this.#events.reply(this, unit, m);
      }
    }
  }

  #onExit(code: number): void {
    const wasReady = this.state !== "starting";
    clearTimeout(this.#killTimer);
    this.#stopReading.abort();
    this.#drain();
    this.state = "dead";
    const { lost, unsent } = sortHeld(this.inflight.clear(), this.#answered, Atomics.load(this.#control, STARTED));
    this.#queue.length = 0;
    discardLeftovers(this.#segment.buffer);
    this.#unlink();
    this.#events.exited(this, { code, lost, unsent, startError: startErrorOf(code, wasReady, this.#startError) });
  }

  #unlink(): void {
    if (!this.#linked) return;
    this.#linked = false;
    unlinkQuietly(this.#segment.name);
  }
}
