// Wait and wake on a 32-bit word of shared memory, behind one small interface with two backends:
// Linux futexes through the addon (works between processes), or V8's Atomics (threads of one
// process only: V8's wait/notify is an in-process emulation and does not cross processes).
// A process uses one backend for all its words, so a waiter and its waker always agree.
//
// Semantics are "value" based: a waiter returns when the word no longer holds `expected`.
// Wakers must change the word first, then wake (a wake with nobody asleep is lost).
import { AbortError } from "../abort.js";
import { native, type NativeBinding } from "./binding.js";

export type WaitResult = "ok" | "not-equal" | "timed-out";

export interface WaitAsyncOptions {
  /** Milliseconds; undefined = no limit. */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Whether this pending wait keeps the event loop (and so the process) alive. Default true. */
  ref?: boolean;
}

export interface Waiter {
  readonly kind: "futex" | "atomics";
  wait(array: Int32Array, index: number, expected: number, timeout?: number): WaitResult;
  waitAsync(array: Int32Array, index: number, expected: number, options?: WaitAsyncOptions): Promise<WaitResult>;
  wake(array: Int32Array, index: number, count?: number): number;
}

const RESULTS: readonly WaitResult[] = ["ok", "not-equal", "timed-out", "timed-out"];

class FutexWaiter implements Waiter {
  readonly kind = "futex";
  #nextId = 1;
  constructor(private readonly binding: NativeBinding) {}

  wait(array: Int32Array, index: number, expected: number, timeout?: number): WaitResult {
    return RESULTS[this.binding.futexWait(array, index, expected, timeout ?? -1)]!;
  }

  wake(array: Int32Array, index: number, count = Infinity): number {
    return this.binding.futexWake(array, index, count);
  }

  async waitAsync(array: Int32Array, index: number, expected: number, options: WaitAsyncOptions = {}): Promise<WaitResult> {
    const { signal } = options;
    if (signal?.aborted) throw new AbortError(signal.reason);
    const id = this.#nextId++;
    const r = this.binding.futexWaitAsync(array, index, expected, options.timeout ?? -1, id, options.ref ?? true);
    if (typeof r === "number") return RESULTS[r]!;
    if (signal === undefined) return RESULTS[await r]!;
    // Cancelling settles the native promise with 3; reject first, then let the native side tidy up.
    const onAbort = () => this.binding.cancelWait(id);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const code = await r;
      if (code === 3 && signal.aborted) throw new AbortError(signal.reason);
      return RESULTS[code]!;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
}

class AtomicsWaiter implements Waiter {
  readonly kind = "atomics";

  wait(array: Int32Array, index: number, expected: number, timeout?: number): WaitResult {
    return Atomics.wait(array, index, expected, timeout ?? Infinity);
  }

  wake(array: Int32Array, index: number, count = Infinity): number {
    return Atomics.notify(array, index, count);
  }

  async waitAsync(array: Int32Array, index: number, expected: number, options: WaitAsyncOptions = {}): Promise<WaitResult> {
    const { signal } = options;
    if (signal?.aborted) throw new AbortError(signal.reason);
    const r = Atomics.waitAsync(array, index, expected, options.timeout ?? Infinity);
    if (!r.async) return r.value;
    // V8 offers no way to cancel an Atomics.waitAsync: an aborted wait is abandoned and settles
    // on its own at the next notify (and keeps nothing else alive meanwhile).
    let keepAlive: NodeJS.Timeout | undefined;
    if (options.ref ?? true) keepAlive = setInterval(() => undefined, 1 << 30);
    try {
      if (signal === undefined) return await r.value;
      return await new Promise<WaitResult>((resolve, reject) => {
        const onAbort = () => reject(new AbortError(signal.reason));
        signal.addEventListener("abort", onAbort, { once: true });
        r.value.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
      });
    } finally {
      if (keepAlive !== undefined) clearInterval(keepAlive);
    }
  }
}

let instance: Waiter | undefined;

/** The process-wide waiter: futexes when the addon is loaded, Atomics otherwise. */
export function waiter(): Waiter {
  if (instance === undefined) {
    const binding = native();
    instance = binding === null ? new AtomicsWaiter() : new FutexWaiter(binding);
  }
  return instance;
}
