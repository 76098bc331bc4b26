// The server side of SyncManager.Lock and RLock. The holder is the caller's connection (one per
// process or thread), so a holder that dies, taking its connection with it, releases the lock
// instead of leaving everyone else waiting forever (CPython's manager locks stay held).
import { ErrorCodes, StateError } from "../../errors.js";
import { caller, kCallerGone, type CallerAware } from "../call-context.js";
import { blockOptions, Changed } from "./changed.js";

function notHeld(what: string): StateError {
  return new StateError(what, { code: ErrorCodes.NOT_HELD });
}

/** What a Condition needs from its lock. */
export interface ConditionLock {
  /** Releases completely for `conn`, returning what restore() needs. */
  releaseAll(conn: number): number;
  restore(conn: number, saved: number, signal: AbortSignal): Promise<void>;
  isOwnedBy(conn: number): boolean;
  acquire(options?: { block?: boolean; timeout?: number }): Promise<boolean>;
  release(): void;
}

export class ServerLock implements CallerAware, ConditionLock {
  #holder: number | null = null;
  readonly #changed = new Changed();

  async acquire(options?: { block?: boolean; timeout?: number }): Promise<boolean> {
    const { conn, signal } = caller();
    const { block, deadline } = blockOptions(options);
    while (this.#holder !== null) {
      if (!block) return false;
      if (!(await this.#changed.wait(deadline, signal)) && this.#holder !== null) return false;
    }
    this.#holder = conn;
    return true;
  }

  /** Any caller may release a held Lock (as Python's); releasing a free one throws. */
  release(): void {
    if (this.#holder === null) throw notHeld("release of an unlocked lock");
    this.#holder = null;
    this.#changed.notifyAll();
  }

  locked(): boolean {
    return this.#holder !== null;
  }

  isOwnedBy(conn: number): boolean {
    return this.#holder === conn;
  }

  releaseAll(conn: number): number {
    if (this.#holder !== conn) throw notHeld("cannot wait on an un-acquired lock");
    this.release();
    return 1;
  }

  async restore(conn: number, _saved: number, signal: AbortSignal): Promise<void> {
    while (this.#holder !== null) await this.#changed.wait(undefined, signal);
    this.#holder = conn;
  }

  [kCallerGone](conn: number): void {
    if (this.#holder === conn) this.release();
  }
}

export class ServerRLock implements CallerAware, ConditionLock {
  #owner: number | null = null;
  #count = 0;
  readonly #changed = new Changed();

  async acquire(options?: { block?: boolean; timeout?: number }): Promise<boolean> {
    const { conn, signal } = caller();
    if (this.#owner === conn) {
      this.#count++;
      return true;
    }
    const { block, deadline } = blockOptions(options);
    while (this.#owner !== null) {
      if (!block) return false;
      if (!(await this.#changed.wait(deadline, signal)) && this.#owner !== null) return false;
    }
    this.#owner = conn;
    this.#count = 1;
    return true;
  }

  /** Only the owner may release an RLock. */
  release(): void {
    const { conn } = caller();
    if (this.#owner !== conn) throw notHeld("cannot release un-acquired lock");
    if (--this.#count === 0) {
      this.#owner = null;
      this.#changed.notifyAll();
    }
  }

  isOwnedBy(conn: number): boolean {
    return this.#owner === conn;
  }

  releaseAll(conn: number): number {
    if (this.#owner !== conn) throw notHeld("cannot wait on an un-acquired lock");
    const saved = this.#count;
    this.#owner = null;
    this.#count = 0;
    this.#changed.notifyAll();
    return saved;
  }

  async restore(conn: number, saved: number, signal: AbortSignal): Promise<void> {
    while (this.#owner !== null) await this.#changed.wait(undefined, signal);
    this.#owner = conn;
    this.#count = saved;
  }

  [kCallerGone](conn: number): void {
    if (this.#owner === conn) {
      this.#owner = null;
      this.#count = 0;
      this.#changed.notifyAll();
    }
  }
}
