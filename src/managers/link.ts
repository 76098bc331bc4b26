// A local client's shared-memory link to its manager server: the client side, and the segment's
// layout that both sides share (the server side is link-server.ts).
//
// Why: a manager operation over a Unix socket costs two socket round trips through both event
// loops, and on these machines (VMs whose idle cores halt) each side's epoll wake-up alone costs
// 25-50 us. A client that shares the server's /dev/shm (locality.ts) and pid namespace instead
// writes its requests into a ring in shared memory and polls the reply ring for a moment, while a
// server that just served someone keeps polling its rings for a moment: neither side sleeps
// between calls that follow each other closely. The socket stays open beside the link: its end
// is how either side learns that the other died, exactly as before.
//
// Segment layout:
//   0      control words (Int32): SERVER_WAITING = the server sleeps on its wake pipe and must be
//          woken (transport/wake.ts has the flag protocol, the same as the Pool's)
//   256    request ring (client -> server), REQUEST_RING_CAPACITY data bytes
//   ...    reply ring (server -> client), REPLY_RING_CAPACITY data bytes
// docs/protocol.md, "Local link", has the message sequence that sets it up.
import { EOFError, ProcessError } from "../errors.js";
import { Spinner } from "../native/spin.js";
import { attachSegment } from "../shared/segment.js";
import { RingReader, RingWriter, ringSize } from "../transport/ring.js";
import { closeWake, openWake, ringWake, type WakeTarget } from "../transport/wake.js";
import { pidNamespace } from "./locality.js";

export const SERVER_WAITING = 0;
export const LINK_CONTROL_BYTES = 256;
export const REQUEST_RING_CAPACITY = 1 << 16;
export const REPLY_RING_CAPACITY = 1 << 18;
export const REQUEST_RING_OFFSET = LINK_CONTROL_BYTES;
export const REPLY_RING_OFFSET = REQUEST_RING_OFFSET + ringSize(REQUEST_RING_CAPACITY);
export const LINK_BYTES = REPLY_RING_OFFSET + ringSize(REPLY_RING_CAPACITY);

/** What the server's hello reply offers a local client. */
export interface LinkOffer {
  /** The segment with the two rings. */
  name: string;
  /** The server's wake pipe. */
  wake: WakeTarget;
  /** The server's pid namespace: /proc/<pid> means the server only within the same one. */
  pidns: string;
}

export function isLinkOffer(v: unknown): v is LinkOffer {
  const o = v as Partial<LinkOffer> | null;
  return (
    typeof o === "object" &&
    o !== null &&
    typeof o.name === "string" &&
    typeof o.pidns === "string" &&
    typeof o.wake === "object" &&
    o.wake !== null &&
    Number.isInteger(o.wake.pid) &&
    Number.isInteger(o.wake.fd)
  );
}

/**
 * How long a client polls for a reply before it sleeps, at most. The server answers a call within
 * microseconds when it is awake, and within 25-50 us when it must first be woken. The Spinner
 * halves the budget each time polling ends without a reply (a call that blocks on the server, such
 * as a Queue get, or a server that shares this core) and restores it on a reply that came in time.
 */
const POLL_MS = 0.1;

export class ClientLink {
  readonly #control: Int32Array;
  readonly #requests: RingWriter;
  readonly #replies: RingReader;
  readonly #wake: WakeTarget;
  readonly #wakeFd: number;
  readonly #stop = new AbortController();
  readonly #queue: Uint8Array[] = [];
  #onFrame: (frame: Buffer) => void = () => undefined;
  #onEnd: (err: Error) => void = () => undefined;
  /** Replies still due: the reader runs (and keeps the event loop alive) only while some are. */
  #due = 0;
  #reading = false;
  readonly #poller = new Spinner(POLL_MS);
  readonly #replied = (): boolean => this.#closed || this.#replies.available();
  #closed = false;

  private constructor(buffer: SharedArrayBuffer, wake: WakeTarget, wakeFd: number) {
    this.#control = new Int32Array(buffer, 0, LINK_CONTROL_BYTES / 4);
    this.#requests = new RingWriter(buffer, REQUEST_RING_OFFSET);
    this.#replies = new RingReader(buffer, REPLY_RING_OFFSET);
    this.#wake = wake;
    this.#wakeFd = wakeFd;
  }

  /** The link an offer describes, or undefined if this process cannot use it (then the socket serves). */
  static open(offer: unknown): ClientLink | undefined {
    if (!isLinkOffer(offer) || offer.pidns !== pidNamespace()) return undefined;
    const fd = openWake(offer.wake);
    if (fd < 0) return undefined;
    try {
      const segment = attachSegment(offer.name);
      if (segment.size < LINK_BYTES) throw new RangeError("link segment too small");
      return new ClientLink(segment.buffer, offer.wake, fd);
    } catch {
      closeWake(offer.wake, fd);
      return undefined;
    }
  }

  /** Push mode, as SocketConnection's: each reply goes to `onFrame`; `onEnd` hears of a broken link. */
  listen(onFrame: (frame: Buffer) => void, onEnd: (err: Error) => void): void {
    this.#onFrame = onFrame;
    this.#onEnd = onEnd;
  }

  #ringServer = (): void => {
    if (Atomics.load(this.#control, SERVER_WAITING) !== 0 && Atomics.exchange(this.#control, SERVER_WAITING, 0) !== 0) ringWake(this.#wakeFd);
  };

  /** Sends a frame; `replies` says how many replies it asks for (0 for incref/decref). */
  write(frame: Uint8Array, replies: number): void {
    if (this.#closed) return;
    this.#due += replies;
    try {
      if (this.#queue.length === 0 && this.#requests.trySend(frame)) {
        this.#ringServer();
      } else {
        this.#queue.push(frame);
        if (this.#queue.length === 1) void this.#pump();
      }
    } catch (err) {
      this.#fail(err);
      return;
    }
    if (this.#due > 0 && !this.#reading) void this.#read();
  }

  /** Frames that did not fit go out as the server makes room (each wait rings the server first). */
  async #pump(): Promise<void> {
    while (this.#queue.length > 0 && !this.#closed) {
      try {
        await this.#requests.send(this.#queue[0]!, { signal: this.#stop.signal, beforeWait: this.#ringServer, ref: this.#due > 0 });
      } catch (err) {
        this.#fail(err);
        return;
      }
      this.#queue.shift();
      this.#ringServer();
    }
  }

  async #read(): Promise<void> {
    this.#reading = true;
    try {
      while (this.#due > 0 && !this.#closed) {
        // A reply due within microseconds is caught by polling on microtasks; otherwise this sleeps
        // on the ring's doorbell, which the server rings when it publishes to a sleeper.
        if (!this.#replies.available()) await this.#poller.poll(this.#replied);
        if (this.#closed) return;
        const frame = this.#replies.tryRecv() ?? (await this.#replies.recv({ signal: this.#stop.signal }));
        this.#due--;
        this.#onFrame(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
      }
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#reading = false;
    }
  }

  #fail(err: unknown): void {
    if (this.#closed) return;
    const e = err instanceof ProcessError ? err : new EOFError("the shared-memory link to the manager broke", { cause: err });
    this.close();
    this.#onEnd(e);
  }

  /**
   * Hands over the replies already published, at once: when the socket ends (a server that
   * answered `shutdown`, then stopped), what it answered before must still count.
   */
  drainNow(): void {
    while (this.#due > 0 && !this.#closed) {
      let frame: Uint8Array | undefined;
      try {
        frame = this.#replies.tryRecv();
      } catch {
        return;
      }
      if (frame === undefined) return;
      this.#due--;
      this.#onFrame(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop.abort();
    this.#requests.close();
    this.#replies.close();
    closeWake(this.#wake, this.#wakeFd);
  }
}
