// SharedMemoryManager (Python's multiprocessing.managers.SharedMemoryManager): segments are made
// here, in the caller's process, and their names are registered with the manager's server, which
// unlinks every one of them when it shuts down (or when its process ends).
import { ErrorCodes, StateError } from "../errors.js";
import { ShareableList, type ShareableItem } from "../shared/shareable-list.js";
import { SharedMemory } from "../shared/shared-memory.js";
import { BaseManager, type StartOptions } from "./base-manager.js";
import { SHM_TYPES } from "./builtin-types.js";
import type { BaseProxy } from "./proxy.js";

type Tracker = BaseProxy & { track(name: string): Promise<void>; unlinkAll(): Promise<void> };

/**
 * A manager that makes SharedMemory blocks and ShareableLists and unlinks all of them at shutdown (Python's `SharedMemoryManager`).
 *
 * @example
 * ```ts
 * import { SharedMemoryManager } from "multiproc/managers";
 * await using smm = new SharedMemoryManager();
 * await smm.start();
 * const sl = await smm.ShareableList([1, 2, 3]);
 * const shm = await smm.SharedMemory(1024);
 * // both are unlinked when smm shuts down
 * ```
 */
export class SharedMemoryManager extends BaseManager {
  protected static override builtinTypeids: ReadonlySet<string> = new Set(Object.keys(SHM_TYPES));
  #tracker: Tracker | undefined;
  #shut = false;

  override async start(options?: StartOptions): Promise<void> {
    await super.start(options);
    this.#tracker = (await this.create("SharedMemoryTracker")) as unknown as Tracker;
  }

  override async connect(): Promise<void> {
    await super.connect();
    this.#tracker = (await this.create("SharedMemoryTracker")) as unknown as Tracker;
  }

  /** A new segment of `size` bytes, unlinked by the manager at shutdown. */
  async SharedMemory(size: number): Promise<SharedMemory> {
    const tracker = await this.#ready();
    const shm = new SharedMemory({ create: true, size });
    try {
      await tracker.track(shm.name);
    } catch (err) {
      shm.unlink();
      throw err;
    }
    return shm;
  }

  /** A new ShareableList holding `sequence`, unlinked by the manager at shutdown. */
  async ShareableList(sequence: Iterable<ShareableItem>): Promise<ShareableList> {
    const tracker = await this.#ready();
    const list = new ShareableList(sequence);
    try {
      await tracker.track(list.shm.name);
    } catch (err) {
      list.shm.unlink();
      throw err;
    }
    return list;
  }

  async #ready(): Promise<Tracker> {
    if (this.#shut) throw new StateError("the manager is shut down", { code: ErrorCodes.CLOSED });
    // create() rejects with a clear "not started" error when there is no server yet.
    this.#tracker ??= (await this.create("SharedMemoryTracker")) as unknown as Tracker;
    return this.#tracker;
  }

  override async shutdown(): Promise<void> {
    this.#shut = true;
    try {
      await this.#tracker?.unlinkAll();
    } catch {
      // The server is gone: it unlinked them when it stopped.
    }
    await super.shutdown();
  }
}

SharedMemoryManager.register("SharedMemoryTracker", undefined, { createMethod: false });
