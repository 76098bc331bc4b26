// The server side of SharedMemoryManager (CPython's SharedMemoryTracker): the names of the
// segments its clients created, unlinked when the server stops.
import { unlinkSegment } from "../../shared/segment.js";
import { kServerStopped, type ServerStopAware } from "../call-context.js";

export class ServerSegmentTracker implements ServerStopAware {
  readonly #names = new Set<string>();

  track(name: string): void {
    this.#names.add(name);
  }

  untrack(name: string): void {
    this.#names.delete(name);
  }

  names(): string[] {
    return [...this.#names];
  }

  /** Unlinks every tracked segment (those already gone are skipped). */
  unlinkAll(): void {
    for (const name of this.#names) {
      try {
        unlinkSegment(name);
      } catch {
        // Unlinked by its user already.
      }
    }
    this.#names.clear();
  }

  [kServerStopped](): void {
    this.unlinkAll();
  }
}
