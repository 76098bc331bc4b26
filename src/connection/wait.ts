// wait(): Python's multiprocessing.connection.wait over socket connections (and anything else
// with a poll({ timeout }) method, such as a Pipe end).
import { ArgumentError, ErrorCodes } from "../errors.js";
import { checkOptions, checkTimeout, describe } from "../validate.js";
import { kOnReady, kReady, SocketConnection } from "./socket-connection.js";

/**
 * Something wait() can watch: a SocketConnection, or any object with poll({ timeout }).
 *
 * @example
 * ```ts
 * import { wait, type Pollable } from "multiproc/connection";
 * async function firstReady(conns: Pollable[]) {
 *   return (await wait(conns, { timeout: 1000 }))[0];
 * }
 * ```
 */
export interface Pollable {
  /** Resolves true when something can be read within `timeout` ms. */
  poll(options?: { timeout?: number }): Promise<boolean> | boolean;
}

/**
 * Resolves with the objects that are ready to read (a message waiting, or EOF), as soon as at
 * least one is, or with [] after `timeout` ms. No timeout waits as long as it takes.
 *
 * @example
 * ```ts
 * import { Pipe, wait } from "multiproc";
 * const [a1, b1] = Pipe();
 * const [a2] = Pipe();
 * await b1.send("ready");
 * const ready = await wait([a1, a2], { timeout: 1000 });
 * console.log(ready.length); // 1: only a1 has something to read
 * ```
 */
export async function wait<T extends Pollable>(objects: Iterable<T>, options: { timeout?: number } = {}): Promise<T[]> {
  const list = [...objects];
  for (const o of list) {
    if (typeof o?.poll !== "function") {
      throw new ArgumentError(`wait() takes connections (objects with poll), got ${describe(o)}`, ErrorCodes.INVALID_ARG_TYPE);
    }
  }
  const timeout = checkTimeout(checkOptions(options).timeout);
  const sockets = list.filter((o): o is T & SocketConnection => o instanceof SocketConnection);
  const others = list.filter((o) => !(o instanceof SocketConnection));
  // An object closed meanwhile counts as ready: its own recv() then says why (CPython's wait
  // returns it too), instead of wait() rejecting for all the others.
  const poll = (o: Pollable, ms: number): Promise<boolean> => {
    try {
      return Promise.resolve(o.poll({ timeout: ms })).catch(() => true);
    } catch {
      return Promise.resolve(true);
    }
  };
  const readyNow = async (): Promise<T[]> => {
    const flags = await Promise.all(others.map((o) => poll(o, 0)));
    const polled = new Set<Pollable>(others.filter((_, i) => flags[i]));
    return list.filter((o) => (o instanceof SocketConnection ? o[kReady]() : polled.has(o)));
  };
  const first = await readyNow();
  if (first.length > 0 || timeout === 0) return first;
  return new Promise<T[]>((resolve) => {
    const removers: (() => void)[] = [];
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const r of removers) r();
      void readyNow().then(resolve);
    };
    for (const s of sockets) removers.push(s[kOnReady](finish));
    // Other kinds are polled in slices so that nothing is left waiting long after we return. A
    // slice still running when wait() resolved may end with ERR_CLOSED if the caller closes its
    // object at once; that is no error of anyone's (issue #14: it was an unhandled rejection).
    if (others.length > 0) {
      const slice = async () => {
        while (!done) {
          const got = await Promise.all(others.map((o) => poll(o, 20)));
          if (got.some(Boolean)) finish();
        }
      };
      void slice();
    }
    if (timeout !== undefined && timeout !== Infinity) timer = setTimeout(finish, timeout);
  });
}
