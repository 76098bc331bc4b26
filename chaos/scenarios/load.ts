// Load: many processes through one Queue with a small maxsize, and one manager serving many
// clients at once for a while. The figures are throughput and memory; the checks are that every
// item arrives exactly once, no call hangs, and the manager's memory stays bounded.
import { activeChildren, getContext, Queue, SharedMemory, SyncManager } from "multiproc";
import { managerLoadClient } from "../fixtures/targets.js";
import { pause, rssKiB, type ScenarioOptions, type ScenarioResult, startVictim, Tally, until, within } from "../lib.js";

/** 64 producer processes x 10,000 items (at full scale) into one Queue({ maxsize: 100 }), 4 consumers. */
export async function queueLoad(opts: ScenarioOptions): Promise<ScenarioResult> {
  const t = new Tally();
  const producers = Math.max(4, Math.round(64 * Math.min(1, opts.scale * 10)));
  const perProducer = Math.max(100, Math.round(10_000 * opts.scale));
  const consumers = 4;
  const total = producers * perProducer;
  // Ledger: [taken, done[producers], took[consumers], seen[total]]
  const DONE = 1;
  const TOOK = DONE + producers;
  const SEEN = TOOK + consumers;
  await using q = new Queue<number>({ maxsize: 100 });
  using shm = new SharedMemory({ create: true, size: 4 * (SEEN + total) });
  const w = new Int32Array(shm.buffer);
  const started = performance.now();
  const cons = Array.from({ length: consumers }, (_, c) => startVictim(["consume", q, shm, SEEN, TOOK + c]));
  const prods = Array.from({ length: producers }, (_, p) => startVictim(["produce", q, shm, DONE + p, p * perProducer, perProducer, "exit"]));
  const takenAll = () => cons.reduce((s, _, c) => s + Atomics.load(w, TOOK + c), 0);
  // Progress or a hang: items must keep moving (15 s without one is a hang).
  let last = -1;
  let peakRss = 0;
  while (takenAll() < total) {
    const now = takenAll();
    if (now === last) {
      t.add("hangs");
      break;
    }
    last = now;
    await until(() => takenAll() >= total || takenAll() > now, 15_000);
    for (const v of [...cons, ...prods]) peakRss = Math.max(peakRss, rssKiB(v.pid));
    await pause(0);
  }
  const seconds = (performance.now() - started) / 1000;
  await Promise.all([...cons, ...prods].map((v) => v.kill()));
  for (let i = 0; i < total; i++) {
    const seen = w[SEEN + i]!;
    if (seen > 1) t.add("duplicates", seen - 1);
    if (seen === 0) t.add("silentlyLost");
  }
  t.set("processes", producers + consumers);
  t.set("items", total);
  t.set("itemsPerSecond", Math.round(total / seconds));
  t.set("peakProcessRssMiB", Math.round(peakRss / 1024));
  return {
    name: "queue-load",
    figures: t.figures,
    mustBeZero: [],
    notes: [`${producers} producers x ${perProducer} items into one Queue({ maxsize: 100 }), ${consumers} consumers, ${seconds.toFixed(1)} s, start-up included`],
  };
}

/** One manager serving 32 client processes at once for `seconds`; its RSS is sampled. */
export async function managerLoad(opts: ScenarioOptions): Promise<ScenarioResult> {
  const t = new Tally();
  const clients = Math.max(4, Math.round(32 * Math.min(1, opts.scale * 10)));
  const seconds = Math.max(1, opts.seconds);
  await using m = new SyncManager();
  await m.start();
  const server = activeChildren().find((p) => p.name.startsWith("SyncManager-") && p.exitCode === null);
  const serverPid = server?.pid ?? 0;
  const d = await m.dict<number, number>();
  const l = await m.list<number>();
  const q = await m.Queue<number>();
  const lock = await m.Lock();
  const v = await m.Value<number>("i", 7);
  using shm = new SharedMemory({ create: true, size: 16 * clients });
  const w = new Int32Array(shm.buffer);
  const { Process } = getContext("process");
  // Clients start first (their start-up is not load); the clock starts once all are up.
  // A safety net: clients end on their own if this program is gone (they are killed before).
  const endAt = Date.now() + (seconds + 180) * 1000;
  const ps = Array.from({ length: clients }, (_, slot) => new Process({ target: managerLoadClient, args: [d, l, q, lock, v, shm, slot, endAt] }));
  const began = Date.now();
  ps.forEach((p) => p.start());
  // RSS of the server: the first sample once every client made a call, then one a second.
  await until(() => ps.every((_, s) => Atomics.load(w, 4 * s) > 0), 60_000);
  const samples: number[] = [];
  const loadStart = Date.now();
  const callsAtStart = ps.reduce((s, _, c) => s + Atomics.load(w, 4 * c), 0);
  while (Date.now() - loadStart < seconds * 1000) {
    samples.push(rssKiB(serverPid));
    await pause(Math.min(1000, seconds * 100));
  }
  samples.push(rssKiB(serverPid));
  const calls = ps.reduce((s, _, c) => s + Atomics.load(w, 4 * c), 0) - callsAtStart;
  const loadMs = Date.now() - loadStart;
  for (const p of ps) p.kill();
  for (const p of ps) await within(p.join(), 20_000, "client").catch(() => t.add("hangs"));
  for (let s = 0; s < clients; s++) {
    t.add("callErrors", w[4 * s + 1]);
    t.add("hangs", w[4 * s + 2]);
  }
  const half = Math.floor(samples.length / 2);
  const firstHalf = Math.max(...samples.slice(0, Math.max(1, half)));
  const secondHalf = Math.max(...samples.slice(half));
  t.set("clients", clients);
  t.set("calls", calls);
  t.set("callsPerSecond", Math.round(calls / (loadMs / 1000)));
  t.set("serverRssFirstHalfPeakMiB", Math.round(firstHalf / 1024));
  t.set("serverRssSecondHalfPeakMiB", Math.round(secondHalf / 1024));
  // Bounded: the second half's peak no more than 64 MiB and 50% above the first half's.
  t.set("unboundedMemory", secondHalf > firstHalf * 1.5 + 65536 ? 1 : 0);
  return {
    name: "manager-load",
    figures: t.figures,
    mustBeZero: ["callErrors", "unboundedMemory"],
    notes: [`${clients} client processes calling dict, list, Queue, Lock and Value proxies of one manager for ${(loadMs / 1000).toFixed(0)} s (start-up of ${((loadStart - began) / 1000).toFixed(1)} s excluded)`],
  };
}
