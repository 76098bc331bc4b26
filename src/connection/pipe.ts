// Pipe(): a pair of connected Connections over shared memory (Python's multiprocessing.Pipe).
import { ArgumentError, ErrorCodes } from "../errors.js";
import { checkOptions, describe } from "../validate.js";
import { Connection } from "./connection.js";
import { PipeSegment } from "./pipe-segment.js";

/**
 * Options of Pipe(): `duplex: false` makes the first end receive only and the second send only.
 *
 * @example
 * ```ts
 * import { Pipe } from "multiproc";
 * const [reader, writer] = Pipe({ duplex: false });
 * await writer.send("one way");
 * console.log(await reader.recv());
 * ```
 */
export interface PipeOptions {
  /** true (default): both ends send and receive. false: `a` only receives, `b` only sends. */
  duplex?: boolean;
}

/**
 * Returns two connected ends `[a, b]`. Either may be passed to children (Process args, queue items, messages).
 *
 * @example
 * ```ts
 * import { Pipe, Process } from "multiproc";
 * import type { Connection } from "multiproc";
 * export async function child(conn: Connection) {
 *   await conn.send([42, null, "hello"]);
 *   conn.close();
 * }
 * const [parentEnd, childEnd] = Pipe();
 * new Process({ target: child, args: [childEnd] }).start();
 * console.log(await parentEnd.recv()); // [ 42, null, 'hello' ]
 * ```
 */
export function Pipe<T = unknown>(options?: PipeOptions): [Connection<T>, Connection<T>] {
  const { duplex = true } = checkOptions(options);
  if (typeof duplex !== "boolean") {
    throw new ArgumentError(`duplex must be a boolean, got ${describe(duplex)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  const pipe = PipeSegment.create(duplex);
  return [new Connection<T>(pipe, 0, pipe.holders[0].hold()), new Connection<T>(pipe, 1, pipe.holders[1].hold())];
}
