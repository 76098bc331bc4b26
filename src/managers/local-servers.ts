// Servers running in this process, by server id: a proxy token that comes back to its own server
// (a proxy stored in a dict proxy) is rebuilt there as a reference to the object, not as a client.
// Only while that server reads a request: a client in the same process that gets a proxy in a
// reply (or through a Queue, ...) must get a proxy.
import type { Token } from "./messages.js";

export interface LocalServer {
  readonly sid: string;
  /** A server-side reference to the object `token` names (kept alive while the reference is). */
  storedRef(token: Token, exposed: string[]): object;
}

export const localServers = new Map<string, LocalServer>();

/** The server whose request is being read right now, if any. */
export const decoding: { server: LocalServer | undefined } = { server: undefined };
