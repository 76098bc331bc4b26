// Proxies: the client's handle on an object that lives in a manager's server. Every method call is
// a request over the process's channel to that server (channel.ts) and returns a Promise.
//
// Reference counting (CPython's incref/decref): each proxy holds one reference on the server,
// counted per connection. A proxy made from a server reply adopts the reference the server took
// for this connection; a proxy rebuilt from a message (Process args, a queue item) takes its own
// with an incref sent before any call it makes. `_release()` (or `using`, or garbage collection as
// a backstop) gives it back; a connection that closes gives back all of its references, so a
// crashed client leaks nothing. The object is freed when no reference is left.
import { ErrorCodes, StateError } from "../errors.js";
import { currentProcess } from "../runtime.js";
import { kReduce, registerHandleType, type Reduced, type Transport } from "../transport/handles.js";
import type { Address } from "../connection/listener.js";
import { Channel, incomingChannel, unwrap } from "./channel.js";
import { decoding } from "./local-servers.js";
import type { Response, Token } from "./messages.js";

/** What a proxy becomes on the wire (handle type "manager-proxy"). */
export interface ProxyState {
  token: Token;
  exposed: string[];
  /** Only when it differs from the receiver's default (currentProcess().authkey). */
  authkey?: Uint8Array;
  /** Set by a server in its replies: the receiving connection already holds a reference. */
  owned?: boolean;
}

/**
 * How a proxy reaches its server: a channel, or (for a proxy rebuilt from a message) where to
 * find one. The latter is resolved on first use, because a child rebuilds its arguments before it
 * knows its own authkey; the first use also sends the incref that takes this proxy's reference.
 */
export type ChannelSource = Channel | { address: Address; authkey: Buffer | undefined };

type ProxyClass = new (token: Token, exposed: readonly string[], channel: ChannelSource) => BaseProxy;

/** typeid -> proxy class for the client side (builtins, and register(..., { proxyType })). */
const proxyTypes = new Map<string, ProxyClass>();

export function registerProxyType(typeid: string, cls: ProxyClass): void {
  proxyTypes.set(typeid, cls);
}

interface Held {
  channel: Channel | undefined;
  oid: number;
}

const finalizer = new FinalizationRegistry<Held>(({ channel, oid }) => {
  channel?.notify({ kind: "decref", oid, count: 1 });
});

/**
 * The base of every proxy: a reference to an object that lives in a manager's server. Proxies travel to other processes and keep the object alive while held.
 *
 * @example
 * ```ts
 * import { Manager, type BaseProxy } from "multiproc/managers";
 * await using manager = await Manager();
 * const proxy: BaseProxy = await manager.Namespace();
 * ```
 */
export class BaseProxy implements Disposable, AsyncDisposable {
  /** Which object, on which server. */
  readonly _token: Token;
  /** The methods the server lets this proxy call. */
  readonly _exposed: readonly string[];
  readonly #source: ChannelSource;
  readonly #held: Held;
  #released = false;

  /** Proxies are made by managers and by the transport, not by hand. */
  constructor(token: Token, exposed: readonly string[], channel: ChannelSource) {
    this._token = token;
    this._exposed = exposed;
    this.#source = channel;
    this.#held = { channel: channel instanceof Channel ? channel : undefined, oid: token.oid };
    finalizer.register(this, this.#held, this);
  }

  get #channel(): Channel {
    let channel = this.#held.channel;
    if (channel === undefined) {
      const source = this.#source as { address: Address; authkey: Buffer | undefined };
      channel = Channel.for(source.address, source.authkey ?? currentProcess().authkey);
      // Take our own reference before anything this proxy sends (same connection, so in order).
      channel.notify({ kind: "incref", oid: this._token.oid });
      this.#held.channel = channel;
    }
    return channel;
  }

  /** Calls `method` on the server object (Python's _callmethod). */
  async _callMethod(method: string, args: unknown[] = []): Promise<unknown> {
    if (this.#released) {
      throw new StateError(`this proxy of a ${this._token.typeid} was released`, { code: ErrorCodes.RELEASED });
    }
    const response = await this.#channel.request({ kind: "call", oid: this._token.oid, method, args });
    return fromResponse(response, this.#channel);
  }

  /** Gives this proxy's reference back; the proxy cannot be used afterwards. */
  _release(): void {
    if (this.#released) return;
    this.#released = true;
    finalizer.unregister(this);
    this.#held.channel?.notify({ kind: "decref", oid: this._token.oid, count: 1 });
  }

  get _released(): boolean {
    return this.#released;
  }

  [Symbol.dispose](): void {
    this._release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this._release();
    await Promise.resolve();
  }

  [kReduce](_transport: Transport): Reduced {
    const state: ProxyState = { token: this._token, exposed: [...this._exposed] };
    const authkey = this.#held.channel?.authkey ?? (this.#source as { authkey: Buffer | undefined }).authkey;
    if (authkey !== undefined && !authkey.equals(currentProcess().authkey)) state.authkey = authkey;
    return { type: "manager-proxy", state };
  }

  toString(): string {
    return `<${this.constructor.name} of ${this._token.typeid} #${this._token.oid} at ${describeAddress(this._token.address)}>`;
  }
}

function describeAddress(a: Address): string {
  return typeof a === "string" ? a : `${a[0]}:${a[1]}`;
}

/** Names a proxy may not shadow: its own machinery, and `then` (an awaitable proxy would be awaited away). */
const RESERVED = new Set(["then", "constructor", "toString"]);

/** A proxy whose methods are the exposed ones (Python's AutoProxy). */
export function autoProxy(token: Token, exposed: readonly string[], channel: ChannelSource): BaseProxy {
  const proxy = new BaseProxy(token, exposed, channel);
  for (const name of exposed) {
    // A "_" name is here only if the register() call exposed it by name (public methods have
    // none), as CPython's AutoProxy does; the proxy's own machinery (_callMethod, ...) wins.
    if (RESERVED.has(name) || name in proxy) continue;
    Object.defineProperty(proxy, name, {
      value: (...args: unknown[]) => proxy._callMethod(name, args),
      enumerable: false,
    });
  }
  return proxy;
}

/** Builds the proxy for a token: the registered proxy type of its typeid, else an AutoProxy. */
export function makeProxy(token: Token, exposed: readonly string[], channel: ChannelSource): BaseProxy {
  const Cls = proxyTypes.get(token.typeid);
  return Cls === undefined ? autoProxy(token, exposed, channel) : new Cls(token, exposed, channel);
}

/** Unwraps a response; a `proxy` response becomes a proxy adopting the reference taken for us. */
export function fromResponse(response: Response, channel: Channel): unknown {
  if (response.kind === "proxy") {
    // The server knows itself by the address it bound; we reach it by the address we dialled.
    return makeProxy({ ...response.token, address: channel.address }, response.exposed, channel);
  }
  return unwrap(response);
}

registerHandleType("manager-proxy", (raw) => {
  const state = raw as ProxyState;
  const local = decoding.server;
  if (local !== undefined && local.sid === state.token.sid) return local.storedRef(state.token, state.exposed);
  const via = incomingChannel();
  if (state.owned === true && via !== undefined) {
    return makeProxy({ ...state.token, address: via.address }, state.exposed, via);
  }
  const authkey = state.authkey === undefined ? undefined : Buffer.from(state.authkey);
  return makeProxy(state.token, state.exposed, { address: state.token.address, authkey });
});

/**
 * The async view of an object of type T through a proxy: its public methods return Promises.
 *
 * @example
 * ```ts
 * import { BaseManager, type Remote } from "multiproc/managers";
 * export class Maths { add(x: number, y: number) { return x + y; } }
 * class M extends BaseManager {}
 * M.register("Maths", Maths);
 * await using m = new M();
 * await m.start();
 * const maths: Remote<Maths> = await m.create<Maths>("Maths");
 * const seven: number = await maths.add(4, 3);
 * ```
 */
export type Remote<T> = BaseProxy & {
  [K in keyof T as K extends `_${string}` ? never : T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends (
    ...args: infer A
  ) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};
