// Which module revives each type of handle (handles.ts). Nothing loads a feature before it is used
// (lazy.ts, issue #15.3), so a process can receive an object whose class it has not loaded yet: a
// child gets a Lock in its args, a queue item holds a Pipe end. The reviver's module then loads on
// arrival, synchronously where Node can (require(esm)), else by the async receive paths.
import { isArrowTableLike } from "../arrow/table-policy.js";
import { lazyModule, type LazyModule } from "../lazy.js";

const at = (path: string): LazyModule<unknown> => lazyModule(new URL(path, import.meta.url));

const queues = at("../queues/all.js");
const semaphore = at("../sync/semaphore.js");
const value = at("../shared/value.js");
const sharedArray = at("../shared/shared-array.js");
const sharedTable = at("../arrow/shared-table.js");

/** Handle type -> the module that registers its reviver. */
export const handleModules: ReadonlyMap<string, LazyModule<unknown>> = new Map([
  ["SharedMemory", at("../shared/shared-memory.js")],
  ["ShareableList", at("../shared/shareable-list.js")],
  ["Value", value],
  ["RawValue", value],
  ["SharedArray", sharedArray],
  ["RawArray", sharedArray],
  // A queue arrives as the class it was sent as (queue.ts, registerQueueClass): load them all.
  ["Queue", queues],
  ["Lock", at("../sync/lock.js")],
  ["RLock", at("../sync/rlock.js")],
  ["Semaphore", semaphore],
  ["BoundedSemaphore", semaphore],
  ["Event", at("../sync/event.js")],
  ["Condition", at("../sync/condition.js")],
  ["Barrier", at("../sync/barrier.js")],
  ["Connection", at("../connection/connection.js")],
  // A proxy arrives as its typeid's proxy class (proxies.ts): the managers' whole surface.
  ["manager-proxy", at("../managers/index.js")],
  // apache-arrow is slow to load (and optional): these load only on the async receive paths.
  ["SharedTable", sharedTable],
  ["ArrowTable", sharedTable],
]);

/** Types whose module must never be loaded synchronously. */
export const asyncOnly: ReadonlySet<string> = new Set(["SharedTable", "ArrowTable"]);

/** Foreign types (handles.ts) known before their module loads: apache-arrow Tables. */
export const foreignModules: readonly { type: string; test: (value: object) => boolean; load: () => Promise<unknown> }[] = [
  { type: "ArrowTable", test: isArrowTableLike, load: () => sharedTable.load() },
];
