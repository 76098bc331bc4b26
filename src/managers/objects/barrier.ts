// The server side of SyncManager.Barrier. A party that times out, or whose connection closes while
// it waits, breaks the barrier: the others get BrokenBarrierError instead of waiting forever.
import { ArgumentError, BrokenBarrierError, ErrorCodes } from "../../errors.js";
import { checkInteger, checkOptions, checkTimeout } from "../../validate.js";
import { caller } from "../call-context.js";

interface Waiting {
  pass(): void;
  fail(err: Error): void;
}

export class ServerBarrier {
  readonly parties: number;
  readonly #timeout: number | undefined;
  #count = 0;
  #broken = false;
  #waiting: Waiting[] = [];

  constructor(parties: number, options: { timeout?: number; action?: unknown } = {}) {
    this.parties = checkInteger(parties, "parties", 1);
    const opts = checkOptions(options);
    if (opts.action !== undefined) {
      throw new ArgumentError("a manager Barrier takes no action (it would have to run in the server process)", ErrorCodes.INVALID_ARG_VALUE);
    }
    this.#timeout = checkTimeout(opts.timeout);
  }

  /** Resolves with this party's arrival index (0..parties-1) when all have arrived. */
  async wait(options?: { timeout?: number }): Promise<number> {
    const { signal } = caller();
    const timeout = checkTimeout(checkOptions(options).timeout) ?? this.#timeout;
    if (this.#broken) throw new BrokenBarrierError();
    const index = this.#count++;
    if (this.#count === this.parties) {
      const waiting = this.#waiting;
      this.#waiting = [];
      this.#count = 0;
      for (const w of waiting) w.pass();
      return index;
    }
    return new Promise<number>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
      };
      const onAbort = () => this.abort();
      this.#waiting.push({
        pass: () => {
          done();
          resolve(index);
        },
        fail: (err) => {
          done();
          reject(err);
        },
      });
      signal.addEventListener("abort", onAbort, { once: true });
      if (timeout !== undefined && timeout !== Infinity) timer = setTimeout(() => this.abort(), timeout);
    });
  }

  #breakAll(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    this.#count = 0;
    for (const w of waiting) w.fail(new BrokenBarrierError());
  }

  /** Back to the empty state; parties waiting now get BrokenBarrierError. */
  reset(): void {
    this.#breakAll();
    this.#broken = false;
  }

  /** Breaks the barrier: current and future waits get BrokenBarrierError until reset(). */
  abort(): void {
    this.#broken = true;
    this.#breakAll();
  }

  nWaiting(): number {
    return this.#count;
  }

  broken(): boolean {
    return this.#broken;
  }

  getParties(): number {
    return this.parties;
  }
}
