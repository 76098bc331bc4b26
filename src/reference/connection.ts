/**
 * Python's `multiprocessing.connection`: Listener, Client, wait, Pipe and Connection, with CPython's framing and handshake. Also exported by `multiproc`.
 *
 * @module multiproc/connection
 */
// The API reference's view of multiproc/connection: the real classes (see reference/index.ts).
export * from "../entry/connection.js";
export { Listener, Client } from "../connection/listener.js";
export { SocketConnection } from "../connection/socket-connection.js";
export { wait } from "../connection/wait.js";
export { Pipe } from "../connection/pipe.js";
export { Connection } from "../connection/connection.js";
