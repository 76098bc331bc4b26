// SIGKILL random pool workers while map/imap/imapUnordered calls run. Every call must settle
// (its exact results, or WorkerLostError) within its deadline; values an iterator yielded before
// failing must be right and never repeated; the pool must keep serving afterwards.
import { getContext, type Pool, WorkerLostError } from "multiproc";
import { expected, work, workUnary } from "../fixtures/pool.js";
import { codeOf, kill, pause, Rng, type ScenarioOptions, type ScenarioResult, Tally, Timeout, within } from "../lib.js";

const CALL_DEADLINE_MS = 60_000;
const WORKERS = 4;

/**
 * Live workers to kill: mostly ones that have run a task (so calls keep running into kills),
 * one time in ten any worker, also one in start-up (which must not break the pool either).
 */
function workerPids(pool: Pool, rng: Rng): number[] {
  const any = rng.chance(0.1);
  return pool.stats().workers.filter((s) => s.pid !== process.pid && (any || s.tasks > 0)).map((s) => s.pid);
}

type Kind = "map" | "imap" | "imapUnordered" | "starmap";

export async function poolChaos(opts: ScenarioOptions): Promise<ScenarioResult> {
  const rng = new Rng(opts.seed);
  const t = new Tally();
  const target = Math.max(1, Math.round(1000 * opts.scale));
  const ctx = getContext("process");
  let pool = new ctx.Pool(WORKERS);
  let stop = false;

  // The killer: every few ms, one random live worker.
  const killer = (async () => {
    while (!stop && t.get("kills") < target) {
      await pause(rng.int(5, 60));
      const pids = workerPids(pool, rng);
      if (pids.length === 0) continue;
      if (kill(rng.pick(pids))) t.add("kills");
    }
  })();

  const check = async (kind: Kind, n: number, chunksize: number, us: number): Promise<void> => {
    const xs = Array.from({ length: n }, (_, i) => i + 1000 * t.get("calls"));
    const want = xs.map(expected);
    t.add("calls");
    t.add("items", n);
    try {
      if (kind === "map" || kind === "starmap") {
        const got = kind === "map"
          ? await within(pool.map(workUnary, xs, { chunksize }), CALL_DEADLINE_MS, "map")
          : await within(pool.starmap(work, xs.map((x) => [x, us] as [number, number]), { chunksize }), CALL_DEADLINE_MS, "starmap");
        if (kind === "map" && got.length !== n) t.add("wrongResults");
        else if (got.some((v, i) => v !== want[i])) t.add("wrongResults");
        else t.add("completed");
        return;
      }
      // Values yielded before a failure must be right (imap: in order) and never repeated.
      const seen = new Set<number>();
      let i = 0;
      let bad = false;
      const it = kind === "imap" ? pool.imap(workUnary, xs, { chunksize }) : pool.imapUnordered(workUnary, xs, { chunksize });
      const drain = (async () => {
        for await (const v of it) {
          if (seen.has(v)) t.add("duplicates");
          seen.add(v);
          if (!bad && (kind === "imap" ? v !== want[i] : !want.includes(v))) {
            bad = true;
            t.add("wrongResults");
          }
          i++;
        }
      })();
      await within(drain, CALL_DEADLINE_MS, kind);
      if (bad) return;
      if (i !== n) t.add("wrongResults");
      else t.add("completed");
    } catch (err) {
      if (err instanceof Timeout) {
        t.add("hangs");
        // A wedged pool cannot be trusted for the rest of the run: start a new one.
        void pool.terminate().catch(() => undefined);
        pool = new ctx.Pool(WORKERS);
      } else if (err instanceof WorkerLostError) {
        t.add("workerLost");
        t.add("reportedLost", n);
      }
      else {
        t.add("wrongErrors");
        if (t.get("wrongErrors") <= 3) console.error(`pool chaos: ${kind} failed with ${codeOf(err)}`);
      }
    }
  };

  const kinds: Kind[] = ["map", "imap", "imapUnordered", "starmap"];
  // Calls go on while the killer works; a pool that stops serving ends the loop (and is counted).
  while (t.get("kills") < target && t.get("wrongErrors") === 0 && t.get("hangs") === 0) {
    const running: Promise<void>[] = [];
    for (let c = 0; c < 2; c++) running.push(check(rng.pick(kinds), rng.int(10, 300), rng.int(1, 8), rng.int(0, 3000)));
    await Promise.all(running);
  }
  stop = true;
  await killer;
  t.set("faults", t.get("kills"));

  // The pool still serves.
  try {
    const xs = Array.from({ length: 1000 }, (_, i) => i);
    const got = await within(pool.map(expected, xs), CALL_DEADLINE_MS, "final map");
    if (got.some((v, i) => v !== expected(i))) t.add("notServingAfter");
  } catch (err) {
    if (err instanceof Timeout) t.add("hangs");
    t.add("notServingAfter");
  }
  await within(pool.terminate(), CALL_DEADLINE_MS, "terminate").catch(() => t.add("hangs"));
  return {
    name: "pool",
    figures: t.figures,
    mustBeZero: ["hangs", "wrongResults", "wrongErrors", "duplicates", "notServingAfter"],
    notes: [`${WORKERS} process workers; calls of 10-300 items, chunksize 1-8, tasks spinning 0-3 ms`],
  };
}
