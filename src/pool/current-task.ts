// currentTask(): what a pool task can ask about itself while it runs (issue 16). Only a pool
// worker (worker.ts) installs a source; everywhere else currentTask() is null. Contexts are made
// on the first call inside a task, so tasks that never ask cost nothing.

/**
 * The running pool task, as the task itself sees it (what currentTask() returns).
 *
 * @example
 * ```ts
 * import { currentTask, type TaskContext } from "multiproc";
 * const task: TaskContext | null = currentTask();
 * task?.signal.throwIfAborted();
 * task?.emit({ step: 1 });
 * ```
 */
export interface TaskContext {
  /** The task's id in its pool (one id per chunk of a map). */
  readonly id: number;
  /**
   * Aborts when the caller's AbortSignal aborts, the call is abandoned (a `break` out of imap, a
   * map that failed), or the pool terminates: a long task checks it (or listens to it) to stop early.
   */
  readonly signal: AbortSignal;
  /**
   * Sends a value to the caller's `onEvent` option, in order, before the task's result; dropped
   * when the caller gave no `onEvent`. The value travels like a result.
   */
  emit(value: unknown): void;
}

/** @internal What a pool worker offers currentTask(). */
export interface TaskSource {
  context(): TaskContext | null;
}

let source: TaskSource | null = null;

/** @internal Called by the pool worker loop. */
export function setTaskSource(s: TaskSource | null): void {
  source = s;
}

/**
 * The pool task this code runs in, or null outside a pool task (in the parent, in a Process
 * target, in a worker between tasks).
 *
 * @example
 * ```ts
 * import { currentTask } from "multiproc";
 *
 * export async function crawl(urls: string[]): Promise<number> {
 *   const task = currentTask()!;
 *   let done = 0;
 *   for (const url of urls) {
 *     if (task.signal.aborted) break;        // the caller aborted: stop early
 *     await fetch(url, { signal: task.signal });
 *     task.emit({ done: ++done });           // progress for the caller's onEvent
 *   }
 *   return done;
 * }
 * // in the parent:
 * // await pool.apply(crawl, [urls], { signal, onEvent: (e) => console.log(e) });
 * ```
 */
export function currentTask(): TaskContext | null {
  return source === null ? null : source.context();
}
