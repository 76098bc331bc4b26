// Fuzzing a real manager server in a child process: requests well-formed but wrong, damaged ones
// and noise from 4 connections at once, each followed by a probe that must be answered, then the
// handshake attacks from network.ts, while a good client keeps calling.
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import type { SocketConnection } from "multiproc";
import { PROTOCOL_VERSION } from "#internal/managers/messages.js";
import { decodeFrame } from "#internal/managers/wire.js";
import { dumps } from "#internal/transport/serialize.js";
import { casesFor, draw, malformed, result, type FuzzOptions, type FuzzResult } from "./common.js";
import { ANSWER_MS, attack, attackFigures, HANDSHAKE_MS, HEAP_BOUND_KIB, honestClient, memoryFigures, serverVerdict, Timeout, watchServer, within, type Tcp } from "./network.js";
import { parseRequest, validRequest } from "./parsers.js";
import { FuzzManager } from "./targets.js";

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
    let retries = 0;
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
          conn = (await honestClient(address, key, () => Promise.resolve(), () => retries++)).conn;
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
      "manager.handshakeRetries": retries,
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
