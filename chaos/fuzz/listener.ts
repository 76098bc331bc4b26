// Fuzzing a real Listener in a child process: malformed messages from an authenticated client
// (each refused by recv() with a typed error, the connection still usable), then the handshake
// attacks from network.ts, while a good client keeps echoing.
import { randomBytes } from "node:crypto";
import { getContext, Pipe, type SocketConnection } from "multiproc";
import { casesFor, describeError, draw, malformed, result, type FuzzOptions, type FuzzResult } from "./common.js";
import { ANSWER_MS, attack, attackFigures, GoodClient, HANDSHAKE_MS, HEAP_BOUND_KIB, honestClient, memoryFigures, within, type Tcp } from "./network.js";
import { validMessage } from "./parsers.js";
import { serveListener, type ListenerStats } from "./targets.js";

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
    let retries = 0;
    // Each connection's first exchange is an echo: a connection the server timed out at the
    // handshake shows there, and is made again (see honestClient).
    const echo = async (conn: SocketConnection): Promise<void> => {
      await conn.send({ probe: 0 });
      await within(conn.recv(), ANSWER_MS, "first echo");
    };
    const { conn: goodConn } = await honestClient(address, key, echo, () => retries++);
    good.start(async (i) => {
      await goodConn.send({ i, items: [i, String(i)] });
      const back = (await goodConn.recv()) as { i: number; items: unknown[] };
      return back.i === i && back.items[1] === String(i);
    });
    const before = await stats();

    // Malformed messages from an authenticated client: each refused by recv() with a typed error,
    // and the connection still carries the next good message (a probe, echoed).
    const n = casesFor(opts, 20_000);
    const { conn: fuzzer } = await honestClient(address, key, echo, () => retries++);
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
      "listener.handshakeRetries": retries,
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
