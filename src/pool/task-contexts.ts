// The worker's side of currentTask(): which task runs now, and the context (signal, emit) of
// each task that asked for one. Contexts are made on a task's first currentTask() call; a task
// that never asks costs two field writes. With concurrentTasksPerWorker above 1 several async
// tasks interleave, so the running task is tracked through AsyncLocalStorage instead.
import { AsyncLocalStorage } from "node:async_hooks";
import { setTaskSource, type TaskContext, type TaskSource } from "./current-task.js";
import { TASK_EVENTS, WATCHING } from "./protocol.js";

interface Running {
  id: number;
  flags: number;
}

interface Live {
  context: TaskContext;
  controller: AbortController;
  ended: boolean;
}

const NONE = -1;

export class TaskContexts implements TaskSource {
  readonly #control: Int32Array;
  readonly #als: AsyncLocalStorage<Running> | undefined;
  readonly #emit: (id: number, value: unknown) => void;
  readonly #onWatch: () => void;
  readonly #live = new Map<number, Live>();
  /** The task running now (one at a time: it stays current across its awaits until end()). */
  #current = NONE;
  #flags = 0;

  /**
   * `emit` publishes an event; `onWatch` is called when a context is handed out (the worker then
   * reads its task ring while the task runs, so that a cancel reaches the signal).
   */
  constructor(control: Int32Array, concurrent: boolean, emit: (id: number, value: unknown) => void, onWatch: () => void) {
    this.#control = control;
    this.#als = concurrent ? new AsyncLocalStorage<Running>() : undefined;
    this.#emit = emit;
    this.#onWatch = onWatch;
    setTaskSource(this);
  }

  /** Several tasks may interleave: each runs inside run() (AsyncLocalStorage), not after enter(). */
  get concurrent(): boolean {
    return this.#als !== undefined;
  }

  /** The task `id` begins (one at a time: it stays current across its awaits until end()). */
  enter(id: number, flags: number): void {
    this.#current = id;
    this.#flags = flags;
  }

  /** Runs a task's synchronous part as the current task, for concurrent workers. */
  run<T>(id: number, flags: number, fn: () => T): T {
    return this.#als!.run({ id, flags }, fn);
  }

  /** The task ended: its context (if any) is dropped, and a late emit() goes nowhere. */
  end(id: number): void {
    if (this.#als === undefined) this.#current = NONE;
    if (this.#live.size === 0) return;
    const live = this.#live.get(id);
    if (live === undefined) return;
    live.ended = true;
    this.#live.delete(id);
    if (this.#live.size === 0) Atomics.store(this.#control, WATCHING, 0);
  }

  /** Whether the task asked for its context. */
  holds(id: number): boolean {
    return this.#live.size !== 0 && this.#live.has(id);
  }

  /** Whether any running task holds its context. */
  get watched(): boolean {
    return this.#live.size !== 0;
  }

  abort(id: number, reason: () => unknown): void {
    if (this.#live.size === 0) return;
    const live = this.#live.get(id);
    if (live !== undefined && !live.controller.signal.aborted) live.controller.abort(reason());
  }

  abortAll(reason: () => unknown): void {
    for (const live of this.#live.values()) if (!live.controller.signal.aborted) live.controller.abort(reason());
  }

  context(): TaskContext | null {
    let id = this.#current;
    let flags = this.#flags;
    if (this.#als !== undefined) {
      const running = this.#als.getStore();
      if (running === undefined) return null;
      id = running.id;
      flags = running.flags;
    }
    if (id === NONE) return null;
    const known = this.#live.get(id);
    if (known !== undefined) return known.context;
    const controller = new AbortController();
    const events = (flags & TASK_EVENTS) !== 0;
    const emit = this.#emit;
    const live: Live = {
      controller,
      ended: false,
      context: Object.freeze({
        id,
        signal: controller.signal,
        emit(value: unknown): void {
          if (events && !live.ended) emit(id, value);
        },
      }),
    };
    this.#live.set(id, live);
    Atomics.store(this.#control, WATCHING, 1);
    this.#onWatch();
    return live.context;
  }

  close(): void {
    setTaskSource(null);
  }
}
