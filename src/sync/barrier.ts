// Barrier: `parties` processes or threads meet, then all go on (Python's Barrier; its state
// machine: filling -> draining -> filling, with resetting and broken).
//
// Words: [0] a robust mutex, [1] the state, [2] the parties inside wait(), [3] a sequence number
// bumped (then woken) on every state change, [4] sleepers on it, [5] parties, [8..] one pid per
// party inside wait(). The mutex is only ever held for a few synchronous steps, never across an
// await, so even the async path takes it with a (brief) blocking lock; every wait for the state
// to change happens on word 3 with the mutex released.
//
// Indices: the last party to arrive gets 0 and runs the action, the others parties - 1 down to
// 1 in order of arrival (Python numbers by arrival and runs the action in the last arrival; its
// documentation promises neither, and here "the action runs where wait() returned 0" holds).
// Across processes the action must be a target (an exported function, a fromModule reference or
// a self-contained function): it runs in whichever process or thread gets index 0.
//
// A party that dies inside wait() is noticed by the others within a slice (100 ms) of sleeping:
// it is removed and the barrier breaks, so nobody waits for it forever (Python's would).
import { AbortError } from "../abort.js";
import { ArgumentError, BrokenBarrierError, ErrorCodes, StateError } from "../errors.js";
import { waiter } from "../native/wait.js";
import { pidAlive } from "../runtime.js";
import { Block, closedError } from "../shared/block.js";
import type { SegmentHandle } from "../shared/segment.js";
import { describeTarget, type TargetDescriptor } from "../target.js";
import { reviveTarget } from "../target-revive.js";
import { kReduce, registerHandleType, type Reduced, type Transport } from "../transport/handles.js";
import { checkFunction, checkInteger, checkOptions, checkSignal, checkTimeout } from "../validate.js";
import { lockSync, SELF, unlock } from "./mutex.js";

const MUTEX = 0;
const STATE = 1;
const COUNT = 2;
const SEQ = 3;
const SLEEPERS = 4;
const PARTIES = 5;
const PIDS = 8;

const FILLING = 0;
const DRAINING = 1;
const ACTION = 2; // everyone arrived; the last arrival runs the action
const RESETTING = -1;
const BROKEN = -2;

const SLICE_MS = 100;
const MAX_PARTIES = 1 << 20;
const me = SELF; // see mutex.ts: the thread id, so dead threads are seen too

export type BarrierAction = () => unknown;

export interface BarrierOptions {
  /** Runs once per pass, in the party that gets index 0, before any party is released. */
  action?: BarrierAction;
  /** Default timeout of wait() in ms; a wait that times out breaks the barrier. */
  timeout?: number;
}

export interface BarrierWaitOptions {
  timeout?: number;
  /** Leaving early breaks the barrier for the others, like a timeout. */
  signal?: AbortSignal;
}

interface BarrierState {
  block: SegmentHandle;
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

type Sleep = (expected: number, deadline: number) => boolean | Promise<boolean>;

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

  get parties(): number {
    return this.#words[PARTIES]!;
  }

  /** How many parties wait in the current pass. */
  get nWaiting(): number {
    const state = Atomics.load(this.#words, STATE);
    return state === FILLING || state === ACTION ? Atomics.load(this.#words, COUNT) : 0;
  }

  get broken(): boolean {
    return Atomics.load(this.#words, STATE) === BROKEN;
  }

  #check(): void {
    if (this.#closed) throw closedError("Barrier");
  }

  // ---- steps run with the mutex held ----

  #lock(): void {
    lockSync(this.#words, MUTEX);
  }

  #unlock(): void {
    unlock(this.#words, MUTEX);
  }

  #setState(state: number): void {
    const words = this.#words;
    Atomics.store(words, STATE, state);
    Atomics.add(words, SEQ, 1);
    if (Atomics.load(words, SLEEPERS) > 0) waiter().wake(words, SEQ);
  }

  #enterSlot(): void {
    const words = this.#words;
    const parties = words[PARTIES]!;
    for (let i = 0; i < parties; i++) {
      if (words[PIDS + i] === 0) {
        words[PIDS + i] = me;
        return;
      }
    }
  }

  /** A party leaves wait(): the last one out of a finished or reset pass reopens the barrier. */
  #exit(): void {
    const words = this.#words;
    const parties = words[PARTIES]!;
    for (let i = 0; i < parties; i++) {
      if (words[PIDS + i] === me) {
        words[PIDS + i] = 0;
        break;
      }
    }
    words[COUNT] = words[COUNT]! - 1;
    if (words[COUNT] === 0 && (words[STATE] === DRAINING || words[STATE] === RESETTING)) this.#setState(FILLING);
  }

  /** Removes parties whose process died inside wait(); breaks the barrier if there were any. */
  #reapDead(): void {
    const words = this.#words;
    const parties = words[PARTIES]!;
    let dead = 0;
    for (let i = 0; i < parties; i++) {
      const pid = words[PIDS + i]!;
      if (pid !== 0 && pid !== me && !pidAlive(pid)) {
        words[PIDS + i] = 0;
        dead++;
      }
    }
    if (dead === 0) return;
    words[COUNT] = words[COUNT]! - dead;
    const state = words[STATE];
    if (state === FILLING || state === ACTION) this.#setState(BROKEN);
    else if (words[COUNT] === 0 && (state === DRAINING || state === RESETTING)) this.#setState(FILLING);
  }

  // ---- the algorithm, written once for both wait() and waitSync() ----

  /**
   * Runs wait() as a generator: it yields whenever it has to sleep (with the mutex released)
   * or to run the action, and the sync or async driver below does that.
   */
  *#run(deadline: number): Generator<{ sleep: [number, number] } | { action: true }, number, unknown> {
    const words = this.#words;
    this.#lock();
    // Block while the barrier drains or resets (Python's _enter).
    for (;;) {
      const state = words[STATE];
      if (state !== DRAINING && state !== RESETTING && state !== ACTION) break;
      const seq = Atomics.load(words, SEQ);
      this.#unlock();
      const slept = (yield { sleep: [seq, deadline] }) as boolean;
      this.#lock();
      if (!slept) {
        this.#reapDead();
        if (performance.now() >= deadline) {
          this.#unlock();
          throw new BrokenBarrierError("timed out waiting for the barrier to finish its previous pass");
        }
      }
    }
    if (words[STATE] === BROKEN) {
      this.#unlock();
      throw new BrokenBarrierError();
    }
    const arrival = words[COUNT]!;
    words[COUNT] = arrival + 1;
    this.#enterSlot();
    const parties = words[PARTIES]!;
    try {
      if (arrival + 1 === parties) {
        this.#setState(ACTION);
        this.#unlock();
        try {
          yield { action: true };
        } catch (err) {
          this.#lock();
          this.#setState(BROKEN);
          throw err;
        }
        this.#lock();
        if (words[STATE] !== ACTION) throw new BrokenBarrierError("the barrier was reset or aborted while its action ran");
        this.#setState(DRAINING);
        return 0;
      }
      // Wait until released (Python's _wait).
      for (;;) {
        const state = words[STATE];
        if (state !== FILLING && state !== ACTION) break;
        const seq = Atomics.load(words, SEQ);
        this.#unlock();
        let slept: boolean;
        try {
          slept = (yield { sleep: [seq, deadline] }) as boolean;
        } catch (err) {
          // Aborted: leaving early breaks the pass for everyone.
          this.#lock();
          if (words[STATE] === FILLING || words[STATE] === ACTION) this.#setState(BROKEN);
          throw err;
        }
        this.#lock();
        if (!slept) {
          this.#reapDead();
          if (performance.now() >= deadline && (words[STATE] === FILLING || words[STATE] === ACTION)) {
            this.#setState(BROKEN);
            throw new BrokenBarrierError("timed out waiting at the barrier; it is now broken");
          }
        }
      }
      if (words[STATE] !== DRAINING) throw new BrokenBarrierError();
      return parties - 1 - arrival;
    } finally {
      this.#exit();
      this.#unlock();
    }
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
    const sleep = async (expected: number, until: number): Promise<boolean> => {
      const words = this.#words;
      Atomics.add(words, SLEEPERS, 1);
      try {
        const left = until === Infinity ? SLICE_MS : Math.max(0, Math.min(SLICE_MS, until - performance.now()));
        return (await waiter().waitAsync(words, SEQ, expected, { timeout: left, signal })) !== "timed-out";
      } finally {
        Atomics.sub(words, SLEEPERS, 1);
      }
    };
    const run = this.#run(deadline);
    let step = run.next();
    while (!step.done) {
      const request = step.value;
      let reply: unknown;
      try {
        if ("sleep" in request) reply = await sleep(...request.sleep);
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
    const sleep: Sleep = (expected, until) => {
      const words = this.#words;
      Atomics.add(words, SLEEPERS, 1);
      try {
        const left = until === Infinity ? SLICE_MS : Math.max(0, Math.min(SLICE_MS, until - performance.now()));
        return waiter().wait(words, SEQ, expected, left) !== "timed-out";
      } finally {
        Atomics.sub(words, SLEEPERS, 1);
      }
    };
    const run = this.#run(deadline);
    let step = run.next();
    while (!step.done) {
      const request = step.value;
      let reply: unknown;
      try {
        if ("sleep" in request) reply = sleep(...request.sleep);
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
    this.#lock();
    try {
      const words = this.#words;
      if (words[COUNT]! > 0) {
        const state = words[STATE];
        if (state === FILLING || state === ACTION || state === BROKEN) this.#setState(RESETTING);
        else this.#setState(state!);
      } else {
        this.#setState(FILLING);
      }
    } finally {
      this.#unlock();
    }
  }

  /** Breaks the barrier: parties waiting now, and later ones until reset(), get BrokenBarrierError. */
  abort(): void {
    this.#check();
    this.#lock();
    try {
      this.#setState(BROKEN);
    } finally {
      this.#unlock();
    }
  }

  /** Stops using it here; the creator also unlinks its name (see shared/block.ts). */
  close(): void {
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
