// The manager server's process: started by BaseManager.start() as an ordinary Process whose target
// is runManagerServer. It rebuilds the registered callables (located like targets), runs the
// initializer, binds, reports its address to the parent over a one-off authenticated connection,
// and serves until shutdown.
import { Client, type Address } from "../connection/listener.js";
import { reviveTarget } from "../target-revive.js";
import type { TargetDescriptor } from "../target.js";
import { BUILTIN_TYPES } from "./builtin-types.js";
import { Server, type Serializer, type ServerType } from "./server.js";

export interface TypeSpec {
  typeid: string;
  builtin?: boolean;
  target?: TargetDescriptor;
  exposed?: readonly string[];
  methodToTypeid?: Record<string, string>;
}

export interface ServerSpec {
  address: Address;
  authkey: Uint8Array;
  types: TypeSpec[];
  initializer: TargetDescriptor | undefined;
  initargs: unknown[];
  allowLegacyAuth: boolean | undefined;
  handshakeTimeout: number | undefined;
  maxMessageSize: number | undefined;
  serializer?: Serializer;
}

type Callable = (...args: unknown[]) => unknown;

/** A registered callable served in this process: a class is called with `new`. */
export function localType(entry: { callable?: unknown; exposed?: readonly string[]; methodToTypeid?: Record<string, string> }): ServerType {
  const fn = entry.callable as Callable;
  const isClass = /^class[\s{]/.test(Function.prototype.toString.call(fn));
  return {
    create: isClass ? (args): unknown => Reflect.construct(fn, args) as unknown : (args) => fn(...args),
    exposed: entry.exposed,
    methodToTypeid: entry.methodToTypeid,
  };
}

async function serverTypes(specs: TypeSpec[]): Promise<Map<string, ServerType>> {
  const types = new Map<string, ServerType>();
  for (const spec of specs) {
    if (spec.builtin === true) {
      const type = BUILTIN_TYPES[spec.typeid];
      if (type !== undefined) types.set(spec.typeid, type);
    } else if (spec.target !== undefined) {
      const callable = await reviveTarget(spec.target);
      types.set(spec.typeid, localType({ callable, exposed: spec.exposed, methodToTypeid: spec.methodToTypeid }));
    }
  }
  return types;
}

export async function runManagerServer(spec: ServerSpec, report: Address, reportKey: Uint8Array): Promise<void> {
  const conn = await Client(report, { authkey: reportKey });
  let server: Server;
  try {
    const types = await serverTypes(spec.types);
    if (spec.initializer !== undefined) {
      const init = await reviveTarget(spec.initializer);
      await init(...spec.initargs);
    }
    server = new Server(types, spec.address, {
      authkey: Buffer.from(spec.authkey),
      allowLegacyAuth: spec.allowLegacyAuth,
      handshakeTimeout: spec.handshakeTimeout,
      maxMessageSize: spec.maxMessageSize,
      serializer: spec.serializer,
    });
    const address = await server.listen();
    await conn.send({ ok: true, address });
  } catch (err) {
    await conn.send({ ok: false, error: err instanceof Error ? err : new Error(String(err)) }).catch(() => undefined);
    conn.close();
    process.exitCode = 1;
    return;
  }
  conn.close();
  await server.serveForever();
}
