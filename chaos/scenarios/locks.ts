// SIGKILL random holders of a Lock, an RLock (taken 1-3 times re-entrantly) and a Semaphore(3)
// while four victims take them flat out. Never two holders inside a Lock/RLock, never more than 3
// inside the Semaphore; after every kill the others keep entering (no deadlock); the parent takes
// the lock at the end. Semaphores have no owner: a unit held by a process that dies is lost (as in
// CPython); this scenario counts those units and gives them back between rounds.
import { Lock, RLock, Semaphore, SharedMemory } from "multiproc";
import { pause, Rng, type ScenarioOptions, type ScenarioResult, startVictim, Tally, until, type Victim, within } from "../lib.js";

const VICTIMS = 4;
const UNITS = 3;
const STALL_MS = 15_000;
/** Semaphore rounds: after this many kills, every victim is stopped and lost units counted. */
const SEM_ROUND = UNITS - 1;
/** Lock and RLock victims killed at once. */
const LANES = 2;

type Kind = "lock" | "rlock" | "sem";

interface Running {
  victim: Victim;
  slot: number;
}

async function phase(kind: Kind, kills: number, rng: Rng, t: Tally): Promise<void> {
  using prim = kind === "lock" ? new Lock() : kind === "rlock" ? new RLock() : new Semaphore(UNITS);
  // [inside, violations, entries, takeovers/timeouts, stop, -, -, -, entries per victim...]
  using shm = new SharedMemory({ create: true, size: 4 * (8 + (kills + 1) * (VICTIMS + 1)) });
  const w = new Int32Array(shm.buffer);
  let slots = 0;
  const start = (): Running => {
    const slot = slots++;
    const args = kind === "sem" ? ["sem", prim, shm, UNITS, slot] : [kind, prim, shm, slot];
    return { victim: startVictim(args), slot };
  };
  let running = Array.from({ length: VICTIMS }, start);
  const stopAll = async () => {
    await Promise.all(running.map((r) => r.victim.kill()));
  };
  let killed = 0;
  let roundKills = 0;
  let stop = false;
  // Lock and RLock: killers in lanes (each owns every LANES-th victim). Semaphore: one lane, in
  // rounds of SEM_ROUND kills, each ended by stopping everyone and counting the units lost.
  const lanes = kind === "sem" ? 1 : LANES;
  const lane = async (first: number) => {
    while (!stop && killed < kills) {
      const mine = running.map((_, i) => i).filter((i) => i % lanes === first);
      const i = mine[rng.int(0, mine.length - 1)]!;
      const r = running[i]!;
      // Once it has entered at least once, at a random moment.
      if (!(await until(() => stop || Atomics.load(w, 8 + r.slot) > 0, STALL_MS))) {
        t.add("hangs");
        t.add(`${kind}Stalls`);
        stop = true;
        return;
      }
      if (stop) return;
      await pause(rng.int(0, 6));
      const entries = Atomics.load(w, 2);
      if (await r.victim.kill()) {
        killed++;
        roundKills++;
        t.add("faults");
        t.add(`${kind}Kills`);
      }
      running[i] = start();
      if (kind === "sem" && roundKills >= SEM_ROUND) {
        // Units held by the dead are gone for good; count them and give them back. The living
        // are asked to stop between two holds (a kill would lose their units too).
        Atomics.store(w, 4, 1);
        const ended = await Promise.all(running.map((v) => within(v.victim.exited, STALL_MS, "a semaphore victim asked to stop").catch(() => "hang")));
        if (ended.includes("hang")) {
          t.add("hangs");
          t.add(`${kind}Stalls`);
          stop = true;
          return;
        }
        Atomics.store(w, 4, 0);
        const lost = UNITS - (prim as Semaphore).getValue();
        t.add("semaphoreUnitsLostWithHolders", lost);
        if (lost > roundKills) t.add("semaphoreUnitsLostBeyondKills", lost - roundKills);
        for (let u = 0; u < lost; u++) (prim as Semaphore).release();
        Atomics.store(w, 0, 0);
        roundKills = 0;
        running = Array.from({ length: VICTIMS }, start);
        continue;
      }
      // The others go on entering: nobody waits on the dead for good.
      if (kind !== "sem" && !(await until(() => stop || Atomics.load(w, 2) > entries + 1, STALL_MS))) {
        t.add("hangs");
        t.add(`${kind}Stalls`);
        stop = true;
        return;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: lanes }, (_, l) => lane(l)));
    if (stop) return;
    if (kind === "sem") {
      // Stopped between two holds, the living give their units back.
      Atomics.store(w, 4, 1);
      for (const r of running) await within(r.victim.exited, STALL_MS, "a semaphore victim asked to stop").catch(() => t.add("hangs"));
    }
  } finally {
    await stopAll();
    t.add(kind === "sem" ? "semaphoreOverLimit" : "mutualExclusionViolations", Atomics.load(w, 1));
    t.add(`${kind}Entries`, Atomics.load(w, 2));
    if (kind !== "sem") t.add(`${kind}Takeovers`, Atomics.load(w, 3));
  }
  // The parent can take it now (a holder may have died: then it takes over).
  if (kind === "sem") {
    const sem = prim as Semaphore;
    const lost = UNITS - sem.getValue();
    t.add("semaphoreUnitsLostWithHolders", lost);
    if (lost > roundKills) t.add("semaphoreUnitsLostBeyondKills", lost - roundKills);
  } else {
    const lock = prim as Lock | RLock;
    if (!(await lock.acquire({ timeout: STALL_MS }))) t.add("hangs");
    else lock.release();
  }
}

export async function locksChaos(opts: ScenarioOptions): Promise<ScenarioResult> {
  const rng = new Rng(opts.seed);
  const t = new Tally();
  const total = Math.max(6, Math.round(1000 * opts.scale));
  // Semaphore rounds restart every victim, so its kills cost most: it gets a smaller share.
  const semKills = Math.max(2, Math.round(total * 0.1));
  const lockKills = Math.round((total - semKills) / 2);
  await phase("lock", lockKills, rng, t);
  await phase("rlock", total - semKills - lockKills, rng, t);
  await phase("sem", semKills, rng, t);
  return {
    name: "locks",
    figures: t.figures,
    mustBeZero: ["mutualExclusionViolations", "semaphoreOverLimit", "semaphoreUnitsLostBeyondKills"],
    notes: [
      `${VICTIMS} victims (bare node programs) per primitive, each replaced when killed; Lock, RLock (1-3 levels), Semaphore(${UNITS})`,
      "semaphoreUnitsLostWithHolders: units held by killed processes (no owner to take them back, as in CPython), given back by the scenario",
    ],
  };
}
