// The Python values the pickle codec knows beyond JS's own (reader.ts makes them, writer.ts writes
// them): a tuple where the protocol needs one, the manager protocol's Token, an exception raised
// by the peer, and a proxy that travelled inside a value. They are plain data: nothing in them
// runs code.
import type { Address } from "../../connection/listener.js";

/**
 * Arrays that were Python tuples when read (reader.ts adds them): written back as tuples, so a
 * tuple a CPython client stores and reads again is still a tuple. Other arrays are lists.
 */
export const pythonTuples = new WeakSet<object>();

/** A Python tuple (JS arrays are written as lists). */
export class PyTuple {
  constructor(readonly items: readonly unknown[]) {}
}

/** `multiprocessing.managers.Token`: names one object of one manager server. */
export class PyToken {
  constructor(
    public typeid: string,
    public address: Address,
    /** CPython's ids are hex strings (`'%x' % id(obj)`). */
    public id: string,
  ) {}
}

/** An exception pickled by the peer (`builtins.KeyError('k')`), as its global's name and args. */
export class PyException {
  /** Attributes from BUILD (an exception's `__dict__`), if any. */
  attributes: Record<string, unknown> | undefined;
  constructor(
    readonly module: string,
    readonly name: string,
    public args: unknown[],
  ) {}

  /** Python's str(e) for the common cases: the single argument, or the args tuple. */
  get message(): string {
    if (this.args.length === 0) return "";
    if (this.args.length === 1) return typeof this.args[0] === "string" ? this.args[0] : String(this.args[0]);
    return `(${this.args.map((a) => (typeof a === "string" ? `'${a}'` : String(a))).join(", ")})`;
  }
}

/** A proxy inside a value: `RebuildProxy(AutoProxy, token, serializer, kwds)` as CPython pickles it. */
export class PyProxyRef {
  constructor(
    readonly proxyType: string,
    readonly token: PyToken,
    readonly exposed: readonly string[] | undefined,
  ) {}
}

/** `slice(start, stop, step)`: what a CPython client sends for `proxy[1:3]`. */
export class PySlice {
  constructor(
    readonly start: unknown,
    readonly stop: unknown,
    readonly step: unknown,
  ) {}
}
