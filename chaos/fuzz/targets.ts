// What the network fuzzers attack, each in a process of its own so that its memory is its own: a
// Listener that accepts in a loop and echoes every object (serveListener), and a manager with a
// Probe object that reports the server's memory (FuzzManager). Exported, so children find them.
import { fullGc } from "./common.js";
import { Listener, SyncManager, type Address, type Connection, type SocketConnection } from "multiproc";

export interface ServerMemory {
  rssKiB: number;
  heapUsedKiB: number;
}

/** Memory after a full collection (so that what is measured is what is kept). */
export function memoryNow(): ServerMemory {
  fullGc();
  const m = process.memoryUsage();
  return { rssKiB: Math.round(m.rss / 1024), heapUsedKiB: Math.round(m.heapUsed / 1024) };
}

export interface ListenerStats extends ServerMemory {
  accepted: number;
  /** accept() rejections by code (failed handshakes). */
  refused: Record<string, number>;
  /** Messages received after authentication that did not parse, by code (the connection stays). */
  badMessages: Record<string, number>;
  /** Errors without a code: must stay 0. */
  untyped: number;
  echoed: number;
}

function count(table: Record<string, number>, err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  table[code] = (table[code] ?? 0) + 1;
  return true;
}

/**
 * A Listener on 127.0.0.1 that accepts forever and echoes each object back; its address goes to
 * `control` first. Then `control` carries requests: "stats" (answered with ListenerStats) and
 * "stop".
 */
export async function serveListener(control: Connection, authkey: Uint8Array, handshakeTimeout: number): Promise<void> {
  const listener = new Listener(["127.0.0.1", 0], { authkey, handshakeTimeout, maxMessageSize: 1 << 20 });
  await listener.ready;
  const stats: ListenerStats = { accepted: 0, refused: {}, badMessages: {}, untyped: 0, echoed: 0, rssKiB: 0, heapUsedKiB: 0 };
  const serve = async (conn: SocketConnection) => {
    for (;;) {
      let value: unknown;
      try {
        value = await conn.recv();
      } catch (err) {
        if ((err as { code?: unknown }).code === "ERR_EOF" || !conn.readable || conn.closed) return;
        if (!count(stats.badMessages, err)) stats.untyped++;
        continue; // the frame was bad, the stream is not: keep reading
      }
      try {
        await conn.send(value);
        stats.echoed++;
      } catch {
        return;
      }
    }
  };
  let stopping = false;
  void (async () => {
    while (!stopping) {
      try {
        const conn = await listener.accept();
        stats.accepted++;
        void serve(conn);
      } catch (err) {
        if (stopping) return;
        if (!count(stats.refused, err)) stats.untyped++;
      }
    }
  })();
  await control.send(listener.address);
  for (;;) {
    const request = await control.recv();
    if (request === "stats") {
      await control.send({ ...stats, ...memoryNow() });
    } else {
      stopping = true;
      listener.close();
      await control.send("stopped");
      return;
    }
  }
}

/** Reports the server's memory through a manager call. */
export class Probe {
  memory(): ServerMemory {
    return memoryNow();
  }
  pid(): number {
    return process.pid;
  }
}

export class FuzzManager extends SyncManager {}
FuzzManager.register("Probe", Probe);

export type { Address };
