// Lock: a non-recursive lock shared by processes and threads (Python's multiprocessing.Lock).
// Any process or thread may release it (as in Python); releasing it when free throws
// ERR_NOT_HELD. Robust: a holder that dies is replaced by the next acquirer (see mutex-lock.ts).
import { Block } from "../shared/block.js";
import { registerHandleType } from "../transport/handles.js";
import { adopt, MutexLock, type LockState } from "./mutex-lock.js";

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
