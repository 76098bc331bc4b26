// Lock: a non-recursive lock shared by processes and threads (Python's multiprocessing.Lock).
// Any process or thread may release it (as in Python); releasing it when free throws
// ERR_NOT_HELD. Robust: a holder that dies is replaced by the next acquirer (see mutex-lock.ts).
import { Block } from "../shared/block.js";
import { registerHandleType } from "../transport/handles.js";
import { adopt, MutexLock, type LockState } from "./mutex-lock.js";

/**
 * A mutual-exclusion lock shared by processes and threads (Python's `multiprocessing.Lock`), on a futex. A lock whose holder died is handed to the next acquirer, which is told.
 *
 * @example
 * ```ts
 * import { Lock } from "multiproc";
 * const lock = new Lock();
 * {
 *   await using _ = await lock.hold(); // released at the end of the block
 *   console.log("only one process at a time here");
 * }
 * // Without `await using` (plain JS before Node 24): acquire/try/finally
 * await lock.acquire();
 * try {
 *   // ...
 * } finally {
 *   lock.release();
 * }
 * ```
 */
export class Lock extends MutexLock {
  constructor() {
    super(false);
  }

  protected get kind(): "Lock" {
    return "Lock";
  }
}

registerHandleType("Lock", (state) => {
  adopt(Block.fromHandle((state as LockState).block));
  return new Lock();
});
