// Fuzzing the pickle codec (src/managers/pickle, issue 18): the reader in-process on damaged
// pickles (ours, CPython's, manager requests) and noise; then a manager server with serializer
// "pickle" in a child process, fed the same from 4 connections at once, each case followed by a
// probe that must be answered, while a good client (itself speaking pickle) keeps calling.
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import type { SocketConnection } from "multiproc";
import { encodeRequest, parseReply, parseRequest, type ReplyKind } from "#internal/managers/pickle/protocol.js";
import { unpickle } from "#internal/managers/pickle/reader.js";
import { pickle } from "#internal/managers/pickle/writer.js";
import { PySlice, PyTuple } from "#internal/managers/pickle/values.js";
import { casesFor, draw, malformed, result, Verdicts, type FuzzOptions, type FuzzResult } from "./common.js";
import { ANSWER_MS, attack, attackFigures, HANDSHAKE_MS, HEAP_BOUND_KIB, honestClient, memoryFigures, serverVerdict, Timeout, watchServer, within, type Tcp } from "./network.js";
import { CPYTHON_PICKLES } from "./pickle-corpus.js";
import { FuzzManager } from "./targets.js";

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
  fc.string({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 40 }),
);

/** The value set (SPEC.md, "Talking to CPython managers"). */
const pyValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    leaf,
    fc.array(tie("value"), { maxLength: 5 }),
    fc.array(tie("value"), { maxLength: 4 }).map((items) => new PyTuple(items)),
    fc.dictionary(fc.string({ maxLength: 8 }), tie("value"), { maxKeys: 5 }),
    fc.array(fc.tuple(fc.integer(), tie("value")), { maxLength: 4 }).map((entries) => new Map(entries)),
    fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 8 })), { maxLength: 5 }).map((items) => new Set(items)),
  ),
})).value;

const ident = fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 40 }).map((n) => n.toString(16)));
const method = fc.constantFrom("create", "dummy", "incref", "decref", "get_methods", "number_of_objects", "debug_info", "accept_connection", "__getitem__", "__setitem__", "keys", "get", "pid", "nope", "__class__");
const request = fc
  .tuple(ident, method, fc.array(fc.oneof(pyValue, fc.constantFrom("dict", "list", "Namespace", "Value")), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 6 }), leaf, { maxKeys: 2 }))
  .map(([i, m, args, kwds]) => encodeRequest(i, m, m === "__getitem__" && args.length === 0 ? [new PySlice(0, 2, null)] : args, kwds));

const cpython = fc.constantFrom(...CPYTHON_PICKLES).map((h) => Uint8Array.from(Buffer.from(h, "hex")));

/** Well-formed pickles: ours of the value set, CPython's, and manager requests. */
export const validPickle: fc.Arbitrary<Uint8Array> = fc.oneof(pyValue.map((v) => Uint8Array.from(pickle(v))), cpython, request.map((b) => Uint8Array.from(b)));

export function fuzzPickles(opts: FuzzOptions): Verdicts {
  // Undamaged, every CPython pickle reads (a reader that refuses everything would pass below).
  for (const h of CPYTHON_PICKLES) unpickle(Buffer.from(h, "hex"));
  const v = new Verdicts("pickles", opts.seed);
  for (const bytes of draw(malformed(validPickle), opts.seed, casesFor(opts))) v.run(bytes, () => unpickle(bytes));
  return v;
}

const PROBE = encodeRequest(null, "dummy", []);

/** A case's request as the server will read it, or undefined (then it is refused there too). */
function requestOf(bytes: Uint8Array): { method: string } | undefined {
  try {
    return parseRequest(unpickle(bytes));
  } catch {
    return undefined;
  }
}

export async function fuzzPickleServer(opts: FuzzOptions): Promise<FuzzResult> {
  const key = randomBytes(32);
  const manager = new FuzzManager({ address: ["127.0.0.1", 0], authkey: key, handshakeTimeout: HANDSHAKE_MS, serializer: "pickle" });
  await manager.start();
  const figures: Record<string, number> = {};
  const mustBeZero: string[] = [];
  const notes: string[] = [];
  let serverPid = 0;
  try {
    const address = manager.address as Tcp;
    const { probe, pid, good, before } = await watchServer(manager);
    serverPid = pid;
    const n = casesFor(opts, 10_000);
    const cases = draw(fc.oneof({ weight: 3, arbitrary: validPickle }, { weight: 7, arbitrary: malformed(validPickle) }), opts.seed, n);
    let sent = 0;
    let skipped = 0;
    let answered = 0;
    let badReplies = 0;
    let hangs = 0;
    let retries = 0;
    const kinds: Partial<Record<ReplyKind, number>> = {};
    const lane = async () => {
      let conn: SocketConnection | undefined;
      for (let step = cases.next(); step.done !== true; step = cases.next()) {
        const bytes = step.value;
        // Authenticated clients may stop the server, or take objects the good client uses.
        const m = requestOf(bytes)?.method;
        if (m === "shutdown" || m === "decref") {
          skipped++;
          continue;
        }
        sent++;
        conn ??= (await honestClient(address, key, () => Promise.resolve(), () => retries++)).conn;
        try {
          await conn.sendBytes(bytes);
          await conn.sendBytes(PROBE);
          // Every frame gets exactly one reply: the case's, then the probe's.
          for (let i = 0; i < 2; i++) {
            const reply = parseReply(unpickle(await within(conn.recvBytes(), ANSWER_MS, "probe")));
            if (reply === undefined) badReplies++;
            else kinds[reply.kind] = (kinds[reply.kind] ?? 0) + 1;
          }
          answered++;
        } catch (err) {
          if (err instanceof Timeout) {
            hangs++;
            if (hangs < 4) notes.push(`pickle-server: no answer after ${Buffer.from(bytes).toString("hex").slice(0, 80)}`);
          } else {
            badReplies++;
            if (badReplies < 4) notes.push(`pickle-server: ${String(err)} after ${Buffer.from(bytes).toString("hex").slice(0, 80)}`);
          }
          conn.close();
          conn = undefined;
        }
      }
      conn?.close();
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
    Object.assign(figures, {
      "pickleServer.requestCases": sent,
      "pickleServer.requestsAnswered": answered,
      "pickleServer.badReplies": badReplies,
      "pickleServer.hangs": hangs,
      "pickleServer.handshakeRetries": retries,
      "pickleServer.skipped": skipped,
    });
    notes.push(`pickle-server: replies by kind ${JSON.stringify(kinds)}`);

    const attacks = await attack(address, key, Math.max(5, Math.round(200 * opts.scale)), opts.seed + 1);
    const af = attackFigures(attacks, "pickleServer");
    Object.assign(figures, af.figures);
    mustBeZero.push(...af.mustBeZero);

    await good.stop();
    const after = await probe.memory();
    Object.assign(figures, memoryFigures("pickleServer", before, after, HEAP_BOUND_KIB), {
      "pickleServer.goodCalls": good.calls,
      "pickleServer.goodFailures": good.failures,
    });
    if (good.errors.length > 0) notes.push(`pickle-server: good client: ${good.errors.join("; ")}`);
    mustBeZero.push("pickleServer.hangs", "pickleServer.badReplies", "pickleServer.goodFailures", "pickleServer.heapGrowthOverBound");
  } finally {
    await serverVerdict(manager, serverPid, "pickleServer", figures, mustBeZero);
  }
  return result("fuzz-pickle-server", figures, mustBeZero, notes);
}
