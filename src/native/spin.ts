// Spinning before sleeping. A wake-up through the futex costs the waker a system call and the
// sleeper ~4 us (sync wait) to ~17 us and more (async wait: the waiter thread, then the event
// loop), and 25-50 us more on these VMs, whose idle cores halt; so a peer that answers within
// microseconds is cheaper to catch awake. The budget adapts, per waiter (glibc's adaptive mutexes
// and WebKit's ParkingLot do the same): a spin that ends in sleep halves it, a spin that succeeds
// keeps it, and once it is spent every 8th wait spins in full again. MULTIPROC_SPIN_US sets the
// full budget (default 20, 0 never spins).
//
// Halving alone is bistable on machines whose idle cores halt: once both peers sleep, each wakes
// the other 50-90 us late, so a 20 us probe never catches an answer and both stay asleep (a Pipe
// round trip settled at 60-90 us instead of 2-3 us after one slow phase). So a waiter that slept
// says when it woke (woke()): a wait that ended within REACH_MS, but not at once after the spin,
// raises the budget to cover it, which catches the next answer awake and brings both peers back.
// A wake at once after the spin (the peer was ready to run the moment we slept) leaves it halved,
// and so does a wait longer than REACH_MS (a peer with nothing to say).
//
// Peers that share a core: a spinning waiter would only delay the peer it waits for, so past its
// first 2 us a spin offers the core with sched_yield() at every look (a cheap system call when
// nothing else wants the core). Measured with an async Pipe round trip after a phase with gaps:
// separate cores 89 us (stuck asleep) -> 2.1 us; both pinned to one core 35 -> 14 us.
import { native } from "./binding.js";

const FULL_MS = Number(process.env.MULTIPROC_SPIN_US ?? 20) / 1000;
const MIN_MS = 0.001;
const PROBE_EVERY = 8;
const REACH_MS = 0.2;
const SHARED_CORE_MS = 0.015;
/** A spin offers its core to others (sched_yield) once it has gone on this long. */
const YIELD_AFTER_MS = 0.002;

let yielder: (() => void) | null | undefined;

/** sched_yield(), when the addon is there. */
export function yieldCore(): void {
  schedYield()?.();
}

function schedYield(): (() => void) | null {
  if (yielder === undefined) {
    const binding = native();
    yielder = binding === null || typeof binding.schedYield !== "function" ? null : binding.schedYield.bind(binding);
  }
  return yielder;
}

export class Spinner {
  readonly #full: number;
  #budget: number;
  #skipped = 0;
  /** When the last spin gave up (0: it did not, or woke() has seen it), and what it had spent. */
  #gaveUpAt = 0;
  #spent = 0;

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
    if (ok) this.#budget = Math.max(this.#full, budget);
    else {
      this.#budget = budget / 2;
      this.#gaveUpAt = performance.now();
      this.#spent = budget;
    }
    return ok;
  }

  #skip(): false {
    this.#gaveUpAt = performance.now();
    this.#spent = 0;
    return false;
  }

  /** Called by a waiter that slept after spin() or poll() gave up, once its wait has ended. */
  woke(): void {
    if (this.#gaveUpAt === 0 || this.#full <= 0) return;
    const slept = performance.now() - this.#gaveUpAt;
    this.#gaveUpAt = 0;
    const wait = this.#spent + slept;
    if (slept >= SHARED_CORE_MS && wait <= REACH_MS) this.#budget = Math.min(REACH_MS, Math.max(this.#full, wait * 1.5));
  }

  /** Polls `ready` for up to the current budget; true as soon as it holds, false if it never did. */
  spin(ready: () => boolean): boolean {
    for (let i = 0; i < 32; i++) if (ready()) return true;
    const budget = this.#begin();
    if (budget === 0) return this.#skip();
    const start = performance.now();
    const end = start + budget;
    const yieldCore = schedYield();
    let now = start;
    do {
      for (let i = 0; i < 32; i++) if (ready()) return this.#end(true, budget);
      now = performance.now();
      // Past the first microseconds, offer the core: a peer that shares it runs now (and answers)
      // instead of after our spin; alone on the core, this is a cheap system call.
      if (now - start > YIELD_AFTER_MS) yieldCore?.();
    } while (now < end);
    return this.#end(false, budget);
  }

  /**
   * spin() for a caller that must not hold its thread: looks at `ready` once per microtask, so the
   * caller's other promise chains run in between (a manager client's other calls, say).
   */
  async poll(ready: () => boolean): Promise<boolean> {
    if (ready()) return true;
    const budget = this.#begin();
    if (budget === 0) return this.#skip();
    const start = performance.now();
    const end = start + budget;
    const yieldCore = schedYield();
    let now = start;
    do {
      await Promise.resolve();
      if (ready()) return this.#end(true, budget);
      now = performance.now();
      if (now - start > YIELD_AFTER_MS) yieldCore?.();
    } while (now < end);
    return this.#end(false, budget);
  }
}
