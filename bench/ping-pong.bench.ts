// A round trip between two processes on the futex layer: the parent changes a word and wakes the
// child, the child answers on another word. No payload: this is the wake-up latency under every
// queue, pipe and pool. With sync waits both sides block in the kernel; with async waits each
// wait goes through the environment's futex_waitv thread and back to the event loop. For context,
// Node's own IPC (process.send to a forked child and back) and CPython's Pipe (send/recv of a
// small int to a child that echoes it).
import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { getContext, SharedMemory } from "multiproc";
import { waiter } from "#internal/native/wait.js";
import { timeOps, type BenchSpec, type Measurement } from "./harness.js";
import { PEER_TIMEOUT_MS, PING, PONG, pongAsync, pongSync, READY, STOP } from "./fixtures/ping-pong.js";

const ECHO = fileURLToPath(new URL("./fixtures/ipc-echo.js", import.meta.url));
const OPTIONS = { iterations: 20, time: 300 };

function futexPingPong(mode: "sync" | "async"): Measurement {
  return async () => {
    const shm = new SharedMemory({ create: true, size: 64 });
    const words = new Int32Array(shm.buffer);
    const child = new (getContext("process").Process)({ target: mode === "sync" ? pongSync : pongAsync, args: [shm] });
    child.start();
    try {
      if ((await waiter().waitAsync(words, READY, 0, { timeout: PEER_TIMEOUT_MS })) === "timed-out") throw new Error("the child never started");
      let seq = 0;
      const ping = () => {
        seq++;
        Atomics.store(words, PING, seq);
        waiter().wake(words, PING, 1);
      };
      const batch = mode === "sync" ? 2000 : 500;
      const samples =
        mode === "sync"
          ? await timeOps(
              () => {
                for (let i = 0; i < batch; i++) {
                  ping();
                  while (Atomics.load(words, PONG) !== seq) {
                    if (waiter().wait(words, PONG, seq - 1, PEER_TIMEOUT_MS) === "timed-out") throw new Error("the child went silent");
                  }
                }
              },
              { ...OPTIONS, batch },
            )
          : await timeOps(
              async () => {
                for (let i = 0; i < batch; i++) {
                  ping();
                  while (Atomics.load(words, PONG) !== seq) {
                    const r = await waiter().waitAsync(words, PONG, seq - 1, { timeout: PEER_TIMEOUT_MS });
                    if (r === "timed-out") throw new Error("the child went silent");
                  }
                }
              },
              { ...OPTIONS, batch },
            );
      return { samples };
    } finally {
      Atomics.store(words, PING, STOP);
      waiter().wake(words, PING);
      await child.join({ timeout: PEER_TIMEOUT_MS });
      if (child.exitCode === null) child.kill();
      shm.close();
      shm.unlink();
    }
  };
}

const nodeIpc: Measurement = async () => {
  const child = fork(ECHO, { stdio: "ignore" });
  try {
    let answered: (() => void) | undefined;
    child.on("message", () => answered?.());
    const roundTrip = () =>
      new Promise<void>((resolve) => {
        answered = resolve;
        child.send(1);
      });
    await roundTrip(); // the child is up
    const batch = 200;
    const samples = await timeOps(
      async () => {
        for (let i = 0; i < batch; i++) await roundTrip();
      },
      { ...OPTIONS, batch },
    );
    return { samples };
  } finally {
    const exited = once(child, "exit");
    child.disconnect();
    await exited;
  }
};

export default {
  title: "round trip between two processes, no payload (time per round trip)",
  issue: 2,
  metric: { kind: "time" },
  multiproc: { "futex, sync waits": futexPingPong("sync"), "futex, async waits": futexPingPong("async") },
  peers: { "Node IPC": nodeIpc },
  python: ["Pipe"],
  rounds: 5,
} satisfies BenchSpec;
