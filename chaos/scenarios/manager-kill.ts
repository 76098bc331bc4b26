// SIGKILL a manager's server while clients use it: two client processes calling a Queue, a dict
// and a Lock proxy, and the parent with a get() pending on an empty queue. Every pending and
// later call must fail at once with a coded error (never hang, never an uncoded error), the
// clients must end, and shutting the manager down afterwards must not hang.
import { activeChildren, getContext, ProcessError, SharedMemory, SyncManager } from "multiproc";
import { managerClient } from "../fixtures/targets.js";
import { codeOf, kill, pause, Rng, type ScenarioOptions, type ScenarioResult, Tally, Timeout, until, within } from "../lib.js";

const CLIENTS = 2;
const DEADLINE_MS = 20_000;

function coded(err: unknown): boolean {
  return err instanceof ProcessError && typeof err.code === "string";
}

async function round(rng: Rng, t: Tally): Promise<void> {
  const m = new SyncManager();
  await within(m.start(), DEADLINE_MS, "manager start");
  const server = activeChildren().find((p) => p.name.startsWith("SyncManager-") && p.exitCode === null);
  if (server?.pid === null || server?.pid === undefined) throw new Error("cannot find the manager's server process");
  const q = await m.Queue<number>();
  const idle = await m.Queue<number>();
  const d = await m.dict<number, number>();
  const lock = await m.Lock();
  using shm = new SharedMemory({ create: true, size: 16 * CLIENTS });
  const w = new Int32Array(shm.buffer);
  const Process = getContext("process").Process;
  const clients = Array.from({ length: CLIENTS }, (_, slot) => new Process({ target: managerClient, args: [q, d, lock, shm, slot] }));
  clients.forEach((c) => c.start());
  const pending = idle.get();
  pending.catch(() => undefined);
  // Kill once every client made calls, at a random moment.
  if (!(await until(() => clients.every((_, s) => Atomics.load(w, 4 * s) > 0), DEADLINE_MS))) t.add("clientsNeverServed");
  await pause(rng.int(0, 50));
  kill(server.pid);
  t.add("faults");

  const outcome = async (what: string, p: Promise<unknown>) => {
    try {
      await within(p, DEADLINE_MS, what);
      t.add("callsSucceededAfterKill");
    } catch (err) {
      if (err instanceof Timeout) t.add("hangs");
      else if (coded(err)) t.add("clearErrors");
      else {
        t.add("unclearErrors");
        console.error(`manager-kill: ${what} failed with ${codeOf(err)}`);
      }
    }
  };
  await outcome("a get() pending when the server died", pending);
  await outcome("a call after the server died", d.set(1, 1));
  for (const c of clients) {
    await c.join({ timeout: DEADLINE_MS });
    if (c.exitCode === null) {
      t.add("hangs");
      c.kill();
      await c.join();
    } else if (c.exitCode !== 0) t.add("clientCrashes");
  }
  for (let s = 0; s < CLIENTS; s++) {
    t.add("clientCalls", w[4 * s]);
    t.add("clearErrors", w[4 * s + 1]);
    t.add("unclearErrors", w[4 * s + 2]);
    t.add("hangs", w[4 * s + 3]);
  }
  await within(m.shutdown(), DEADLINE_MS, "shutdown after the server died").catch((err: unknown) => {
    if (err instanceof Timeout) t.add("hangs");
    else if (!coded(err)) t.add("unclearErrors");
  });
  shm.unlink();
}

export async function managerKillChaos(opts: ScenarioOptions): Promise<ScenarioResult> {
  const rng = new Rng(opts.seed);
  const t = new Tally();
  const rounds = Math.max(1, Math.round(30 * opts.scale));
  for (let i = 0; i < rounds; i++) await round(rng, t);
  return {
    name: "manager-kill",
    figures: t.figures,
    mustBeZero: ["unclearErrors", "clientCrashes", "clientsNeverServed", "callsSucceededAfterKill"],
    notes: [`${rounds} managers, each SIGKILLed while ${CLIENTS} client processes and the parent call it`],
  };
}
