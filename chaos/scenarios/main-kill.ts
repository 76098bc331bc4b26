// SIGKILL a main process that owns children (daemon and not), a busy Pool, a Queue with a
// consumer child, a Manager, a SharedMemory segment, a Lock and a Value. Within a few seconds no
// process it started may survive (they carry its tag in their environment) and /dev/shm must hold
// none of its segments (its prefix): the process table and /dev/shm are back to their start.
import { spawn } from "node:child_process";
import { unlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { kill, pause, Rng, type ScenarioOptions, type ScenarioResult, shmWithPrefix, taggedProcesses, Tally, until } from "../lib.js";

const victimJs = fileURLToPath(new URL("../fixtures/main-victim.js", import.meta.url));
const DEADLINE_MS = 30_000;
/** How long the dead main's children and tracker get to notice and clean up. */
const GRACE_MS = 5_000;

async function round(k: number, rng: Rng, t: Tally): Promise<void> {
  const tag = `${process.env.MULTIPROC_CHAOS_TAG ?? `main-kill${process.pid}`}/main${k}`;
  const prefix = `${process.env.MULTIPROC_SHM_PREFIX ?? ""}m${k}_`;
  const child = spawn(process.execPath, [victimJs], {
    env: { ...process.env, MULTIPROC_CHAOS_TAG: tag, MULTIPROC_SHM_PREFIX: prefix },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  if (!(await until(() => out.includes("READY"), DEADLINE_MS))) {
    t.add("victimsNeverReady");
    kill(child.pid ?? 0);
  } else {
    t.set("processesPerMain", Math.max(t.get("processesPerMain"), taggedProcesses(tag).length));
    t.set("segmentsPerMain", Math.max(t.get("segmentsPerMain"), shmWithPrefix(prefix).length));
    await pause(rng.int(0, 300));
    if (kill(child.pid ?? 0)) t.add("faults");
  }
  await exited;
  await until(() => taggedProcesses(tag).length === 0 && shmWithPrefix(prefix).length === 0, GRACE_MS);
  const survivors = taggedProcesses(tag);
  const segments = shmWithPrefix(prefix);
  t.add("survivingChildren", survivors.length);
  t.add("leftSegments", segments.length);
  if (survivors.length + segments.length > 0) console.error(`main-kill: round ${k} left processes [${survivors.join(", ")}] and segments [${segments.join(", ")}]`);
  for (const pid of survivors) kill(pid);
  for (const name of segments) {
    try {
      unlinkSync(`/dev/shm/${name}`);
    } catch {
      // gone meanwhile
    }
  }
}

export async function mainKillChaos(opts: ScenarioOptions): Promise<ScenarioResult> {
  const rng = new Rng(opts.seed);
  const t = new Tally();
  const rounds = Math.max(1, Math.round(30 * opts.scale));
  for (let k = 0; k < rounds; k++) await round(k, rng, t);
  t.set("leakedProcesses", t.get("survivingChildren"));
  t.set("leakedSegments", t.get("leftSegments"));
  return {
    name: "main-kill",
    figures: t.figures,
    mustBeZero: ["survivingChildren", "leftSegments", "victimsNeverReady"],
    notes: [`${rounds} main programs SIGKILLed 0-300 ms after they were up (children, pool, queue, manager, segment, lock, value)`],
  };
}
