/**
 * Python's `multiprocessing.connection`: Listener, Client, wait, Pipe and Connection, with CPython's framing and handshake. Also exported by `multiproc`.
 *
 * @module multiproc/connection
 */
// multiproc/connection: Python's multiprocessing.connection for readers coming from Python.
export { Listener, Client, type Address, type AuthKey, type ConnectionOptions, type ListenerOptions } from "../connection/listener.js";
export { SocketConnection } from "../connection/socket-connection.js";
export { wait, type Pollable } from "../connection/wait.js";
export { AuthenticationError, BufferTooShort, EOFError } from "../errors.js";
export { Pipe, type PipeOptions } from "../connection/pipe.js";
export { Connection } from "../connection/connection.js";
