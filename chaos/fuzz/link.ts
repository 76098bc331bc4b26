// Fuzzing a manager server through local clients' shared-memory links (src/managers/link.ts):
// an authenticated client takes the link it is offered, then writes damaged requests into the
// request ring, or damages the ring's header words, and rings the server's wake pipe. After each
// case it asks through the ring for an answer to a well-formed probe. Every case must end with the
// probe answered or the client dropped (its socket closed): never silence. Meanwhile a
// well-behaved client (itself on a link) keeps being served, and the server must neither crash
// nor grow its heap without bound.
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { REPLY_RING_OFFSET, REQUEST_RING_OFFSET, type LinkOffer } from "#internal/managers/link.js";
import { shmIdentity } from "#internal/managers/locality.js";
import { PROTOCOL_VERSION } from "#internal/managers/messages.js";
import { decodeFrame } from "#internal/managers/wire.js";
import { attachSegment } from "#internal/shared/segment.js";
import { RingReader, RingWriter } from "#internal/transport/ring.js";
import { dumps } from "#internal/transport/serialize.js";
import { closeWake, openWake, ringWake } from "#internal/transport/wake.js";
import { casesFor, describeError, draw, malformed, releaseMappings, result, type FuzzOptions, type FuzzResult } from "./common.js";
import { ANSWER_MS, HANDSHAKE_MS, HEAP_BOUND_KIB, honestClient, memoryFigures, serverVerdict, Timeout, watchServer, within } from "./network.js";
import { parseRequest, validRequest } from "./parsers.js";
import { FuzzManager, type Address } from "./targets.js";

const PROBE_ID = -11;

type Case = { kind: "frame"; bytes: Uint8Array } | { kind: "damage"; word: number; value: number };

const linkCase: fc.Arbitrary<Case> = fc.oneof(
  { weight: 7, arbitrary: malformed(validRequest).map((bytes): Case => ({ kind: "frame", bytes })) },
  { weight: 2, arbitrary: validRequest.map((bytes): Case => ({ kind: "frame", bytes })) },
  // Any of the ring header's first 40 words (HEAD, TAIL, doorbells, flags, CAPACITY) set to junk.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("damage" as const), word: fc.integer({ min: 0, max: 39 }), value: fc.integer() }) },
);

type Outcome = "answered" | "dropped" | "not-offered";

/** A request that parses as shutdown would stop the server: authenticated clients may. */
function isShutdown(c: Case): boolean {
  if (c.kind !== "frame") return false;
  try {
    return (parseRequest(c.bytes) as { kind?: unknown }).kind === "shutdown";
  } catch {
    return false;
  }
}

/** One case on a connection of its own: the link belongs to the connection. */
async function runCase(address: Address, key: Buffer, c: Case, probe: Uint8Array, onRetry: () => void): Promise<Outcome> {
  const { conn, value: offer } = await honestClient(
    address,
    key,
    async (conn) => {
      await conn.send({ kind: "hello", id: 1, version: PROTOCOL_VERSION, shm: shmIdentity(), link: true });
      return ((await within(conn.recv(), ANSWER_MS, "hello")) as { value?: { link?: LinkOffer } }).value?.link;
    },
    onRetry,
  );
  let wakeFd = -1;
  try {
    if (offer === undefined) return "not-offered";
    const segment = attachSegment(offer.name);
    const requests = new RingWriter(segment.buffer, REQUEST_RING_OFFSET);
    const replies = new RingReader(segment.buffer, REPLY_RING_OFFSET);
    wakeFd = openWake(offer.wake);
    if (wakeFd < 0) return "not-offered";
    // The server closes the socket when it drops this client; it sends nothing else on it.
    const dropped = conn.recvBytes().then(
      () => "answered-on-socket" as const,
      () => "dropped" as const,
    );
    try {
      if (c.kind === "frame") requests.trySend(c.bytes);
      else Atomics.store(new Int32Array(segment.buffer, REQUEST_RING_OFFSET, 40), c.word, c.value);
      requests.trySend(probe);
    } catch {
      // A ring this case damaged may refuse the probe: the server must still drop us.
    }
    ringWake(wakeFd);
    const answered = (async () => {
      for (;;) {
        const reply = decodeFrame(await replies.recv()) as { id?: unknown };
        if (reply.id === PROBE_ID) return "answered" as const;
      }
    })().catch(() => "dropped" as const);
    const outcome = await within(Promise.race([answered, dropped]), ANSWER_MS, "probe");
    if (outcome === "answered-on-socket") throw new Error("the server answered on the socket after the link was in use");
    return outcome;
  } finally {
    if (offer !== undefined) closeWake(offer.wake, wakeFd);
    conn.close();
  }
}

export async function fuzzManagerLink(opts: FuzzOptions): Promise<FuzzResult> {
  const key = randomBytes(32);
  // The default address, a Unix socket: links are for clients on the server's machine.
  const manager = new FuzzManager({ authkey: key, handshakeTimeout: HANDSHAKE_MS });
  await manager.start();
  const figures: Record<string, number> = {};
  const mustBeZero: string[] = [];
  const notes: string[] = [];
  let serverPid = 0;
  try {
    const address = manager.address;
    if (address === undefined) throw new Error("the manager has no address");
    const { probe: probeObj, pid, good, before } = await watchServer(manager);
    serverPid = pid;

    const n = casesFor(opts, 5_000);
    const cases = draw(linkCase, opts.seed, n);
    const probe = dumps({ kind: "hello", id: PROBE_ID, version: PROTOCOL_VERSION }, "socket");
    const counts = { answered: 0, dropped: 0, hangs: 0, notOffered: 0, errors: 0, damage: 0, skipped: 0, retries: 0 };
    let done = 0;
    const lane = async () => {
      for (let step = cases.next(); step.done !== true; step = cases.next()) {
        if (isShutdown(step.value)) {
          counts.skipped++;
          continue;
        }
        if (step.value.kind === "damage") counts.damage++;
        try {
          const outcome = await runCase(address, key, step.value, probe, () => counts.retries++);
          if (outcome === "answered") counts.answered++;
          else if (outcome === "dropped") counts.dropped++;
          else counts.notOffered++;
        } catch (err) {
          if (err instanceof Timeout) {
            counts.hangs++;
            if (counts.hangs < 4) notes.push(`link: no answer and no drop after ${JSON.stringify(step.value).slice(0, 160)}`);
          } else {
            counts.errors++;
            if (counts.errors < 4) notes.push(`link: ${describeError(err)}`);
          }
        }
        // Each case maps a segment: let the finished ones go before the mappings pile up.
        if (++done % 200 === 0) await releaseMappings();
      }
    };
    await Promise.all([lane(), lane()]);
    Object.assign(figures, {
      "link.cases": n - counts.skipped,
      "link.shutdownSkipped": counts.skipped,
      "link.ringDamageCases": counts.damage,
      "link.probesAnswered": counts.answered,
      "link.clientsDropped": counts.dropped,
      "link.hangs": counts.hangs,
      "link.notOffered": counts.notOffered,
      "link.caseErrors": counts.errors,
      "link.handshakeRetries": counts.retries,
    });
    await good.stop();
    const after = await probeObj.memory();
    Object.assign(figures, memoryFigures("link", before, after, HEAP_BOUND_KIB), { "link.goodCalls": good.calls, "link.goodFailures": good.failures });
    if (good.errors.length > 0) notes.push(`link: good client: ${good.errors.join("; ")}`);
    mustBeZero.push("link.hangs", "link.notOffered", "link.caseErrors", "link.goodFailures", "link.heapGrowthOverBound");
  } finally {
    await serverVerdict(manager, serverPid, "link", figures, mustBeZero);
  }
  return result("fuzz-link", figures, mustBeZero, notes);
}
