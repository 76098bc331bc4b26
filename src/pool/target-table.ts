// The functions a pool has seen, each located once (target.ts) and named by a small id after that.
import { resolveTarget } from "../target.js";
import type { TargetEntry } from "./task.js";

export class TargetTable {
  readonly #byDescriptor = new Map<string, TargetEntry>();
  readonly #byFunction = new WeakMap<object, TargetEntry>();

  /** The entry for `fn` if it is known already (the fast path), else undefined. */
  known(fn: object): TargetEntry | undefined {
    return this.#byFunction.get(fn);
  }

  /** Locates `fn`; functions with the same descriptor share one entry. */
  async resolve(fn: (...args: never[]) => unknown): Promise<TargetEntry> {
    const descriptor = await resolveTarget(fn);
    const key = JSON.stringify(descriptor);
    let entry = this.#byDescriptor.get(key);
    if (entry === undefined) {
      entry = { id: this.#byDescriptor.size + 1, descriptor, ema: undefined };
      this.#byDescriptor.set(key, entry);
    }
    this.#byFunction.set(fn, entry);
    return entry;
  }
}
