// The server side of SyncManager.Semaphore and BoundedSemaphore.
import { ErrorCodes, StateError } from "../../errors.js";
import { checkInteger } from "../../validate.js";
import { caller } from "../call-context.js";
import { blockOptions, Changed } from "./changed.js";

export class ServerSemaphore {
  protected value: number;
  readonly #changed = new Changed();

  constructor(value = 1) {
    this.value = checkInteger(value, "value", 0);
  }

  async acquire(options?: { block?: boolean; timeout?: number }): Promise<boolean> {
    const { signal } = caller();
    const { block, deadline } = blockOptions(options);
    while (this.value === 0) {
      if (!block) return false;
      if (!(await this.#changed.wait(deadline, signal)) && this.value === 0) return false;
    }
    this.value--;
    return true;
  }

  release(n = 1): void {
    checkInteger(n, "n", 1);
    this.value += n;
    this.#changed.notifyAll();
  }

  getValue(): number {
    return this.value;
  }
}

export class ServerBoundedSemaphore extends ServerSemaphore {
  readonly #initial: number;

  constructor(value = 1) {
    super(value);
    this.#initial = this.value;
  }

  override release(n = 1): void {
    checkInteger(n, "n", 1);
    if (this.value + n > this.#initial) throw new StateError("semaphore released too many times", { code: ErrorCodes.NOT_HELD });
    super.release(n);
  }
}
