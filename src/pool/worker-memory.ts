// What maxMemoryPerChild measures in a worker. A process worker: its resident set (RSS). A thread
// worker shares the process's RSS with the parent and its siblings, so its own isolate stands in:
// the V8 heap it reserved plus the memory held outside it by its Buffers and ArrayBuffers.
import { isMainThread } from "node:worker_threads";

/** Bytes this worker holds, by the measure above. */
export function memoryInUse(): number {
  if (isMainThread) return process.memoryUsage.rss();
  const m = process.memoryUsage();
  return m.heapTotal + m.external;
}
