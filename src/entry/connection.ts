/**
 * Python's `multiprocessing.connection`: Listener, Client, wait, Pipe and Connection, with CPython's framing and handshake. Also exported by `multiproc`.
 *
 * @module multiproc/connection
 */
// multiproc/connection: Python's multiprocessing.connection for readers coming from Python. The
// names are the package root's (loaded on first use, lazy-api.ts), so both entries give the same.
export { Listener, Client, SocketConnection, wait, Pipe, Connection } from "../lazy-api.js";
export type { Address, AuthKey, ConnectionOptions, ListenerOptions } from "../connection/listener.js";
export type { Pollable } from "../connection/wait.js";
export { AuthenticationError, BufferTooShort, EOFError } from "../errors.js";
export type { PipeOptions } from "../connection/pipe.js";
