/**
 * Python's `multiprocessing.shared_memory`: SharedMemory and ShareableList, byte-compatible with CPython. Also exported by `multiproc`.
 *
 * @module multiproc/shared-memory
 */
// multiproc/shared-memory: Python's multiprocessing.shared_memory for readers coming from Python.
export { SharedMemory, type SharedMemoryOptions } from "../shared/shared-memory.js";
export { ShareableList, type ShareableItem, type ShareableListOptions } from "../shared/shareable-list.js";
export { SharedMemoryError } from "../errors.js";
