/**
 * Python's `multiprocessing.managers`: Manager, SyncManager, BaseManager, SharedMemoryManager and the proxies. Everything here is also exported by `multiproc`.
 *
 * @module multiproc/managers
 */
// multiproc/managers: Python's multiprocessing.managers for readers coming from Python.
export * from "../managers/index.js";
