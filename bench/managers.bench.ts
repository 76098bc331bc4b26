// A manager dict's set and get, one round trip each, from a client process (the benchmark's)
// to the manager's server process, against CPython's Manager().dict() measured the same way.
// multiproc's client is local, so by default its calls go through the shared-memory link
// (managers/link.ts) whatever the address; `sharedMemory: false` forces the socket, as for a
// client on another machine. For context, the floor under any socket-based manager in Node: a
// bare round trip of a 40-byte chunk to a Node process that echoes it on a Unix socket (no
// framing, no parsing, no dispatch).
import { fork } from "node:child_process";
import { once } from "node:events";
import { rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Manager, type ManagerOptions } from "multiproc";
import { timeOps, type BenchSpec, type Measurement } from "./harness.js";

const ECHO = fileURLToPath(new URL("./fixtures/net-echo.js", import.meta.url));

const BATCH = 400;

function dictSetGet(options: ManagerOptions): Measurement {
  return async () => {
    const manager = await Manager(options);
    try {
      const d = await manager.dict<string, number>();
      await d.set("k", 0);
      const samples = await timeOps(
        async () => {
          for (let i = 0; i < BATCH / 2; i++) {
            await d.set("k", i);
            await d.get("k");
          }
        },
        { iterations: 10, time: 300, batch: BATCH, warmupTime: 300 },
      );
      return { samples };
    } finally {
      await manager.shutdown();
    }
  };
}

const socketEcho: Measurement = async () => {
  const child = fork(ECHO, { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const path = join(tmpdir(), `mp-bench-echo-${process.pid}.sock`);
  try {
    child.send(path);
    await once(child, "message");
    const socket = connect(path);
    await once(socket, "connect");
    let answered: (() => void) | undefined;
    socket.on("data", () => answered?.());
    const chunk = Buffer.alloc(40);
    const roundTrip = () =>
      new Promise<void>((resolve) => {
        answered = resolve;
        socket.write(chunk);
      });
    const samples = await timeOps(
      async () => {
        for (let i = 0; i < BATCH; i++) await roundTrip();
      },
      { iterations: 10, time: 300, batch: BATCH, warmupTime: 300 },
    );
    socket.destroy();
    return { samples };
  } finally {
    const exited = once(child, "exit");
    child.disconnect();
    await exited;
    rmSync(path, { force: true });
  }
};

export default {
  title: "manager dict: one set or get through a proxy (time per operation)",
  issue: 6,
  metric: { kind: "time" },
  multiproc: {
    "Manager().dict(), local link": dictSetGet({}),
    "Manager().dict(), Unix socket only": dictSetGet({ sharedMemory: false }),
    "Manager().dict(), TCP 127.0.0.1 only": dictSetGet({ address: ["127.0.0.1", 0], sharedMemory: false }),
  },
  peers: { "Node Unix socket echo (floor)": socketEcho },
  python: ["Manager().dict()", "Manager().dict(), TCP"],
  goals: [
    { multiproc: "Manager().dict(), local link", peer: "CPython Manager().dict()", ratio: 0.4 },
    // Issue 15: remote clients (seed 004) talk TCP; CPython's SyncManager on a TCP address.
    { multiproc: "Manager().dict(), TCP 127.0.0.1 only", peer: "CPython Manager().dict(), TCP", ratio: 0.7 },
  ],
  rounds: 3,
} satisfies BenchSpec;
