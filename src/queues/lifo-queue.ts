// LifoQueue: last in, first out (Python's queue.LifoQueue, here shared between processes).
import { QueueKind } from "./queue-segment.js";
import { Queue, registerQueueClass, type QueueClassSpec } from "./queue.js";

/**
 * A last-in, first-out queue that works across processes (Python's queue.LifoQueue, made multi-process).
 *
 * @example
 * ```ts
 * import { LifoQueue } from "multiproc";
 * const q = new LifoQueue<number>();
 * await q.put(1);
 * await q.put(2);
 * console.log(await q.get()); // 2
 * ```
 */
export class LifoQueue<T = unknown> extends Queue<T> {
  protected override classSpec(): QueueClassSpec {
    return { kind: QueueKind.Lifo, joinable: false };
  }

  protected override className(): string {
    return "LifoQueue";
  }
}

registerQueueClass("LifoQueue", () => new LifoQueue());
