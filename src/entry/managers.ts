// multiproc/managers: Python's multiprocessing.managers for readers coming from Python.
export * from "../managers/index.js";
