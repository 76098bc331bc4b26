// The server side of SyncManager.Event.
import { caller } from "../call-context.js";
import { Changed, deadlineOf } from "./changed.js";

export class ServerEvent {
  #flag = false;
  readonly #changed = new Changed();

  set(): void {
    this.#flag = true;
    this.#changed.notifyAll();
  }

  clear(): void {
    this.#flag = false;
  }

  isSet(): boolean {
    return this.#flag;
  }

  /** Resolves true once set, or false at the timeout. */
  async wait(options?: { timeout?: number }): Promise<boolean> {
    const { signal } = caller();
    const deadline = deadlineOf(options);
    while (!this.#flag) {
      if (!(await this.#changed.wait(deadline, signal))) return this.#flag;
    }
    return true;
  }
}
