/**
 * Python's `multiprocessing.shared_memory`: SharedMemory and ShareableList, byte-compatible with CPython. Also exported by `multiproc`.
 *
 * @module multiproc/shared-memory
 */
// multiproc/shared-memory: Python's multiprocessing.shared_memory for readers coming from Python.
// The classes are the package root's (loaded on first use, lazy-api.ts): both entries give the same.
export { SharedMemory, ShareableList } from "../lazy-api.js";
export type { SharedMemoryOptions } from "../shared/shared-memory.js";
export type { ShareableItem, ShareableListOptions } from "../shared/shareable-list.js";
export { SharedMemoryError } from "../errors.js";
