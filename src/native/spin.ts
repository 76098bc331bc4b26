// Spinning before sleeping. A wake-up through the futex costs the waker a system call and the
// sleeper ~4 us (sync wait) to ~17 us and more (async wait: the waiter thread, then the event
// loop), so a peer that answers within microseconds is cheaper to catch awake. But when both
// peers share a core, spinning only delays the peer it waits for. Measured on these 2-core
// machines with a Pipe round trip between async peers: ~20-40 us with a 200-iteration spin (~1 us);
// with a 20 us spin ~4 us when the peers ran on separate cores, ~85 us when they shared one; with
// no spin ~32 us either way. So the budget adapts, per waiter (glibc's adaptive mutexes and
// WebKit's ParkingLot do the same): a spin that ends in sleep halves it, a spin that succeeds
// restores it, and once it is spent every 8th wait spins in full again to find out whether the
// peer got a core of its own. MULTIPROC_SPIN_US sets the full budget (default 20, 0 never spins).
const FULL_MS = Number(process.env.MULTIPROC_SPIN_US ?? 20) / 1000;
const MIN_MS = 0.001;
const PROBE_EVERY = 8;

export class Spinner {
  readonly #full: number;
  #budget: number;
  #skipped = 0;

  /** `fullMs`: the budget of a full spin (default MULTIPROC_SPIN_US, 20 us). */
  constructor(fullMs = FULL_MS) {
    this.#full = FULL_MS <= 0 ? 0 : fullMs;
    this.#budget = this.#full;
  }

  /** The budget of the next spin: 0 to skip it (the budget is spent and this is no probe). */
  #begin(): number {
    if (this.#budget >= MIN_MS) return this.#budget;
    if (++this.#skipped < PROBE_EVERY || this.#full <= 0) return 0;
    this.#skipped = 0;
    return this.#full;
  }

  #end(ok: boolean, budget: number): boolean {
    this.#budget = ok ? this.#full : budget / 2;
    return ok;
  }

  /** Polls `ready` for up to the current budget; true as soon as it holds, false if it never did. */
  spin(ready: () => boolean): boolean {
    for (let i = 0; i < 32; i++) if (ready()) return true;
    const budget = this.#begin();
    if (budget === 0) return false;
    const end = performance.now() + budget;
    do {
      for (let i = 0; i < 32; i++) if (ready()) return this.#end(true, budget);
    } while (performance.now() < end);
    return this.#end(false, budget);
  }

  /**
   * spin() for a caller that must not hold its thread: looks at `ready` once per microtask, so the
   * caller's other promise chains run in between (a manager client's other calls, say).
   */
  async poll(ready: () => boolean): Promise<boolean> {
    if (ready()) return true;
    const budget = this.#begin();
    if (budget === 0) return false;
    const end = performance.now() + budget;
    do {
      await Promise.resolve();
      if (ready()) return this.#end(true, budget);
    } while (performance.now() < end);
    return this.#end(false, budget);
  }
}
