// How a peer wakes a process's event loop: a pipe (the Pool's workers wake their parent; local
// manager clients wake their server, managers/link-server.ts). An asynchronous futex wait costs
// a registration with the waiter thread per wait and two thread hops per wake (the waiter thread,
// then the event loop); a pipe is registered once with epoll and wakes the event loop directly.
//
// Per worker, the control word PARENT_WAITING says the parent has read everything and relies on
// the pipe. A worker that publishes a frame and finds the flag set clears it and writes one byte.
// The parent sets the flag, then looks at the ring again (both sides use sequentially consistent
// Atomics, so either the parent sees the frame or the worker sees the flag).
//
// Process workers open the pipe as /proc/<parent pid>/fd/<fd>; thread workers share the parent's
// descriptors. A worker that cannot open it says so in its `ready` message, and the parent waits on
// that worker's ring instead.
import { closeSync, constants, fstatSync, openSync, writeSync } from "node:fs";
import { Socket } from "node:net";
import { native } from "../native/binding.js";

export interface WakeTarget {
  pid: number;
  fd: number;
  /**
   * The pipe's inode, when the opener may live in another pid namespace (a manager's client that
   * shares /dev/shm): /proc/<pid>/fd/<fd> there could name another process's descriptor, so the
   * opener checks that it got this very pipe.
   */
  ino?: number;
}

export class WakePipe {
  readonly target: WakeTarget;
  readonly #socket: Socket;
  readonly #writeFd: number;
  #closed = false;

  private constructor(readFd: number, writeFd: number, onWake: () => void) {
    this.#writeFd = writeFd;
    this.target = { pid: process.pid, fd: writeFd, ino: fstatSync(writeFd).ino };
    this.#socket = new Socket({ fd: readFd, readable: true, writable: false });
    this.#socket.on("data", onWake);
    this.#socket.on("error", () => undefined);
    this.#socket.unref();
  }

  /** A pipe, or undefined without the native addon (the parent then waits on the rings). */
  static open(onWake: () => void): WakePipe | undefined {
    const binding = native();
    if (binding === null) return undefined;
    try {
      const [r, w] = binding.pipe();
      return new WakePipe(r, w, onWake);
    } catch {
      return undefined;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    try {
      closeSync(this.#writeFd);
    } catch {
      // Closed already.
    }
  }
}

const ONE = new Uint8Array([1]);

/** Opens the writing end of `target`'s pipe; -1 if it cannot be opened here (or is not that pipe). */
export function openWake(target: WakeTarget | null): number {
  if (target === null) return -1;
  if (target.pid === process.pid) return target.fd; // a thread shares the process's descriptors
  let fd = -1;
  try {
    fd = openSync(`/proc/${target.pid}/fd/${target.fd}`, constants.O_WRONLY | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFIFO() || (target.ino !== undefined && st.ino !== target.ino)) throw new Error("not the pipe");
    return fd;
  } catch {
    if (fd >= 0) closeWake(target, fd);
    return -1;
  }
}

/** Closes what openWake opened (a thread's descriptor is the process's, left alone). */
export function closeWake(target: WakeTarget | null, fd: number): void {
  if (fd < 0 || target === null || target.pid === process.pid) return;
  try {
    closeSync(fd);
  } catch {
    // Closed already.
  }
}

/** Writes the wake-up byte. */
export function ringWake(fd: number): void {
  try {
    writeSync(fd, ONE);
  } catch {
    // A full pipe already holds a wake-up; a closed one means its reader is going away.
  }
}
