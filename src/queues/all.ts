// Every queue class, so that a received queue can be rebuilt as whichever class it was sent as
// (transport/handle-modules.ts loads this when a queue arrives).
export { Queue } from "./queue.js";
export { SimpleQueue } from "./simple-queue.js";
export { JoinableQueue } from "./joinable-queue.js";
export { LifoQueue } from "./lifo-queue.js";
export { PriorityQueue } from "./priority-queue.js";
