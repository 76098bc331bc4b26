// The manager protocol after authentication (docs/protocol.md, "Manager messages"). Every frame
// is one message serialised with transport/serialize.ts (socket transport); requests carry an
// `id` that the response repeats, so one connection carries many calls at once and a call that
// blocks on the server (Queue.get, Lock.acquire) never holds up the others.
import type { Address } from "../connection/listener.js";

/** Bumped on any incompatible change; the first request of a connection says which it speaks. */
export const PROTOCOL_VERSION = 2;

/** Names one object held by one server. */
export interface Token {
  typeid: string;
  /** Object id, unique within the server. */
  oid: number;
  /** Random id of the server process, so a server recognises its own tokens. */
  sid: string;
  /** Where the server listens, as the server knows it. */
  address: Address;
}

// ---- requests (client -> server) ----

/**
 * First message on a connection: the protocol version and, from a client that can map this
 * machine's segments, the identity of its /dev/shm (locality.ts); answered by `ok` with
 * `{ sid, version, local, link? }`. A local connection carries values with the "bytes" transport.
 * `link: true` asks for a shared-memory link (link.ts); the answer's `link` offers one, and the
 * client then sends everything through it (or, if it cannot use it, through the socket).
 */
export interface HelloRequest { kind: "hello"; id: number; version: number; shm?: string; link?: boolean }
/** Make a new object of a registered type; answered by `proxy`. */
export interface CreateRequest { kind: "create"; id: number; typeid: string; args: unknown[] }
/** Call an exposed method; answered by `ok`, `proxy` (methodToTypeid) or `error`. */
export interface CallRequest { kind: "call"; id: number; oid: number; method: string; args: unknown[] }
/** This connection now holds one more reference (a proxy rebuilt in this process). No answer. */
export interface IncrefRequest { kind: "incref"; oid: number }
/** This connection drops `count` references. No answer. */
export interface DecrefRequest { kind: "decref"; oid: number; count: number }
/** Stop the server; answered by `ok` before it closes. */
export interface ShutdownRequest { kind: "shutdown"; id: number }

export type Request = HelloRequest | CreateRequest | CallRequest | IncrefRequest | DecrefRequest | ShutdownRequest;

// ---- responses (server -> client) ----

export interface OkResponse { kind: "ok"; id: number; value: unknown }
/** A new object: the caller's connection holds its first reference. */
export interface ProxyResponse { kind: "proxy"; id: number; token: Token; exposed: string[] }
/** The call threw on the server; `error` keeps its class name, code, message and stack. */
export interface ErrorResponse { kind: "error"; id: number; error: Error }

export type Response = OkResponse | ProxyResponse | ErrorResponse;

const REQUEST_KINDS = new Set(["hello", "create", "call", "incref", "decref", "shutdown"]);

/** Shape check for what arrived from an authenticated peer (it may still be buggy). */
export function isRequest(value: unknown): value is Request {
  if (typeof value !== "object" || value === null) return false;
  const m = value as Record<string, unknown>;
  if (typeof m.kind !== "string" || !REQUEST_KINDS.has(m.kind)) return false;
  switch (m.kind) {
    case "incref":
      return typeof m.oid === "number";
    case "decref":
      return typeof m.oid === "number" && typeof m.count === "number";
    case "create":
      return typeof m.id === "number" && typeof m.typeid === "string" && Array.isArray(m.args);
    case "call":
      return typeof m.id === "number" && typeof m.oid === "number" && typeof m.method === "string" && Array.isArray(m.args);
    case "hello":
      return typeof m.id === "number" && (m.shm === undefined || typeof m.shm === "string") && (m.link === undefined || typeof m.link === "boolean");
    default:
      return typeof m.id === "number";
  }
}
