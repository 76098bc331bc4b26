// How workers wake the parent: a pipe in the parent's event loop. An asynchronous futex wait costs
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
import { closeSync } from "node:fs";
import { Socket } from "node:net";
import { native } from "../native/binding.js";

export interface WakeTarget {
  pid: number;
  fd: number;
}

export class WakePipe {
  readonly target: WakeTarget;
  readonly #socket: Socket;
  readonly #writeFd: number;
  #closed = false;

  private constructor(readFd: number, writeFd: number, onWake: () => void) {
    this.#writeFd = writeFd;
    this.target = { pid: process.pid, fd: writeFd };
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
