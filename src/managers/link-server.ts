// The server side of local clients' shared-memory links (link.ts has the why and the layout).
// One LinkHub per manager server holds the wake pipe and every link. A woken hub reads all links,
// then keeps reading them on each turn of the event loop (socket clients are served in between)
// until none has sent anything for LINGER_MS; then it raises every link's SERVER_WAITING flag and
// sleeps on the pipe, so a quiet server costs nothing.
import { createSegment, unlinkSegment } from "../shared/segment.js";
import { initRing, RingReader, RingWriter } from "../transport/ring.js";
import { WakePipe } from "../transport/wake.js";
import { yieldCore } from "../native/spin.js";
import {
  LINK_BYTES,
  LINK_CONTROL_BYTES,
  REPLY_RING_CAPACITY,
  REPLY_RING_OFFSET,
  REQUEST_RING_CAPACITY,
  REQUEST_RING_OFFSET,
  SERVER_WAITING,
  type LinkOffer,
} from "./link.js";
import { pidNamespace } from "./locality.js";

/**
 * How long a hub keeps polling after the last request: a client issuing calls one after another
 * comes back within tens of microseconds, and catching it awake saves it the server's wake-up
 * (25-50 us on these VMs). Bounded, so a server whose clients went quiet spends this once.
 */
const LINGER_MS = 0.25;
/** Frames read from one link per turn, so one busy client cannot starve the others. */
const FRAMES_PER_TURN = 64;

export class ServerLink {
  readonly offer: LinkOffer;
  readonly control: Int32Array;
  readonly #requests: RingReader;
  readonly #replies: RingWriter;
  readonly #onFrame: (frame: Buffer) => void;
  readonly #onBroken: () => void;
  readonly #stop = new AbortController();
  readonly #queue: Uint8Array[] = [];
  #named = true;
  /** The client sends through the link (it has sent at least one frame): replies go back through it. */
  active = false;
  #closed = false;

  constructor(buffer: SharedArrayBuffer, offer: LinkOffer, onFrame: (frame: Buffer) => void, onBroken: () => void) {
    this.offer = offer;
    this.control = new Int32Array(buffer, 0, LINK_CONTROL_BYTES / 4);
    this.#requests = new RingReader(buffer, REQUEST_RING_OFFSET);
    this.#replies = new RingWriter(buffer, REPLY_RING_OFFSET);
    this.#onFrame = onFrame;
    this.#onBroken = onBroken;
  }

  available(): boolean {
    return !this.#closed && this.#requests.available();
  }

  /** Reads up to FRAMES_PER_TURN requests; how many. */
  drain(): number {
    let n = 0;
    while (n < FRAMES_PER_TURN && !this.#closed) {
      let frame: Uint8Array | undefined;
      try {
        frame = this.#requests.tryRecv();
      } catch {
        this.#onBroken(); // a ring that does not parse: that client cannot be trusted
        return n;
      }
      if (frame === undefined) {
        // A request ring closed by its client (or marked closed by someone): nothing more will come.
        if (this.#requests.isClosed()) this.#onBroken();
        break;
      }
      if (!this.active) {
        // The client has mapped the segment: its name is no longer needed.
        this.active = true;
        this.#unlink();
      }
      n++;
      this.#onFrame(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
    }
    return n;
  }

  /** Sends a reply; one that does not fit waits for room without blocking the server. */
  write(frame: Uint8Array): void {
    if (this.#closed) return;
    try {
      if (this.#queue.length === 0 && this.#replies.trySend(frame)) return;
    } catch {
      this.#onBroken();
      return;
    }
    this.#queue.push(frame);
    if (this.#queue.length === 1) void this.#pump();
  }

  async #pump(): Promise<void> {
    while (this.#queue.length > 0 && !this.#closed) {
      try {
        await this.#replies.send(this.#queue[0]!, { signal: this.#stop.signal, ref: false });
      } catch {
        if (!this.#closed) this.#onBroken();
        return;
      }
      this.#queue.shift();
    }
  }

  #unlink(): void {
    if (!this.#named) return;
    this.#named = false;
    try {
      unlinkSegment(this.offer.name);
    } catch {
      // Gone already.
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop.abort();
    this.#requests.close();
    this.#replies.close();
    this.#unlink();
  }
}

export class LinkHub {
  readonly #pipe: WakePipe;
  readonly #pidns: string;
  readonly #links = new Set<ServerLink>();
  #servicing = false;
  #closed = false;

  private constructor(pipe: WakePipe, pidns: string) {
    this.#pipe = pipe;
    this.#pidns = pidns;
  }

  /** A hub, or undefined where links cannot work (no addon, no /proc): clients then use sockets. */
  static open(): LinkHub | undefined {
    const pidns = pidNamespace();
    if (pidns === undefined) return undefined;
    const made: { hub?: LinkHub } = {};
    const pipe = WakePipe.open(() => made.hub?.service());
    if (pipe === undefined) return undefined;
    made.hub = new LinkHub(pipe, pidns);
    return made.hub;
  }

  /** A new link for one client connection; `onBroken` drops that connection. */
  offer(onFrame: (frame: Buffer) => void, onBroken: () => void): ServerLink {
    const segment = createSegment(LINK_BYTES, { prefix: "/mp_" });
    initRing(segment.buffer, REQUEST_RING_OFFSET, REQUEST_RING_CAPACITY);
    initRing(segment.buffer, REPLY_RING_OFFSET, REPLY_RING_CAPACITY);
    const offer: LinkOffer = { name: segment.name, wake: this.#pipe.target, pidns: this.#pidns };
    const link = new ServerLink(segment.buffer, offer, onFrame, onBroken);
    // Until the hub next polls, the client must wake it.
    Atomics.store(link.control, SERVER_WAITING, 1);
    this.#links.add(link);
    return link;
  }

  remove(link: ServerLink): void {
    link.close();
    this.#links.delete(link);
  }

  /** Reads every link now, then on each turn of the event loop until they stay quiet. */
  service(): void {
    if (this.#servicing || this.#closed) return;
    this.#servicing = true;
    let last = performance.now();
    const turn = (): void => {
      if (this.#closed) {
        this.#servicing = false;
        return;
      }
      let got = 0;
      for (const link of this.#links) {
        Atomics.store(link.control, SERVER_WAITING, 0);
        got += link.drain();
      }
      const now = performance.now();
      if (got > 0) last = now;
      if (now - last < LINGER_MS) {
        // Idle turns offer the core: clients that share it run (and send) sooner.
        if (got === 0) yieldCore();
        setImmediate(turn);
        return;
      }
      // Going to sleep: from here on clients ring the pipe. Look once more, as a client may have
      // published just before it saw the flag.
      for (const link of this.#links) Atomics.store(link.control, SERVER_WAITING, 1);
      for (const link of this.#links) {
        if (link.available()) {
          last = now;
          setImmediate(turn);
          return;
        }
      }
      this.#servicing = false;
    };
    turn();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const link of this.#links) link.close();
    this.#links.clear();
    this.#pipe.close();
  }
}
