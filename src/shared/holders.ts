// Who holds a shared object (a Pipe end, a Queue): a small table of owner slots in the object's
// own segment, so that any process can tell when every holder has closed it or died. This gives
// Python's pipe semantics without file descriptors: recv reports EOF once every holder of the other
// end is gone, and the last holder of an object unlinks its segment.
//
// A slot is one 64-bit word, changed only by compare-and-swap (no lock that a dying holder could
// keep):   bits 0-22 pid | bits 23-24 state | bits 25-56 thread id (held) or token (in transit)
//   0                      free
//   HELD(pid, threadId)    a live object in that process and thread
//   TRANSIT(pid, token)    an object on its way to another process or thread (inside Process args,
//                          a queue item or a pipe message), counted as held until the receiver
//                          claims the slot with the token, or the sender dies, or the transfer is
//                          abandoned (a child that died before reading its args, see handles.ts).
// A holder is dead when its process is gone (/proc), or, for a thread of this process, when the
// addon's thread registry says the thread ended (worker.terminate() runs no JS, but Node still
// runs the environment's cleanup hooks). Dead holders' slots are freed by whoever counts.
//
// Counting is monotone: once no slot is held, nothing can hold one again (new holders only come
// from transits, which count), so "the last holder is gone" is a stable fact any process may act on.
import { threadId } from "node:worker_threads";
import { ErrorCodes, ProcessError } from "../errors.js";
import { native } from "../native/binding.js";
import { pidAlive } from "../runtime.js";

const PID_MASK = 0x7fffffn;
const STATE_SHIFT = 23n;
const EXTRA_SHIFT = 25n;
const HELD = 1n;
const TRANSIT = 2n;
const MASK32 = 0xffffffffn;

/** Bytes a table of `slots` slots takes (a token counter, then the slots); a multiple of 8. */
export function holderTableBytes(slots: number): number {
  return 8 + 8 * slots;
}

const myPid = process.pid;
const binding = native();
binding?.registerThread(threadId);

function held(pid: number, tid: number): bigint {
  return (BigInt(tid) << EXTRA_SHIFT) | (HELD << STATE_SHIFT) | BigInt(pid);
}

function transit(pid: number, token: number): bigint {
  return (BigInt(token) << EXTRA_SHIFT) | (TRANSIT << STATE_SHIFT) | BigInt(pid);
}

/** Whether the owner recorded in slot value `v` is gone. */
function ownerDead(v: bigint): boolean {
  const pid = Number(v & PID_MASK);
  if (pid !== myPid) return !pidAlive(pid);
  if (((v >> STATE_SHIFT) & 3n) === TRANSIT) return false; // a transit belongs to the whole process
  const tid = Number((v >> EXTRA_SHIFT) & MASK32);
  if (tid === threadId || binding === null) return false;
  return !binding.threadAlive(tid);
}

/** A slot reserved for an object in flight; the receiver claims it with the token. */
export interface Transit {
  slot: number;
  token: number;
}

export class HolderTable {
  readonly #slots: BigInt64Array;
  readonly #tokens: Int32Array;

  constructor(buffer: SharedArrayBuffer, byteOffset: number, readonly size: number) {
    this.#tokens = new Int32Array(buffer, byteOffset, 2);
    this.#slots = new BigInt64Array(buffer, byteOffset + 8, size);
  }

  #take(value: bigint): number {
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < this.size; i++) {
        if (Atomics.compareExchange(this.#slots, i, 0n, value) === 0n) return i;
      }
      this.live(); // frees the slots of dead holders, then try once more
    }
    throw new ProcessError(`too many processes and threads hold this object (at most ${this.size})`, { code: ErrorCodes.TOO_MANY_HOLDERS });
  }

  /** Records this thread as a holder; returns the slot. */
  hold(): number {
    return this.#take(held(myPid, threadId));
  }

  /** Reserves a slot for a copy on its way to another process or thread. */
  reserve(): Transit {
    const token = (Atomics.add(this.#tokens, 0, 1) + 1) & 0x7fffffff;
    return { slot: this.#take(transit(myPid, token)), token };
  }

  /** Turns a reserved slot into this thread's; -1 if it is gone (sender died or gave up). */
  claim(t: Transit, senderPid: number): number {
    const ok = Atomics.compareExchange(this.#slots, t.slot, transit(senderPid, t.token), held(myPid, threadId)) === transit(senderPid, t.token);
    return ok ? t.slot : -1;
  }

  /** Gives up a reservation nobody claimed; true if it was still there. */
  cancel(t: Transit): boolean {
    const v = transit(myPid, t.token);
    return Atomics.compareExchange(this.#slots, t.slot, v, 0n) === v;
  }

  /** Frees this thread's slot. */
  release(slot: number): void {
    Atomics.compareExchange(this.#slots, slot, held(myPid, threadId), 0n);
  }

  /** How many holders are alive (transits included); frees the slots of dead ones. */
  live(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) {
      const v = Atomics.load(this.#slots, i);
      if (v === 0n) continue;
      if (ownerDead(v)) Atomics.compareExchange(this.#slots, i, v, 0n);
      else n++;
    }
    return n;
  }
}

/**
 * One holder's claim on a shared object, kept apart from the object so that a
 * FinalizationRegistry can release it after the object is collected. `onRelease` runs after the
 * slot is freed (it decides whether that was the last holder).
 */
export class Hold {
  #slot: number;

  constructor(readonly table: HolderTable, slot: number, readonly onRelease: () => void) {
    this.#slot = slot;
    atExit.add(this);
  }

  get released(): boolean {
    return this.#slot < 0;
  }

  release(): void {
    if (this.#slot < 0) return;
    this.table.release(this.#slot);
    this.#slot = -1;
    atExit.delete(this);
    collected.unregister(this);
    this.onRelease();
  }
}

// Holders left open when this thread ends normally are released; a collected object's hold too.
const atExit = new Set<Hold>();
process.on("exit", () => {
  for (const h of [...atExit]) {
    try {
      h.release();
    } catch {
      // Exiting anyway.
    }
  }
});
const collected: FinalizationRegistry<Hold> = new FinalizationRegistry((h) => h.release());

/** Ties a hold to its owner's lifetime: if the owner is collected unreleased, the slot is freed. */
export function releaseWhenCollected(owner: object, hold: Hold): void {
  collected.register(owner, hold, hold);
}

export { myPid };
