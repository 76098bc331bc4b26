// Servers running in this process, by server id: a proxy token that comes back to its own server
// (a proxy stored in a dict proxy) is rebuilt there as a reference to the object, not as a client.
import type { Token } from "./messages.js";

export interface LocalServer {
  /** A server-side reference to the object `token` names (kept alive while the reference is). */
  storedRef(token: Token, exposed: string[]): object;
}

export const localServers = new Map<string, LocalServer>();
