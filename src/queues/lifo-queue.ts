// LifoQueue: last in, first out (Python's queue.LifoQueue, here shared between processes).
import { QueueKind } from "./queue-segment.js";
import { Queue, registerQueueClass, type QueueClassSpec } from "./queue.js";

export class LifoQueue<T = unknown> extends Queue<T> {
  protected override classSpec(): QueueClassSpec {
    return { kind: QueueKind.Lifo, joinable: false };
  }

  protected override className(): string {
    return "LifoQueue";
  }
}

registerQueueClass("LifoQueue", () => new LifoQueue());
