// Network fuzzing and authentication attacks against a real Listener and a real manager server,
// each in a child process, over TCP on 127.0.0.1, while a well-behaved client keeps using the
// server. Measured: how each attack ended (refused, timed out, or let in: must be 0), malformed
// messages after authentication (answered, refused, dropped), the good client's failures, and
// the server's memory after a full GC before and after.
import { connect, type Socket } from "node:net";
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { Client, getContext, Pipe, type Remote, type SocketConnection } from "multiproc";
import { CHALLENGE, createResponse, FAILURE, WELCOME } from "#internal/connection/auth.js";
import { FrameDecoder, frameHeader } from "#internal/connection/framing.js";
import { PROTOCOL_VERSION } from "#internal/managers/messages.js";
import { decodeFrame } from "#internal/managers/wire.js";
import { dumps } from "#internal/transport/serialize.js";
import { casesFor, describeError, draw, isTyped, malformed, result, type FuzzOptions, type FuzzResult } from "./common.js";
import { validMessage, validRequest, parseRequest } from "./parsers.js";
import { FuzzManager, serveListener, type ListenerStats, type Probe, type ServerMemory } from "./targets.js";

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

type Tcp = readonly [string, number];

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
async function attack(address: Tcp, key: Buffer, n: number, seed: number): Promise<Attacks> {
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

function attackFigures(a: Attacks, prefix: string): { figures: Record<string, number>; mustBeZero: string[] } {
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

// ---- the Listener ----

export async function fuzzListener(opts: FuzzOptions): Promise<FuzzResult> {
  const key = randomBytes(32);
  const [control, theirs] = Pipe<unknown>();
  const child = new (getContext("process").Process)({ target: serveListener, args: [theirs, key, HANDSHAKE_MS], name: "fuzz-listener" });
  child.start();
  const figures: Record<string, number> = {};
  const mustBeZero: string[] = [];
  const notes: string[] = [];
  const stats = async () => {
    await control.send("stats");
    return (await within(control.recv(), ANSWER_MS, "listener stats")) as ListenerStats;
  };
  try {
    const address = (await within(control.recv(), 30_000, "listener address")) as Tcp;
    const good = new GoodClient();
    const goodConn = await Client(address, { authkey: key });
    good.start(async (i) => {
      await goodConn.send({ i, items: [i, String(i)] });
      const back = (await goodConn.recv()) as { i: number; items: unknown[] };
      return back.i === i && back.items[1] === String(i);
    });
    const before = await stats();

    // Malformed messages from an authenticated client: each refused by recv() with a typed error,
    // and the connection still carries the next good message (a probe, echoed).
    const n = casesFor(opts, 20_000);
    const fuzzer = await Client(address, { authkey: key });
    let cases = 0;
    let probesEchoed = 0;
    let hangs = 0;
    let i = 0;
    for (const bytes of draw(malformed(validMessage), opts.seed, n)) {
      cases++;
      await fuzzer.sendBytes(bytes);
      await fuzzer.send({ probe: ++i });
      try {
        // Garbage that happened to parse is echoed too: read up to the probe.
        for (;;) {
          const back = await within(fuzzer.recv(), ANSWER_MS, "probe");
          if ((back as { probe?: unknown } | null)?.probe === i) break;
        }
        probesEchoed++;
      } catch (err) {
        hangs++;
        notes.push(`listener: probe ${i} lost after ${Buffer.from(bytes).toString("hex").slice(0, 80)}: ${describeError(err)}`);
        break;
      }
    }
    fuzzer.close();
    const mid = await stats();
    const bad = Object.values(mid.badMessages).reduce((s, v) => s + v, 0);
    Object.assign(figures, {
      "listener.messageCases": cases,
      "listener.messagesRefused": bad,
      "listener.messagesParsed": cases - bad,
      "listener.probesLost": cases - probesEchoed,
      "listener.hangs": hangs,
    });
    notes.push(`listener: refusals after auth: ${JSON.stringify(mid.badMessages)}`);

    const attacks = await attack(address, key, Math.max(5, Math.round(200 * opts.scale)), opts.seed);
    const af = attackFigures(attacks, "listener");
    Object.assign(figures, af.figures);
    mustBeZero.push(...af.mustBeZero);

    await good.stop();
    goodConn.close();
    const after = await stats();
    notes.push(`listener: accept() refusals ${JSON.stringify(after.refused)}; untyped errors ${after.untyped}`);
    Object.assign(figures, memoryFigures("listener", before, after, HEAP_BOUND_KIB), {
      "listener.untypedErrors": after.untyped,
      "listener.goodCalls": good.calls,
      "listener.goodFailures": good.failures,
    });
    if (good.errors.length > 0) notes.push(`listener: good client: ${good.errors.join("; ")}`);
    mustBeZero.push("listener.probesLost", "listener.hangs", "listener.untypedErrors", "listener.goodFailures", "listener.heapGrowthOverBound");
    await control.send("stop");
    await within(control.recv(), ANSWER_MS, "listener stop").catch(() => undefined);
  } finally {
    await within(child.join(), 10_000, "listener exit").catch(() => child.kill());
    figures["listener.serverCrashed"] = child.exitCode === 0 ? 0 : 1;
    mustBeZero.push("listener.serverCrashed");
    control.close();
  }
  return result("fuzz-listener", figures, mustBeZero, notes);
}

// ---- the manager server ----

const PROBE_ID = -7;

function parseSafe(bytes: Uint8Array): string {
  try {
    return JSON.stringify(parseRequest(bytes), (_, v: unknown) => (typeof v === "bigint" ? `${v}n` : v)).slice(0, 200);
  } catch {
    return Buffer.from(bytes).toString("hex").slice(0, 80);
  }
}

export async function fuzzManagerServer(opts: FuzzOptions): Promise<FuzzResult> {
  const key = randomBytes(32);
  const manager = new FuzzManager({ address: ["127.0.0.1", 0], authkey: key, handshakeTimeout: HANDSHAKE_MS });
  await manager.start();
  const figures: Record<string, number> = {};
  const mustBeZero: string[] = [];
  const notes: string[] = [];
  let serverPid = 0;
  try {
    const address = manager.address as Tcp;
    const { probe, pid, good, before } = await watchServer(manager);
    serverPid = pid;

    // Requests well-formed but wrong (unknown objects, methods, types: answered with an error),
    // damaged ones (the connection is dropped) and noise, from 4 connections at once.
    const n = casesFor(opts, 10_000);
    const cases = draw(fc.oneof({ weight: 3, arbitrary: validRequest }, { weight: 7, arbitrary: malformed(validRequest) }), opts.seed, n);
    let sent = 0;
    let skipped = 0;
    let answered = 0;
    let dropped = 0;
    let hangs = 0;
    let reconnects = 0;
    const codes: Record<string, number> = {};
    const uncoded: string[] = [];
    const hello = dumps({ kind: "hello", id: PROBE_ID, version: PROTOCOL_VERSION }, "socket");
    const lane = async () => {
      let conn: SocketConnection | undefined;
      for (let step = cases.next(); step.done !== true; step = cases.next()) {
        const bytes = step.value;
        // A request that parses as shutdown would stop the server: authenticated clients may.
        try {
          if ((parseRequest(bytes) as { kind: string }).kind === "shutdown") {
            skipped++;
            continue;
          }
        } catch {
          // Refused in-process too: send it.
        }
        sent++;
        if (conn === undefined || !conn.writable) {
          conn = await Client(address, { authkey: key });
          reconnects++;
        }
        try {
          await conn.sendBytes(bytes);
          await conn.sendBytes(hello);
          for (;;) {
            const reply = decodeFrame(await within(conn.recvBytes(), ANSWER_MS, "probe")) as { id?: unknown; kind?: unknown; error?: { code?: unknown } };
            if (reply.kind === "error") {
              const code = typeof reply.error?.code === "string" ? reply.error.code : "uncoded";
              codes[code] = (codes[code] ?? 0) + 1;
              if (code === "uncoded" && uncoded.length < 3) uncoded.push(`${String((reply.error as Error | undefined)?.name)}: ${String((reply.error as Error | undefined)?.message)} after ${parseSafe(bytes)}`);
            }
            if (reply.id === PROBE_ID) break;
          }
          answered++;
        } catch (err) {
          if (err instanceof Timeout) {
            hangs++;
            if (hangs < 4) notes.push(`manager: no answer after ${Buffer.from(bytes).toString("hex").slice(0, 80)}`);
          } else dropped++;
          conn.close();
          conn = undefined;
        }
      }
      conn?.close();
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
    Object.assign(figures, {
      "manager.requestCases": sent,
      "manager.requestsAnswered": answered,
      "manager.requestsDropped": dropped,
      "manager.hangs": hangs,
      "manager.reconnects": reconnects,
      "manager.shutdownSkipped": skipped,
      // Errors the called method (or constructor) threw itself, for arguments it cannot take: the
      // caller gets them as RemoteError (ERR_REMOTE) with the method's error as the cause.
      "manager.methodErrorReplies": codes.uncoded ?? 0,
    });
    notes.push(`manager: error replies by code ${JSON.stringify(codes)}`);
    for (const u of uncoded) notes.push(`manager: a method's own error: ${u}`);

    const attacks = await attack(address, key, Math.max(5, Math.round(200 * opts.scale)), opts.seed + 1);
    const af = attackFigures(attacks, "manager");
    Object.assign(figures, af.figures);
    mustBeZero.push(...af.mustBeZero);

    await good.stop();
    const after = await probe.memory();
    Object.assign(figures, memoryFigures("manager", before, after, HEAP_BOUND_KIB), {
      "manager.goodCalls": good.calls,
      "manager.goodFailures": good.failures,
    });
    if (good.errors.length > 0) notes.push(`manager: good client: ${good.errors.join("; ")}`);
    mustBeZero.push("manager.hangs", "manager.goodFailures", "manager.heapGrowthOverBound");
  } finally {
    await serverVerdict(manager, serverPid, "manager", figures, mustBeZero);
  }
  return result("fuzz-manager", figures, mustBeZero, notes);
}
