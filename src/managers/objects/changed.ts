// A wake-up for server-side objects: waiters re-check their condition after every change.
// Waits end at a deadline or when the caller's connection goes away (its AbortSignal).
import { AbortError } from "../../abort.js";
import { checkOptions, checkTimeout } from "../../validate.js";

export class Changed {
  #waiters = new Set<() => void>();

  /** Wakes every waiter (each re-checks its own condition). */
  notifyAll(): void {
    if (this.#waiters.size === 0) return;
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const w of waiters) w();
  }

  /** Resolves true when notified, false at `deadline` (ms since epoch); rejects if `signal` aborts. */
  wait(deadline: number | undefined, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.reject(new AbortError(signal.reason));
    if (deadline !== undefined && deadline <= Date.now()) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
      };
      const wake = () => {
        done();
        resolve(true);
      };
      const onAbort = () => {
        this.#waiters.delete(wake);
        done();
        reject(new AbortError(signal.reason));
      };
      this.#waiters.add(wake);
      signal.addEventListener("abort", onAbort, { once: true });
      if (deadline !== undefined) {
        timer = setTimeout(() => {
          this.#waiters.delete(wake);
          done();
          resolve(false);
        }, deadline - Date.now());
      }
    });
  }
}

export interface BlockOptions {
  block?: boolean;
  timeout?: number;
}

/** Reads `{ block = true, timeout }`: the deadline (undefined = none) and whether to block at all. */
export function blockOptions(options: unknown): { block: boolean; deadline: number | undefined } {
  const opts = checkOptions(options) as BlockOptions;
  const block = opts.block ?? true;
  const timeout = checkTimeout(opts.timeout);
  return { block: Boolean(block), deadline: timeout === undefined || timeout === Infinity ? undefined : Date.now() + timeout };
}

export function deadlineOf(options: unknown): number | undefined {
  const timeout = checkTimeout(checkOptions(options).timeout);
  return timeout === undefined || timeout === Infinity ? undefined : Date.now() + timeout;
}
