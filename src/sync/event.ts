// Event: a flag processes and threads wait on (Python's multiprocessing.Event).
//
// Words: [0] the flag, [1] a generation that set() bumps, [2] how many waiters may be asleep.
// Waiters sleep on the generation rather than on the flag, so a waiter woken by set() returns
// true even when clear() follows at once (threading.Event's rule: wait() returns true when it was
// woken by set(), false only on a timeout).
import { throwIfAborted } from "../abort.js";
import { ArgumentError, ErrorCodes } from "../errors.js";
import { waiter } from "../native/wait.js";
import { Block, closedError, type BlockHandle } from "../shared/block.js";
import { kReduce, registerHandleType, type Reduced, type Transport } from "../transport/handles.js";
import { checkOptions, checkSignal, checkTimeout } from "../validate.js";

const FLAG = 0;
const GEN = 1;
const SLEEPERS = 2;

/**
 * Options of Event.wait: a timeout (ms) and an AbortSignal; wait resolves false on a timeout.
 *
 * @example
 * ```ts
 * import { Event } from "multiproc";
 * const ev = new Event();
 * console.log(await ev.wait({ timeout: 50 })); // false
 * ```
 */
export interface EventWaitOptions {
  /** Milliseconds; without it, wait until set. */
  timeout?: number;
  signal?: AbortSignal;
}

interface EventState {
  block: BlockHandle;
}

let adopting: Block | undefined;

/**
 * A flag that processes wait for (Python's `multiprocessing.Event`): set(), clear(), isSet(), wait().
 *
 * @example
 * ```ts
 * import { Event, isMainProcess, Process } from "multiproc";
 *
 * export async function waiter(ev: Event) {
 *   if (await ev.wait({ timeout: 5000 })) console.log("go!");
 * }
 *
 * if (isMainProcess()) {
 *   const ev = new Event();
 *   const p = new Process({ target: waiter, args: [ev] });
 *   p.start();
 *   ev.set();
 *   await p.join();
 * }
 * ```
 */
export class Event implements Disposable {
  readonly #block: Block;
  // The words are #words[#at + FLAG ...]: in an arena, the arena's view shared by all its objects.
  readonly #words: Int32Array;
  readonly #at: number;
  #closed = false;

  constructor() {
    this.#block = adopting ?? Block.create(12, this);
    adopting = undefined;
    [this.#words, this.#at] = this.#block.wordsAt();
  }

  #check(): void {
    if (this.#closed) throw closedError("Event");
  }

  /** Whether the flag is true (Python's is_set()). */
  isSet(): boolean {
    this.#check();
    return Atomics.load(this.#words, this.#at + FLAG) === 1;
  }

  /** Sets the flag and wakes every waiter. */
  set(): void {
    this.#check();
    const words = this.#words;
    Atomics.store(words, this.#at + FLAG, 1);
    Atomics.add(words, this.#at + GEN, 1);
    if (Atomics.load(words, this.#at + SLEEPERS) > 0) waiter().wake(words, this.#at + GEN);
  }

  /** Resets the flag to false. */
  clear(): void {
    this.#check();
    Atomics.store(this.#words, this.#at + FLAG, 0);
  }

  /** Resolves true once the flag is set (at once if it is), false after `timeout` ms. */
  async wait(options?: EventWaitOptions): Promise<boolean> {
    const opts = checkOptions(options);
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    this.#check();
    throwIfAborted(signal);
    const words = this.#words;
    const gen = Atomics.load(words, this.#at + GEN);
    if (Atomics.load(words, this.#at + FLAG) === 1) return true;
    if (timeout === 0) return false;
    Atomics.add(words, this.#at + SLEEPERS, 1);
    try {
      const r = await waiter().waitAsync(words, this.#at + GEN, gen, { timeout, signal });
      return r !== "timed-out" || Atomics.load(words, this.#at + GEN) !== gen;
    } finally {
      Atomics.sub(words, this.#at + SLEEPERS, 1);
    }
  }

  /** The blocking twin of wait(). */
  waitSync(options?: Omit<EventWaitOptions, "signal">): boolean {
    const opts = checkOptions(options);
    const timeout = checkTimeout(opts.timeout);
    this.#check();
    const words = this.#words;
    const gen = Atomics.load(words, this.#at + GEN);
    if (Atomics.load(words, this.#at + FLAG) === 1) return true;
    if (timeout === 0) return false;
    Atomics.add(words, this.#at + SLEEPERS, 1);
    try {
      const r = waiter().wait(words, this.#at + GEN, gen, timeout);
      return r !== "timed-out" || Atomics.load(words, this.#at + GEN) !== gen;
    } finally {
      Atomics.sub(words, this.#at + SLEEPERS, 1);
    }
  }

  /** Stops using it here; the last holder in any process frees its memory (see shared/block.ts). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#block.release();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [kReduce](transport: Transport): Reduced {
    this.#check();
    return { type: "Event", state: { block: this.#block.handle(transport) } satisfies EventState };
  }

  toString(): string {
    return `<Event ${Atomics.load(this.#words, this.#at + FLAG) === 1 ? "set" : "unset"}>`;
  }
}

registerHandleType("Event", (state) => {
  const handle = (state as Partial<EventState> | null)?.block;
  if (handle === undefined) throw new ArgumentError("malformed Event handle", ErrorCodes.UNSERIALIZABLE);
  adopting = Block.fromHandle(handle);
  return new Event();
});
