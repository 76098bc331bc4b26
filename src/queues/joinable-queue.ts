// JoinableQueue: a Queue that counts unfinished tasks (Python's multiprocessing.JoinableQueue).
// Every put adds one; taskDone() removes one; join() waits until none is left. The count lives in
// the queue's shared memory, so producers, consumers and joiners may be in any processes.
import { checkOptions, checkSignal, checkTimeout } from "../validate.js";
import { QueueKind } from "./queue-segment.js";
import { Queue, registerQueueClass, type QueueClassSpec } from "./queue.js";

/**
 * Options of JoinableQueue.join: a timeout (ms) and an AbortSignal.
 *
 * @example
 * ```ts
 * import { JoinableQueue } from "multiproc";
 * const q = new JoinableQueue<number>();
 * await q.join({ timeout: 1000 });
 * ```
 */
export interface JoinOptions {
  /** Milliseconds to wait; join() then resolves false. Default: no limit. */
  timeout?: number;
  signal?: AbortSignal;
}

/**
 * A Queue whose consumers call taskDone() for each item and whose join() waits until every item put was done (Python's `multiprocessing.JoinableQueue`).
 *
 * @example
 * ```ts
 * import { isMainProcess, JoinableQueue, Process } from "multiproc";
 *
 * export async function worker(q: JoinableQueue<number>) {
 *   for (;;) {
 *     const n = await q.get();
 *     console.log(n * n);
 *     q.taskDone();
 *   }
 * }
 *
 * if (isMainProcess()) {
 *   const q = new JoinableQueue<number>();
 *   new Process({ target: worker, args: [q], daemon: true }).start();
 *   for (const n of [1, 2, 3]) await q.put(n);
 *   await q.join(); // all three were done
 * }
 * ```
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  protected override classSpec(): QueueClassSpec {
    return { kind: QueueKind.Fifo, joinable: true };
  }

  protected override className(): string {
    return "JoinableQueue";
  }

  /** Marks one item taken from the queue as done. Throws ERR_TASK_DONE_TOO_MANY when called once too often. */
  taskDone(): void {
    this.core.taskDone();
  }

  /** Resolves true once every item put has been marked done; false if `timeout` ms pass first. */
  async join(options?: JoinOptions): Promise<boolean> {
    const opts = checkOptions(options);
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    return this.core.join(timeout, signal);
  }

  /** join() for code that may block its thread. */
  joinSync(options?: { timeout?: number }): boolean {
    return this.core.joinSync(checkTimeout(checkOptions(options).timeout));
  }
}

registerQueueClass("JoinableQueue", () => new JoinableQueue());
