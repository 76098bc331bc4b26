// Network fuzzing and authentication attacks against a real Listener (fuzz/listener.ts) and a real
// manager server (fuzz/manager.ts), each in a child process, over TCP on 127.0.0.1, while a
// well-behaved client keeps using the server. This file holds what both fuzzers (and fuzz/link.ts)
// share: the attacks on the handshake, the good client, time limits and the memory verdict.
// Measured: how each attack ended (refused, timed out, or let in: must be 0), the good client's
// failures, and the server's memory after a full GC before and after.
import { connect, type Socket } from "node:net";
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { Client, ErrorCodes, type Address, type Remote, type SocketConnection } from "multiproc";
import { CHALLENGE, createResponse, FAILURE, WELCOME } from "#internal/connection/auth.js";
import { FrameDecoder, frameHeader } from "#internal/connection/framing.js";
import { describeError, isTyped } from "./common.js";
import type { FuzzManager, Probe, ServerMemory } from "./targets.js";

/** The servers' handshake timeout in these runs (the default is 10 s). */
export const HANDSHAKE_MS = 1000;
export const ANSWER_MS = 10_000;

export class Timeout extends Error {}

export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  promise.catch(() => undefined);
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Timeout(`${what}: nothing within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

export type Tcp = readonly [string, number];

/** Whether `err` says the server closed the connection at or right after the handshake. */
function closedAtHandshake(err: unknown): boolean {
  const code = (e: unknown): unknown => (e as { code?: unknown } | null | undefined)?.code;
  return code(err) === ErrorCodes.EOF || code((err as { cause?: unknown } | null | undefined)?.cause) === ErrorCodes.EOF;
}

/**
 * Connects for the fuzzers' own, honest traffic and makes its first exchange (`first`), retrying
 * (at most 3 times, each reported to `onRetry`) when the server closed the connection before that
 * exchange was through. The servers here time a handshake out after HANDSHAKE_MS, short so that
 * the slow-loris attack is quick; on a loaded machine an honest client can finish its side of the
 * handshake just as the server's timer fires, and only sees the connection closed at its first
 * send or receive. That says nothing about the server's health; a server that is gone refuses the
 * next connection, and that error is thrown.
 */
export async function honestClient<T>(
  address: Address,
  key: Buffer,
  first: (conn: SocketConnection) => Promise<T>,
  onRetry: () => void,
): Promise<{ conn: SocketConnection; value: T }> {
  for (let retries = 0; ; retries++) {
    let conn: SocketConnection | undefined;
    try {
      conn = await Client(address, { authkey: key });
      return { conn, value: await first(conn) };
    } catch (err) {
      conn?.close();
      if (retries >= 3 || !closedAtHandshake(err)) throw err;
      onRetry();
    }
  }
}

/** A raw TCP client that speaks CPython's framing by hand (no handshake of its own). */
class Raw {
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder(1 << 20);
  readonly #frames: Buffer[] = [];
  #wake: (() => void) | undefined;
  closed = false;
  readonly closedAt: Promise<number>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    let resolveClosed!: (t: number) => void;
    this.closedAt = new Promise((r) => (resolveClosed = r));
    socket.on("data", (chunk: Buffer) => {
      try {
        this.#decoder.push(chunk, this.#frames);
      } catch {
        socket.destroy();
      }
      this.#wake?.();
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      this.closed = true;
      resolveClosed(performance.now());
      this.#wake?.();
    });
  }

  static open(address: Tcp): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: address[0], port: address[1] });
      s.once("error", reject);
      s.once("connect", () => {
        s.off("error", reject);
        resolve(new Raw(s));
      });
    });
  }

  /** The next frame, or undefined once the server closed the connection. */
  async next(ms = ANSWER_MS): Promise<Buffer | undefined> {
    const end = performance.now() + ms;
    while (this.#frames.length === 0 && !this.closed) {
      const left = end - performance.now();
      if (left <= 0) throw new Timeout("no frame");
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#wake = () => {
          clearTimeout(t);
          r();
        };
      });
      this.#wake = undefined;
    }
    return this.#frames.shift();
  }

  write(bytes: Uint8Array): void {
    if (!this.closed) this.#socket.write(bytes);
  }

  frame(body: Uint8Array): void {
    this.write(Buffer.concat([frameHeader(body.length), body]));
  }

  /** Whether the server closes the connection within `ms`. */
  async closesWithin(ms: number): Promise<boolean> {
    return within(this.closedAt, ms, "close").then(
      () => true,
      () => false,
    );
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/** How each attack ended: refused (the server said no or hung up), timed out, or let in. */
class Attacks {
  readonly figures: Record<string, number> = {};
  add(name: string, n = 1): void {
    this.figures[name] = (this.figures[name] ?? 0) + n;
  }
}

/** Runs every authentication attack `n` times against `address` (which expects `key`). */
export async function attack(address: Tcp, key: Buffer, n: number, seed: number): Promise<Attacks> {
  const a = new Attacks();
  const rng = fc.sample(fc.noBias(fc.nat(1 << 30)), { seed, numRuns: 64 * n + 64 });
  let r = 0;
  const next = () => rng[r++ % rng.length]!;
  const wrong = Buffer.concat([key.subarray(0, key.length - 1), Buffer.from([key[key.length - 1]! ^ 1])]);

  // 1. Wrong keys (one bit off, empty, random): the client's handshake fails, nothing is accepted.
  for (let i = 0; i < n; i++) {
    const k = i % 3 === 0 ? wrong : i % 3 === 1 ? Buffer.alloc(0) : randomBytes(32);
    try {
      const conn = await within(Client(address, { authkey: k, handshakeTimeout: ANSWER_MS }), ANSWER_MS, "wrong key");
      conn.close();
      a.add("wrongKey.letIn");
    } catch (err) {
      a.add(err instanceof Timeout ? "wrongKey.hang" : isTyped(err) && err.code === "ERR_AUTHENTICATION" ? "wrongKey.refused" : "wrongKey.otherError");
    }
  }

  // 2. Truncated (or empty) answers to the server's challenge.
  for (let i = 0; i < n; i++) {
    const raw = await Raw.open(address);
    const challenge = await raw.next();
    if (challenge === undefined || !challenge.subarray(0, CHALLENGE.length).equals(CHALLENGE)) {
      a.add("truncated.noChallenge");
      raw.destroy();
      continue;
    }
    const response = createResponse(key, challenge.subarray(CHALLENGE.length), false);
    raw.frame(response.subarray(0, next() % response.length));
    const verdict = await raw.next().catch(() => "hang" as const);
    if (verdict === "hang") a.add("truncated.hang");
    else if (verdict === undefined || verdict.equals(FAILURE)) a.add("truncated.refused");
    else a.add("truncated.letIn");
    raw.destroy();
  }

  // 3. Replayed responses: the right answer to connection A's challenge, given on connection B.
  for (let i = 0; i < n; i++) {
    const first = await Raw.open(address);
    const second = await Raw.open(address);
    const c1 = await first.next();
    const c2 = await second.next();
    if (c1 === undefined || c2 === undefined) {
      a.add("replay.noChallenge");
      first.destroy();
      second.destroy();
      continue;
    }
    const recorded = createResponse(key, c1.subarray(CHALLENGE.length), false);
    second.frame(recorded);
    const verdict = await second.next().catch(() => "hang" as const);
    if (verdict === "hang") a.add("replay.hang");
    else if (verdict === undefined || verdict.equals(FAILURE)) a.add("replay.refused");
    else a.add("replay.letIn");
    // The recorded answer was a good one: on its own connection it is welcomed.
    first.frame(recorded);
    const own = await first.next().catch(() => undefined);
    if (own?.equals(WELCOME)) a.add("replay.controlWelcomed");
    first.destroy();
    second.destroy();
  }

  // 4. Oversized frames before authentication: the length alone gets the connection dropped,
  //    before its body is read (the pre-auth limit is 256 bytes a frame).
  const sizes = [257, 4096, 1 << 20, 0x7fffffff, -1];
  for (let i = 0; i < n; i++) {
    const raw = await Raw.open(address);
    await raw.next();
    const size = sizes[i % sizes.length]!;
    const header = size === -1 ? Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from([0, 0, 1, 0, 0, 0, 0, 0])]) : frameHeader(size);
    raw.write(header);
    raw.write(Buffer.alloc(Math.min(1 << 16, size === -1 ? 1 << 16 : size), 0x41));
    if (await raw.closesWithin(ANSWER_MS)) a.add("oversized.refused");
    else a.add("oversized.notDropped");
    raw.destroy();
  }

  // 5. Garbage instead of the handshake (before the challenge is read, or as the answer), 20 at
  //    a time: bytes that look like the start of a long frame are refused at the handshake timeout.
  const garbageCase = async (i: number) => {
    const raw = await Raw.open(address);
    const garbage = randomBytes(1 + (next() % 600));
    if (i % 2 === 0) raw.write(garbage);
    else {
      await raw.next();
      raw.frame(garbage.subarray(0, Math.min(garbage.length, 256)));
    }
    // Refused at once (FAILURE, or the connection dropped) or at the handshake timeout.
    let verdict: "refused" | "letIn" | "hang" = "hang";
    for (;;) {
      const f = await raw.next(3 * HANDSHAKE_MS).catch(() => "hang" as const);
      if (f === "hang") break;
      if (f === undefined || f.equals(FAILURE)) {
        verdict = "refused";
        break;
      }
      if (f.equals(WELCOME)) {
        verdict = "letIn";
        break;
      }
    }
    a.add(`garbage.${verdict}`);
    raw.destroy();
  };
  for (let done = 0; done < n; done += 20) await Promise.all(Array.from({ length: Math.min(20, n - done) }, (_, j) => garbageCase(done + j)));

  // 6. Slow loris: one byte of a valid-looking answer every HANDSHAKE_MS / 4, 20 at a time.
  for (let done = 0; done < n; done += 20) {
    const k = Math.min(20, n - done);
    await Promise.all(
      Array.from({ length: k }, async () => {
        const raw = await Raw.open(address);
        const t0 = performance.now();
        const challenge = await raw.next();
        const body = challenge === undefined ? Buffer.alloc(40) : createResponse(key, challenge.subarray(CHALLENGE.length), false);
        const bytes = Buffer.concat([frameHeader(body.length), body]);
        let sent = 0;
        const drip = setInterval(() => raw.write(bytes.subarray(sent, ++sent)), HANDSHAKE_MS / 4);
        const closed = await raw.closesWithin(3 * HANDSHAKE_MS);
        clearInterval(drip);
        const ms = performance.now() - t0;
        if (!closed) a.add("slowLoris.hang");
        else if (ms >= 0.9 * HANDSHAKE_MS) a.add("slowLoris.timedOut");
        else a.add("slowLoris.closedEarly");
        raw.destroy();
      }),
    );
  }

  // 7. Many connections opened and dropped (at once, after part of a header, after the challenge).
  for (let done = 0; done < 10 * n; done += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, 10 * n - done) }, () => Raw.open(address).catch(() => undefined)));
    batch.forEach((raw, j) => {
      if (raw === undefined) return a.add("drop.connectFailed");
      if (j % 3 === 1) raw.write(Buffer.from([0, 0]));
      raw.destroy();
      a.add("drop.dropped");
    });
  }
  return a;
}

export function attackFigures(a: Attacks, prefix: string): { figures: Record<string, number>; mustBeZero: string[] } {
  const figures: Record<string, number> = {};
  for (const [k, v] of Object.entries(a.figures)) figures[`${prefix}.${k}`] = v;
  const bad = ["wrongKey.letIn", "wrongKey.hang", "wrongKey.otherError", "truncated.letIn", "truncated.hang", "truncated.noChallenge", "replay.letIn", "replay.hang", "replay.noChallenge", "oversized.notDropped", "garbage.letIn", "garbage.hang", "slowLoris.hang", "slowLoris.closedEarly"];
  for (const b of bad) figures[`${prefix}.${b}`] ??= 0;
  const refused = Object.entries(a.figures).filter(([k]) => /\.(refused|timedOut)$/.test(k)).reduce((s, [, v]) => s + v, 0);
  figures[`${prefix}.attacksRefused`] = refused;
  return { figures, mustBeZero: bad.map((b) => `${prefix}.${b}`) };
}

/** A well-behaved client that keeps making calls until stopped; counts calls and failures. */
export class GoodClient {
  calls = 0;
  failures = 0;
  readonly errors: string[] = [];
  #stop = false;
  #done: Promise<void> = Promise.resolve();

  start(call: (i: number) => Promise<boolean>): void {
    this.#done = (async () => {
      for (let i = 0; !this.#stop; i++) {
        try {
          if (!(await within(call(i), ANSWER_MS, "good client"))) throw new Error(`call ${i} came back wrong`);
          this.calls++;
        } catch (err) {
          this.failures++;
          if (this.errors.length < 3) this.errors.push(describeError(err));
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await this.#done;
  }
}

export function memoryFigures(prefix: string, before: ServerMemory, after: ServerMemory, boundKiB: number): Record<string, number> {
  return {
    [`${prefix}.rssBeforeKiB`]: before.rssKiB,
    [`${prefix}.rssAfterKiB`]: after.rssKiB,
    [`${prefix}.heapBeforeKiB`]: before.heapUsedKiB,
    [`${prefix}.heapAfterKiB`]: after.heapUsedKiB,
    [`${prefix}.heapGrowthOverBound`]: after.heapUsedKiB - before.heapUsedKiB > boundKiB ? 1 : 0,
  };
}

export const HEAP_BOUND_KIB = 16 * 1024;

/**
 * Gets a fuzzed manager's server ready to be judged: its pid and memory through a Probe, and a
 * well-behaved client calling a dict all along (the fuzzers' calls name objects 0..10, so the
 * good client's objects come after them).
 */
export async function watchServer(manager: FuzzManager): Promise<{ probe: Remote<Probe>; pid: number; good: GoodClient; before: ServerMemory }> {
  const probe = await manager.create<Probe>("Probe");
  const pid = await probe.pid();
  for (let i = 0; i < 12; i++) await manager.create("dict");
  const d = await manager.create<Map<number, number>>("dict");
  const good = new GoodClient();
  good.start(async (i) => {
    await d.set(i % 100, i);
    return (await d.get(i % 100)) === i;
  });
  return { probe, pid, good, before: await probe.memory() };
}

/** Records whether the manager's server survived the fuzzing (`<prefix>.serverCrashed`), then stops it. */
export async function serverVerdict(manager: FuzzManager, pid: number, prefix: string, figures: Record<string, number>, mustBeZero: string[]): Promise<void> {
  let alive = false;
  try {
    process.kill(pid, 0);
    alive = pid > 0;
  } catch {
    alive = false;
  }
  figures[`${prefix}.serverCrashed`] = alive ? 0 : 1;
  mustBeZero.push(`${prefix}.serverCrashed`);
  await within(manager.shutdown(), 10_000, "manager shutdown").catch(() => undefined);
}
