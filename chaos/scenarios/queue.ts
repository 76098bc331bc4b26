// SIGKILL random producers and consumers of one Queue (maxsize 64) while they run flat out. No
// deadlock (items keep moving after every kill), no item received twice, every item whose put
// returned received exactly once, except at most one per consumer killed (an item delivered to a
// process that died before it could record it: lost with it, the queue's documented contract).
import { Empty, Queue, SharedMemory } from "multiproc";
import { recoveries } from "#internal/queues/core-locked.js";
import { pause, Rng, type ScenarioOptions, type ScenarioResult, startVictim, Tally, until, type Victim } from "../lib.js";

const PRODUCERS = 3;
const CONSUMERS = 3;
/** Items a producer may put (its range of item numbers). */
const SPAN = 4096;
/** No item moving for this long while producers and consumers run is a deadlock. */
const STALL_MS = 15_000;
/** Victims killed at once (each lane owns every LANES-th victim). */
const LANES = 3;

interface Running {
  victim: Victim;
  role: "produce" | "consume";
  slot: number;
}

export async function queueChaos(opts: ScenarioOptions): Promise<ScenarioResult> {
  const rng = new Rng(opts.seed);
  const t = new Tally();
  const target = Math.max(4, Math.round(1000 * opts.scale));
  const before = { ...recoveries };
  const maxProducers = target + PRODUCERS;
  const maxConsumers = target + CONSUMERS;
  // Ledger: [unused, done[maxProducers] (puts that returned), took[maxConsumers], seen[items]].
  const DONE = 1;
  const TOOK = DONE + maxProducers;
  const SEEN = TOOK + maxConsumers;
  await using q = new Queue<number>({ maxsize: 64 });
  using shm = new SharedMemory({ create: true, size: 4 * (SEEN + maxProducers * SPAN) });
  const w = new Int32Array(shm.buffer);
  let producers = 0;
  let consumers = 0;
  const start = (role: Running["role"]): Running => {
    if (role === "produce") {
      const slot = producers++;
      return { role, slot, victim: startVictim(["produce", q, shm, DONE + slot, slot * SPAN, SPAN]) };
    }
    const slot = consumers++;
    return { role, slot, victim: startVictim(["consume", q, shm, SEEN, TOOK + slot]) };
  };
  /** Whether the victim has finished one operation (a put returned, an item recorded). */
  const active = (r: Running) => Atomics.load(w, (r.role === "produce" ? DONE : TOOK) + r.slot) > 0;

  const running: Running[] = [];
  for (let i = 0; i < PRODUCERS; i++) running.push(start("produce"));
  for (let i = 0; i < CONSUMERS; i++) running.push(start("consume"));
  const moved = () => {
    let n = 0;
    for (let c = 0; c < consumers; c++) n += Atomics.load(w, TOOK + c);
    return n;
  };
  let stop = false;
  // Killers work in lanes (each owns some victims), so that one victim's start-up does not hold
  // the others back; a watchdog checks that items keep moving (nobody stuck on a dead holder).
  const lane = async (first: number) => {
    while (!stop && t.get("faults") < target) {
      const mine = running.map((_, i) => i).filter((i) => i % LANES === first);
      const i = mine[rng.int(0, mine.length - 1)]!;
      const r = running[i]!;
      // Kill it only once it works (not while node boots), at a random moment after that.
      if (!(await until(() => stop || active(r), STALL_MS))) {
        t.add("hangs");
        t.add("stalledVictims");
        stop = true;
        break;
      }
      if (stop) break;
      await pause(rng.int(0, 12));
      if (await r.victim.kill()) {
        t.add("faults");
        t.add(r.role === "produce" ? "producersKilled" : "consumersKilled");
      } else {
        t.add("victimsEndedEarly");
      }
      running[i] = start(r.role);
    }
  };
  const watchdog = async () => {
    while (!stop) {
      const before = moved();
      if (!(await until(() => stop || moved() > before, STALL_MS))) {
        t.add("hangs");
        stop = true;
      }
    }
  };
  try {
    const dog = watchdog();
    await Promise.all(Array.from({ length: LANES }, (_, l) => lane(l)));
    stop = true;
    await dog;
  } finally {
    stop = true;
    await Promise.all(running.map((r) => r.victim.kill()));
  }

  // What is left in the queue counts as received (nobody lost it).
  for (;;) {
    try {
      const item = q.getNowait();
      Atomics.add(w, SEEN + item, 1);
    } catch (err) {
      if (err instanceof Empty) break;
      throw err;
    }
  }
  let lost = 0;
  let inFlightArrived = 0;
  for (let p = 0; p < producers; p++) {
    const done = Atomics.load(w, DONE + p);
    t.add("itemsPut", done);
    for (let i = 0; i < SPAN; i++) {
      const seen = w[SEEN + p * SPAN + i]!;
      if (seen > 1) t.add("duplicates", seen - 1);
      if (i < done && seen === 0) lost++;
      else if (i === done && seen === 1) inFlightArrived++;
      else if (i > done && seen > 0) t.add("phantoms");
    }
  }
  const consumersKilled = t.get("consumersKilled");
  t.set("reportedLost", Math.min(lost, consumersKilled));
  t.set("silentlyLost", Math.max(0, lost - consumersKilled));
  t.set("inFlightPutsArrived", inFlightArrived);
  t.set("lockTakeovers", recoveries.takeovers - before.takeovers);
  t.set("journalReplays", recoveries.replays - before.replays);
  return {
    name: "queue",
    figures: t.figures,
    mustBeZero: ["phantoms", "stalledVictims"],
    notes: [
      `${PRODUCERS} producers and ${CONSUMERS} consumers (bare node programs) around one Queue({ maxsize: 64 }); a killed one is replaced at once`,
      "lost, reported: items taken by a consumer killed before it recorded them, at most one per consumer killed (the queue's contract); lost silently: any beyond that",
    ],
  };
}
