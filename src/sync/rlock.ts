// RLock: a recursive lock shared by processes and threads (Python's multiprocessing.RLock). Its
// owner is (process, thread): the thread that acquired it may acquire it again and must release
// it as many times; anyone else's release throws ERR_NOT_HELD. Within a thread, ownership belongs
// to the thread, not to an async task (as Python's RLock belongs to a thread, not a coroutine).
// Robust: a holding process that dies is replaced by the next acquirer (see mutex-lock.ts).
import { Block } from "../shared/block.js";
import { registerHandleType } from "../transport/handles.js";
import { adopt, MutexLock, type LockState } from "./mutex-lock.js";

/**
 * A re-entrant lock (Python's `multiprocessing.RLock`): its owner (a process and thread) may acquire it again; it is free once released as often.
 *
 * @example
 * ```ts
 * import { RLock } from "multiproc";
 * const rlock = new RLock();
 * await rlock.acquire();
 * await rlock.acquire(); // the same owner: no deadlock
 * rlock.release();
 * rlock.release();
 * ```
 */
export class RLock extends MutexLock {
  constructor() {
    super(true);
  }

  protected get kind(): "RLock" {
    return "RLock";
  }
}

registerHandleType("RLock", (state) => {
  adopt(Block.fromHandle((state as LockState).block));
  return new RLock();
});
