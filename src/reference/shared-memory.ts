/**
 * Python's `multiprocessing.shared_memory`: SharedMemory and ShareableList, byte-compatible with CPython. Also exported by `multiproc`.
 *
 * @module multiproc/shared-memory
 */
// The API reference's view of multiproc/shared-memory: the real classes (see reference/index.ts).
export * from "../entry/shared-memory.js";
export { SharedMemory } from "../shared/shared-memory.js";
export { ShareableList } from "../shared/shareable-list.js";
