// Barrier: `parties` processes or threads meet, then all go on (Python's Barrier; its state
// machine: filling -> draining -> filling, with resetting and broken). The shared words and the
// algorithm of one wait() are barrier-state.ts; this file is the class, its options, the action
// and passing the barrier to other processes.
//
// Indices: the last party to arrive gets 0 and runs the action, the others parties - 1 down to
// 1 in order of arrival (Python numbers by arrival and runs the action in the last arrival; its
// documentation promises neither, and here "the action runs where wait() returned 0" holds).
// Across processes the action must be a target (an exported function, a fromModule reference or
// a self-contained function): it runs in whichever process or thread gets index 0.
import { AbortError } from "../abort.js";
import { ArgumentError, ErrorCodes, StateError } from "../errors.js";
import { Block, closedError, type BlockHandle } from "../shared/block.js";
import { describeTarget, type TargetDescriptor } from "../target.js";
import { reviveTarget } from "../target-revive.js";
import { kReduce, registerHandleType, type Reduced, type Transport } from "../transport/handles.js";
import { checkFunction, checkInteger, checkOptions, checkSignal, checkTimeout } from "../validate.js";
import { ACTION, BROKEN, COUNT, FILLING, lock, PARTIES, PIDS, RESETTING, runWait, setState, sleepAsync, sleepSync, STATE, unlock } from "./barrier-state.js";

const MAX_PARTIES = 1 << 20;

/**
 * A function one party runs each time the barrier passes, before the others go on.
 *
 * @example
 * ```ts
 * import { Barrier, type BarrierAction } from "multiproc";
 * const action: BarrierAction = () => console.log("pass");
 * const barrier = new Barrier(2, { action });
 * ```
 */
export type BarrierAction = () => unknown;

/**
 * Options of `new Barrier(parties, {...})`: an action run once per pass and a default timeout (ms) for wait().
 *
 * @example
 * ```ts
 * import { Barrier } from "multiproc";
 * const barrier = new Barrier(4, { timeout: 10_000, action: () => console.log("all 4 here") });
 * ```
 */
export interface BarrierOptions {
  /** Runs once per pass, in the party that gets index 0, before any party is released. */
  action?: BarrierAction;
  /** Default timeout of wait() in ms; a wait that times out breaks the barrier. */
  timeout?: number;
}

/**
 * Options of Barrier.wait: a timeout (ms; it breaks the barrier) and an AbortSignal.
 *
 * @example
 * ```ts
 * import { Barrier } from "multiproc";
 * const barrier = new Barrier(2);
 * await barrier.wait({ timeout: 100 }).catch((err) => console.log(err.code)); // "ERR_BROKEN_BARRIER"
 * ```
 */
export interface BarrierWaitOptions {
  timeout?: number;
  /** Leaving early breaks the barrier for the others, like a timeout. */
  signal?: AbortSignal;
}

interface BarrierState {
  block: BlockHandle;
  timeout: number | undefined;
  action: TargetDescriptor | undefined;
}

interface Adopted {
  block: Block;
  timeout: number | undefined;
  action: RevivedAction | undefined;
}

/** An action received from elsewhere: revived (imported) as soon as the barrier arrives. */
interface RevivedAction {
  promise: Promise<BarrierAction>;
  fn?: BarrierAction;
}

let adopting: Adopted | undefined;

/**
 * A barrier for a fixed number of parties (Python's `multiprocessing.Barrier`): each wait() returns once all have arrived.
 *
 * @example
 * ```ts
 * import { Barrier, isMainProcess, Process } from "multiproc";
 *
 * export async function party(barrier: Barrier) {
 *   const index = await barrier.wait({ timeout: 5000 }); // 0 for exactly one party
 *   if (index === 0) console.log("everyone arrived");
 * }
 *
 * if (isMainProcess()) {
 *   const barrier = new Barrier(3);
 *   const ps = [1, 2, 3].map(() => new Process({ target: party, args: [barrier] }));
 *   ps.forEach((p) => p.start());
 *   for (const p of ps) await p.join();
 * }
 * ```
 */
export class Barrier implements Disposable {
  readonly #block: Block;
  readonly #words: Int32Array;
  readonly #timeout: number | undefined;
  readonly #action: BarrierAction | undefined;
  readonly #revived: RevivedAction | undefined;
  #closed = false;

  constructor(parties: number, options?: BarrierOptions) {
    if (adopting !== undefined) {
      const a = adopting;
      adopting = undefined;
      this.#block = a.block;
      this.#timeout = a.timeout;
      this.#revived = a.action;
    } else {
      checkInteger(parties, "parties", 1, MAX_PARTIES);
      const opts = checkOptions(options);
      if (opts.action !== undefined && opts.action !== null) checkFunction(opts.action, "action");
      this.#action = (opts.action ?? undefined);
      this.#timeout = checkTimeout(opts.timeout);
      this.#block = Block.create((PIDS + parties) * 4, this);
      this.#block.words[PARTIES] = parties;
    }
    this.#words = this.#block.words;
  }

  /** How many parties each pass waits for. */
  get parties(): number {
    return this.#words[PARTIES]!;
  }

  /** How many parties wait in the current pass. */
  get nWaiting(): number {
    const state = Atomics.load(this.#words, STATE);
    return state === FILLING || state === ACTION ? Atomics.load(this.#words, COUNT) : 0;
  }

  /** Whether the barrier is broken (after abort(), a reset() during a wait, or a timeout). */
  get broken(): boolean {
    return Atomics.load(this.#words, STATE) === BROKEN;
  }

  #check(): void {
    if (this.#closed) throw closedError("Barrier");
  }

  #deadline(options: unknown): { deadline: number; signal: AbortSignal | undefined } {
    const opts = checkOptions(options);
    const timeout = opts.timeout === undefined ? this.#timeout : checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    return { deadline: timeout === undefined ? Infinity : performance.now() + timeout, signal };
  }

  /**
   * Waits until `parties` parties wait, then resolves with this party's index (0..parties-1;
   * exactly one 0 per pass, where the action ran). Rejects with BrokenBarrierError when the
   * barrier is (or gets) broken, reset, or times out; with the action's error where it failed.
   */
  async wait(options?: BarrierWaitOptions): Promise<number> {
    const { deadline, signal } = this.#deadline(options);
    this.#check();
    if (signal?.aborted) throw new AbortError(signal.reason);
    const run = runWait(this.#words, deadline);
    let step = run.next();
    while (!step.done) {
      const request = step.value;
      let reply: unknown;
      try {
        if ("sleep" in request) reply = await sleepAsync(this.#words, ...request.sleep, signal);
        else await this.#runAction(false);
      } catch (err) {
        step = run.throw(err);
        continue;
      }
      step = run.next(reply);
    }
    return step.value;
  }

  /** The blocking twin of wait(); the action must then be synchronous. */
  waitSync(options?: Omit<BarrierWaitOptions, "signal">): number {
    const { deadline } = this.#deadline(options);
    this.#check();
    const run = runWait(this.#words, deadline);
    let step = run.next();
    while (!step.done) {
      const request = step.value;
      let reply: unknown;
      try {
        if ("sleep" in request) reply = sleepSync(this.#words, ...request.sleep);
        else this.#runAction(true);
      } catch (err) {
        step = run.throw(err);
        continue;
      }
      step = run.next(reply);
    }
    return step.value;
  }

  #runAction(sync: true): undefined;
  #runAction(sync: false): Promise<void>;
  #runAction(sync: boolean): Promise<void> | undefined {
    let fn = this.#action ?? this.#revived?.fn;
    if (fn === undefined && this.#revived !== undefined) {
      if (sync) {
        throw new StateError("the barrier's action is still being loaded in this process; use wait() instead of waitSync()", {
          code: ErrorCodes.TARGET_NOT_FOUND,
        });
      }
      const revived = this.#revived;
      return revived.promise.then((f) => {
        fn = f;
        return this.#callAction(f, false);
      });
    }
    if (fn === undefined) return sync ? undefined : Promise.resolve();
    return this.#callAction(fn, sync);
  }

  #callAction(fn: BarrierAction, sync: boolean): Promise<void> | undefined {
    const result = fn();
    if (typeof (result as Promise<unknown> | undefined)?.then !== "function") return sync ? undefined : Promise.resolve();
    if (sync) {
      throw new StateError("the barrier's action returned a promise, which waitSync() cannot wait for; use wait()", {
        code: ErrorCodes.INVALID_ARG_VALUE,
      });
    }
    return Promise.resolve(result).then(() => undefined);
  }

  /** Puts the barrier back to empty; parties waiting now get BrokenBarrierError. */
  reset(): void {
    this.#check();
    lock(this.#words);
    try {
      const words = this.#words;
      if (words[COUNT]! > 0) {
        const state = words[STATE];
        if (state === FILLING || state === ACTION || state === BROKEN) setState(words, RESETTING);
        else setState(words, state!);
      } else {
        setState(words, FILLING);
      }
    } finally {
      unlock(this.#words);
    }
  }

  /** Breaks the barrier: parties waiting now, and later ones until reset(), get BrokenBarrierError. */
  abort(): void {
    this.#check();
    lock(this.#words);
    try {
      setState(this.#words, BROKEN);
    } finally {
      unlock(this.#words);
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
    let action: TargetDescriptor | undefined;
    if (this.#action !== undefined) action = describeTarget(this.#action, "the barrier's action");
    else if (this.#revived !== undefined) action = revivedDescriptors.get(this.#revived);
    const state: BarrierState = { block: this.#block.handle(transport), timeout: this.#timeout, action };
    return { type: "Barrier", state };
  }

  toString(): string {
    return `<Barrier parties=${this.parties} waiting=${this.nWaiting}${this.broken ? " broken" : ""}>`;
  }
}

// A received action keeps its descriptor, so the barrier can travel on to further children.
const revivedDescriptors = new WeakMap<RevivedAction, TargetDescriptor>();

function reviveAction(descriptor: TargetDescriptor): RevivedAction {
  const revived: RevivedAction = {
    promise: reviveTarget(descriptor).then((fn) => {
      revived.fn = fn;
      return revived.fn;
    }),
  };
  // The error surfaces where the action is needed; until then it must not be "unhandled".
  revived.promise.catch(() => undefined);
  revivedDescriptors.set(revived, descriptor);
  return revived;
}

registerHandleType("Barrier", (state) => {
  const s = state as Partial<BarrierState> | null;
  if (s?.block === undefined) throw new ArgumentError("malformed Barrier handle", ErrorCodes.UNSERIALIZABLE);
  const block = Block.fromHandle(s.block);
  adopting = { block, timeout: s.timeout, action: s.action === undefined ? undefined : reviveAction(s.action) };
  return new Barrier(1);
});
