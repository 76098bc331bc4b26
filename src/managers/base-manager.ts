// BaseManager (Python's multiprocessing.managers.BaseManager): a registry of typeids on a class,
// a server that holds the objects (in a child process with start(), in this process with
// getServer().serveForever(), or elsewhere for connect()), and create() for proxies to them.
import { Listener, arbitraryAddress, checkAddress, removeSocketFile, toAuthKey, type Address, type AuthKey } from "../connection/listener.js";
import { ArgumentError, ErrorCodes, ProcessError, StateError } from "../errors.js";
import { getContext } from "../context.js";
import { kExited, type Process } from "../process.js";
import { resolveTarget, type TargetDescriptor } from "../target.js";
import { checkInteger, checkLimit, checkOptions, describe } from "../validate.js";
import { Channel } from "./channel.js";
import { PROTOCOL_VERSION } from "./messages.js";
import { BaseProxy, fromResponse, registerProxyType, type Remote } from "./proxy.js";
import { kStopped, Server, type Serializer, type ServerType } from "./server.js";
import { BUILTIN_TYPES } from "./builtin-types.js";
import { PickleClient } from "./pickle/client.js";
import { localType, runManagerServer, type ServerSpec, type TypeSpec } from "./server-entry.js";

/**
 * A class or a factory function that makes the object a typeid stands for.
 *
 * @example
 * ```ts
 * import { BaseManager, type Callable } from "multiproc/managers";
 * const makeMap: Callable = () => new Map<string, number>();
 * class M extends BaseManager {}
 * M.register("Map", makeMap);
 * ```
 */
export type Callable = (abstract new (...args: never[]) => unknown) | ((...args: never[]) => unknown);

type ProxyClass = new (...args: ConstructorParameters<typeof BaseProxy>) => BaseProxy;

/**
 * Options of BaseManager.register: which methods proxies may call (`exposed`), which return proxies of another typeid (`methodToTypeid`), and a custom proxy class.
 *
 * @example
 * ```ts
 * import { BaseManager } from "multiproc/managers";
 * export class Store { get(k: string) { return k; } _secret() { return 1; } }
 * class M extends BaseManager {}
 * M.register("Store", Store, { exposed: ["get"] });
 * ```
 */
export interface RegisterOptions {
  /** Methods a proxy may call (default: every public method of the object). */
  exposed?: readonly string[];
  /** Methods whose result stays on the server and comes back as a proxy of that typeid. */
  methodToTypeid?: Record<string, string>;
  /** The client-side proxy class (a BaseProxy subclass); default: an AutoProxy of `exposed`. */
  proxyType?: ProxyClass;
  /** Add a method named after the typeid to the manager class (default true). */
  createMethod?: boolean;
}

interface RegistryEntry {
  callable?: Callable;
  /** Served from BUILTIN_TYPES (SyncManager's and SharedMemoryManager's types). */
  builtin?: boolean;
  exposed?: readonly string[];
  methodToTypeid?: Record<string, string>;
}

/**
 * Options of `new BaseManager({...})` and SyncManager: where the server listens (`address`: `[host, port]` or a socket path) and the `authkey` clients must prove.
 *
 * @example
 * ```ts
 * import { SyncManager } from "multiproc/managers";
 * const manager = new SyncManager({ address: ["0.0.0.0", 50000], authkey: "secret" });
 * await manager.start();
 * ```
 */
export interface ManagerOptions {
  /** Where the server listens: [host, port] (port 0 picks one) or a Unix socket path (default: a fresh one). */
  address?: Address;
  /** The shared secret (default currentProcess().authkey). */
  authkey?: AuthKey;
  allowLegacyAuth?: boolean;
  handshakeTimeout?: number;
  /** Largest request the server accepts, in bytes (default 1 GiB). */
  maxMessageSize?: number;
  /**
   * Whether this client may use shared memory with a server on this machine (default true): its
   * calls then go through a shared-memory link instead of the socket (docs/protocol.md, "Local
   * link"), and Arrow tables and big typed arrays travel without copies. false: the socket only,
   * as for a client on another machine.
   */
  sharedMemory?: boolean;
  /**
   * "pickle": speak CPython's manager protocol (docs/cpython-managers.md), so CPython clients use
   * this manager's server and this manager's client uses a CPython server. Default "multiproc".
   */
  serializer?: Serializer;
}

/**
 * Options of BaseManager.start: an initializer run in the server process before it serves.
 *
 * @example
 * ```ts
 * import { SyncManager } from "multiproc/managers";
 * export function setup() { process.title = "my-manager"; }
 * const manager = new SyncManager();
 * await manager.start({ initializer: setup });
 * ```
 */
export interface StartOptions {
  /** Runs in the server process before it serves (located like a Process target). */
  initializer?: (...args: never[]) => unknown;
  initargs?: unknown[];
}

type InstanceOf<C> = C extends abstract new (...args: never[]) => infer I ? I : C extends (...args: never[]) => infer R ? Awaited<R> : unknown;
type ArgsOf<C> = C extends abstract new (...args: infer A) => unknown ? A : C extends (...args: infer A) => unknown ? A : unknown[];

/**
 * A manager class after register(typeid, callable): instances have a typed `typeid(...)` method.
 *
 * @example
 * ```ts
 * import { BaseManager } from "multiproc/managers";
 * export class Maths { add(x: number, y: number) { return x + y; } }
 * const MyManager = class extends BaseManager {}.register("Maths", Maths); // typed Maths() factory
 * await using m = new MyManager();
 * await m.start();
 * console.log(await (await m.Maths()).add(4, 3)); // 7
 * ```
 */
export type Registered<M extends abstract new (...args: never[]) => BaseManager, K extends string, C> = (new (
  options?: ManagerOptions,
) => InstanceType<M> & { [P in K]: (...args: ArgsOf<C>) => Promise<Remote<InstanceOf<C>>> }) &
  M;

const kRegistry = Symbol("multiproc.managers.registry");

/**
 * Unix socket paths of servers this process started and has not shut down. A program that ends
 * without shutdown() kills its servers (daemon children, SIGKILLed with it, as CPython's
 * finalizer shuts its managers down); their socket files are removed here, since a killed
 * server cannot (issue #14).
 */
const startedSockets = new Set<string>();
process.on("exit", () => {
  for (const path of startedSockets) removeSocketFile(path);
});

function checkSerializer(serializer: unknown): Serializer {
  if (serializer === "pickle" || serializer === "multiproc") return serializer;
  throw new ArgumentError(`serializer must be "multiproc" or "pickle", got ${describe(serializer)}`, ErrorCodes.INVALID_ARG_VALUE);
}
let managerCounter = 0;

type State = "initial" | "started" | "serving" | "connected" | "shutdown";

/**
 * A manager for your own types (Python's `multiprocessing.managers.BaseManager`): register a class, start a server (here, or reachable over TCP with an authkey), call its objects through async proxies.
 *
 * @example
 * ```ts
 * import { BaseManager } from "multiproc/managers";
 *
 * export class Counter {
 *   n = 0;
 *   increment(): number { return ++this.n; }
 * }
 * export const MyManager = class extends BaseManager {}.register("Counter", Counter);
 *
 * await using manager = new MyManager({ address: ["127.0.0.1", 0], authkey: "secret" });
 * await manager.start();
 * const counter = await manager.Counter();
 * console.log(await counter.increment()); // 1
 * // elsewhere: new (class extends BaseManager {}.register("Counter"))({ address, authkey }).connect()
 * ```
 */
export class BaseManager implements AsyncDisposable {
  static [kRegistry] = new Map<string, RegistryEntry>();

  /** The registry of this class (copied from its parent's on first change, as in CPython). */
  static #own(cls: typeof BaseManager): Map<string, RegistryEntry> {
    if (!Object.hasOwn(cls, kRegistry)) cls[kRegistry] = new Map(cls[kRegistry]);
    return cls[kRegistry];
  }

  /**
   * Registers a typeid on this manager class. `callable` (a class or a factory) makes the object
   * on the server; leave it out on clients that only connect to a server that has it. Returns this
   * class, typed with a `typeid(...)` method: `const M = MyManager.register("Maths", Maths)`.
   */
  static register<M extends typeof BaseManager, K extends string, C extends Callable | undefined = undefined>(
    this: M,
    typeid: K,
    callable?: C,
    options: RegisterOptions = {},
  ): Registered<M, K, C> {
    if (typeof typeid !== "string" || typeid.length === 0) {
      throw new ArgumentError(`typeid must be a non-empty string, got ${describe(typeid)}`, ErrorCodes.INVALID_ARG_TYPE);
    }
    if (callable !== undefined && typeof callable !== "function") {
      throw new ArgumentError(`callable must be a class or a function, got ${describe(callable)}`, ErrorCodes.INVALID_ARG_TYPE);
    }
    const opts = checkOptions(options) as RegisterOptions;
    if (opts.exposed !== undefined && (!Array.isArray(opts.exposed) || !opts.exposed.every((m) => typeof m === "string"))) {
      throw new ArgumentError("exposed must be an array of method names", ErrorCodes.INVALID_ARG_TYPE);
    }
    if (opts.proxyType !== undefined) {
      if (typeof opts.proxyType !== "function" || !(opts.proxyType.prototype instanceof BaseProxy)) {
        throw new ArgumentError("proxyType must be a subclass of BaseProxy", ErrorCodes.INVALID_ARG_TYPE);
      }
      registerProxyType(typeid, opts.proxyType);
    }
    BaseManager.#own(this).set(typeid, {
      callable: callable,
      builtin: callable === undefined && Object.hasOwn(BUILTIN_TYPES, typeid) && (this as typeof BaseManager).builtinTypeids.has(typeid),
      exposed: opts.exposed,
      methodToTypeid: opts.methodToTypeid,
    });
    if (opts.createMethod !== false && !(typeid in this.prototype)) {
      Object.defineProperty(this.prototype, typeid, {
        value: function (this: BaseManager, ...args: unknown[]) {
          return this.create(typeid, ...args);
        },
        configurable: true,
        writable: true,
      });
    }
    return this as unknown as Registered<M, K, C>;
  }

  /** The typeids registered on this class (and inherited). */
  static typeids(): string[] {
    return [...this[kRegistry].keys()];
  }

  /** Typeids this class serves from BUILTIN_TYPES (SyncManager overrides). */
  protected static builtinTypeids: ReadonlySet<string> = new Set();

  readonly #requested: Address | undefined;
  readonly #authkey: Buffer;
  readonly #options: ManagerOptions;
  #address: Address | undefined;
  #state: State = "initial";
  #process: Process<[ServerSpec, Address, Uint8Array]> | undefined;
  #server: Server | undefined;

  constructor(options: ManagerOptions = {}) {
    const opts = checkOptions(options) as ManagerOptions;
    this.#requested = opts.address === undefined ? undefined : checkAddress(opts.address);
    this.#authkey = toAuthKey(opts.authkey);
    if (opts.maxMessageSize !== undefined) checkInteger(opts.maxMessageSize, "maxMessageSize", 1);
    checkLimit(opts.handshakeTimeout, "handshakeTimeout");
    if (opts.sharedMemory !== undefined && typeof opts.sharedMemory !== "boolean") {
      throw new ArgumentError(`sharedMemory must be a boolean, got ${describe(opts.sharedMemory)}`, ErrorCodes.INVALID_ARG_TYPE);
    }
    if (opts.serializer !== undefined) this.#serializer = checkSerializer(opts.serializer);
    this.#options = opts;
    this.#address = this.#requested;
  }

  /** Where the server listens (known once started, served, or given). */
  get address(): Address | undefined {
    return this.#address;
  }

  /** The key clients must prove (Python's authkey); children of this process inherit it. */
  get authkey(): Buffer {
    return this.#authkey;
  }

  #registry(): Map<string, RegistryEntry> {
    return (this.constructor as typeof BaseManager)[kRegistry];
  }

  #serverTypes(): Map<string, ServerType> {
    const types = new Map<string, ServerType>();
    for (const [typeid, entry] of this.#registry()) {
      if (entry.builtin === true) {
        types.set(typeid, BUILTIN_TYPES[typeid]!);
      } else if (entry.callable !== undefined) {
        types.set(typeid, localType(entry));
      }
    }
    return types;
  }

  /**
   * As in CPython, where get_server() leaves the manager's state alone: once the server it gave
   * was stopped, the manager may serve again, start() a server process or connect() (issue #14).
   */
  #leaveStoppedServer(): void {
    if (this.#state !== "serving" || this.#server?.[kStopped] !== true) return;
    this.#server = undefined;
    this.#state = "initial";
    this.#address = this.#requested;
  }

  /** Starts the server in a child process (always the "process" start method); resolves when it serves. */
  async start(options: StartOptions = {}): Promise<void> {
    this.#leaveStoppedServer();
    if (this.#state !== "initial") throw new StateError(`cannot start a manager that is ${this.#state}`, { code: ErrorCodes.ALREADY_STARTED });
    const opts = checkOptions(options) as StartOptions;
    if (opts.initargs !== undefined && !Array.isArray(opts.initargs)) {
      throw new ArgumentError(`initargs must be an array, got ${describe(opts.initargs)}`, ErrorCodes.INVALID_ARG_TYPE);
    }
    this.#state = "started";
    try {
      const spec = await this.#spec(opts);
      await this.#spawn(spec);
    } catch (err) {
      this.#state = "initial";
      throw err;
    }
  }

  async #spec(opts: StartOptions): Promise<ServerSpec> {
    const types: TypeSpec[] = [];
    for (const [typeid, entry] of this.#registry()) {
      if (entry.builtin === true) types.push({ typeid, builtin: true });
      else if (entry.callable !== undefined) {
        const target = await resolveTarget(entry.callable, `the callable registered for '${typeid}'`, { allowClass: true });
        types.push({ typeid, target, exposed: entry.exposed, methodToTypeid: entry.methodToTypeid });
      }
    }
    let initializer: TargetDescriptor | undefined;
    if (opts.initializer !== undefined) initializer = await resolveTarget(opts.initializer, "initializer");
    return {
      address: this.#requested ?? arbitraryAddress(),
      authkey: this.#authkey,
      types,
      initializer,
      initargs: opts.initargs ?? [],
      allowLegacyAuth: this.#options.allowLegacyAuth,
      handshakeTimeout: this.#options.handshakeTimeout,
      maxMessageSize: this.#options.maxMessageSize,
      serializer: this.#serializer,
    };
  }

  async #spawn(spec: ServerSpec): Promise<void> {
    // The child reports its bound address (or why it could not serve) through a one-off listener.
    const reportKey = crypto.getRandomValues(new Uint8Array(32));
    await using report = new Listener(undefined, { authkey: reportKey });
    await report.ready;
    const ctx = getContext("process");
    managerCounter++;
    const proc = new ctx.Process({
      target: runManagerServer,
      args: [spec, report.address, reportKey],
      daemon: true,
      name: `${this.constructor.name}-${managerCounter}`,
    });
    proc.start();
    this.#process = proc;
    // Not join(): that would keep the program alive as long as the server runs (issue #14).
    const exited = proc[kExited]()!.then((code) => {
      throw new ProcessError(`the manager process exited (code ${code}) before it was serving`, { code: ErrorCodes.WORKER_LOST });
    });
    const reported = report.accept().then(async (conn) => {
      try {
        return (await conn.recv()) as { ok: true; address: Address } | { ok: false; error: Error };
      } finally {
        conn.close();
      }
    });
    const outcome = await Promise.race([reported, exited]);
    if (!outcome.ok) {
      await proc.join({ timeout: 1000 });
      throw new ProcessError(`the manager server could not start: ${outcome.error.message}`, { code: ErrorCodes.BOOTSTRAP, cause: outcome.error });
    }
    this.#address = outcome.address;
    if (typeof outcome.address === "string") startedSockets.add(outcome.address);
  }

  /**
   * The server for this manager, to run in this process: `await manager.getServer().serveForever()`.
   * Its `address` is the bound one after `await server.listen()`. `serializer` overrides the
   * manager's (SPEC.md: "pickle" serves CPython clients; this manager's own calls follow it).
   */
  getServer(options: { serializer?: Serializer } = {}): Server {
    this.#leaveStoppedServer();
    if (this.#state !== "initial") throw new StateError(`cannot serve from a manager that is ${this.#state}`, { code: ErrorCodes.ALREADY_STARTED });
    const serializer = (checkOptions(options) as { serializer?: Serializer }).serializer;
    if (serializer !== undefined) this.#serializer = checkSerializer(serializer);
    this.#state = "serving";
    const server = new Server(this.#serverTypes(), this.#requested ?? arbitraryAddress(), {
      authkey: this.#authkey,
      allowLegacyAuth: this.#options.allowLegacyAuth,
      handshakeTimeout: this.#options.handshakeTimeout,
      maxMessageSize: this.#options.maxMessageSize,
      serializer: this.#serializer,
    });
    this.#server = server;
    void server.listen().then(
      (address) => (this.#address = address),
      () => undefined,
    );
    return server;
  }

  /** Connects to a server that already runs at `address` (checks the key now). */
  async connect(): Promise<void> {
    this.#leaveStoppedServer();
    if (this.#state !== "initial") throw new StateError(`cannot connect a manager that is ${this.#state}`, { code: ErrorCodes.ALREADY_STARTED });
    if (this.#requested === undefined) throw new ArgumentError("connect() needs the address given to the constructor", ErrorCodes.INVALID_ARG_VALUE);
    if (this.#serializer === "pickle") {
      await this.#pickleClient().dispatch("dummy");
      this.#state = "connected";
      return;
    }
    const response = await this.#channel().request({ kind: "hello", version: PROTOCOL_VERSION });
    fromResponse(response, this.#channel());
    this.#state = "connected";
  }

  #pickle: PickleClient | undefined;
  #serializer: Serializer = "multiproc";

  /** The client of a manager speaking CPython's protocol (serializer "pickle"). */
  #pickleClient(): PickleClient {
    if (this.#address === undefined) throw new StateError("the manager has no address yet", { code: ErrorCodes.NOT_STARTED });
    this.#pickle ??= new PickleClient(this.#address, { authkey: this.#authkey, allowLegacyAuth: this.#options.allowLegacyAuth, handshakeTimeout: this.#options.handshakeTimeout });
    return this.#pickle;
  }

  #channel(): Channel {
    if (this.#address === undefined) throw new StateError("the manager has no address yet", { code: ErrorCodes.NOT_STARTED });
    return Channel.for(this.#address, this.#authkey, this.#options);
  }

  /** Makes a new object of a registered type on the server and resolves with its proxy. */
  async create<T = unknown>(typeid: string, ...args: unknown[]): Promise<Remote<T>> {
    if (!this.#registry().has(typeid)) {
      throw new ArgumentError(`typeid '${String(typeid)}' is not registered on ${this.constructor.name}`, ErrorCodes.UNKNOWN_TYPEID);
    }
    if (this.#state === "initial" || this.#state === "shutdown") {
      throw new StateError(`the manager is ${this.#state === "initial" ? "not started: call start() or connect()" : "shut down"}`, {
        code: this.#state === "initial" ? ErrorCodes.NOT_STARTED : ErrorCodes.CLOSED,
      });
    }
    if (this.#state === "serving" && this.#server !== undefined) this.#address = await this.#server.listen();
    if (this.#serializer === "pickle") return (await this.#pickleClient().create(typeid, args)) as unknown as Remote<T>;
    const channel = this.#channel();
    const response = await channel.request({ kind: "create", typeid, args });
    return fromResponse(response, channel) as Remote<T>;
  }

  /** Stops the server (if this object started or serves it); proxies fail afterwards. */
  async shutdown(): Promise<void> {
    const state = this.#state;
    if (state === "shutdown") return;
    this.#state = "shutdown";
    // Idle call connections close now; a shutdown request below opens one of its own.
    this.#pickle?.close();
    if (state === "serving") {
      this.#server?.stop();
      return;
    }
    if (state !== "started" || this.#process === undefined) return;
    const proc = this.#process;
    if (typeof this.#address === "string") startedSockets.delete(this.#address);
    try {
      if (this.#serializer === "pickle") await this.#pickleClient().dispatch("shutdown");
      else await this.#channel().request({ kind: "shutdown" });
    } catch {
      // Already gone: nothing to ask.
    }
    await proc.join({ timeout: 1000 });
    if (proc.exitCode === null) {
      proc.terminate();
      await proc.join({ timeout: 1000 });
      if (proc.exitCode === null) proc.kill();
      await proc.join();
    }
  }

  /** Waits for the server process to end (after shutdown, or when something else stopped it). */
  async join(options: { timeout?: number } = {}): Promise<void> {
    await this.#process?.join(options);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}
