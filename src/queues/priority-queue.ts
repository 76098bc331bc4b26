// PriorityQueue: the lowest priority first (Python's queue.PriorityQueue, here shared between
// processes). Items are ordered in shared memory, so every process must agree on an item's
// priority without running code: an item is its own priority when it is a number or a bigint, and
// an array's first element is its priority (Python's `(priority, data)` tuples). Items of equal
// priority come out in the order they went in (Python would compare the rest of the tuples).
import { ArgumentError, ErrorCodes } from "../errors.js";
import { describe } from "../validate.js";
import { QueueKind } from "./queue-segment.js";
import { Queue, registerQueueClass, type QueueClassSpec } from "./queue.js";

/** The priority of a PriorityQueue item, or an ArgumentError naming what was wrong. */
export function priorityOf(item: unknown): number {
  const key: unknown = Array.isArray(item) ? item[0] : item;
  if (typeof key === "number" && !Number.isNaN(key)) return key;
  if (typeof key === "bigint") return Number(key);
  throw new ArgumentError(
    `a PriorityQueue item must be a number, a bigint, or an array whose first element is one (like [priority, data]), got ${describe(item)}`,
    ErrorCodes.INVALID_ARG_TYPE,
  );
}

/**
 * A queue that hands out the lowest priority first (Python's queue.PriorityQueue, made multi-process): an item is its own priority when it is a number or bigint, and an array's first element is its priority (`[priority, data]`).
 *
 * @example
 * ```ts
 * import { PriorityQueue } from "multiproc";
 * const q = new PriorityQueue<[number, string]>();
 * await q.put([2, "later"]);
 * await q.put([1, "first"]);
 * console.log(await q.get()); // [ 1, 'first' ]
 * ```
 */
export class PriorityQueue<T = unknown> extends Queue<T> {
  protected override classSpec(): QueueClassSpec {
    return { kind: QueueKind.Priority, joinable: false };
  }

  protected override className(): string {
    return "PriorityQueue";
  }

  protected override priorityOf(item: T): number {
    return priorityOf(item);
  }
}

registerQueueClass("PriorityQueue", () => new PriorityQueue());
