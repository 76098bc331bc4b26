// What every chaos scenario shares: a seeded random source (the seed is printed, so a run can be
// replayed), deadlines on every wait (a hang is counted, never waited out), the figures a
// scenario reports, and looks at /proc and /dev/shm for what a run left behind.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { pidAlive } from "#internal/runtime.js";
import { dumps } from "#internal/transport/serialize.js";

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) | 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** A 32-bit seed derived from the run's seed and a scenario name, so scenarios do not share draws. */
export function subSeed(seed: number, name: string): number {
  let h = seed >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The figures one scenario reports; every name in `mustBeZero` is a failure when non-zero. */
export interface ScenarioResult {
  name: string;
  figures: Record<string, number>;
  mustBeZero: string[];
  notes: string[];
}

export interface ScenarioOptions {
  seed: number;
  /** Multiplies every count (1 = the full run). */
  scale: number;
  /** Seconds for the timed load scenarios. */
  seconds: number;
}

export class Timeout extends Error {
  constructor(readonly what: string, readonly ms: number) {
    super(`${what}: no answer within ${ms} ms`);
  }
}

/** Races `promise` against a deadline; rejects with Timeout (the caller counts it as a hang). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout(what, ms)), ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** Resolves after `ms` (pacing the fault injection, never to wait for a result). */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `predicate` every 20 ms up to `ms`; returns whether it came true. */
export async function until(predicate: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (predicate()) return true;
    await pause(20);
  }
  return predicate();
}

/** Whether `pid` runs (a zombie does not). */
export const alive = pidAlive;

/** SIGKILLs `pid`; true if a running process got the signal. */
export function kill(pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    process.kill(pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}

/**
 * Running processes whose environment holds MULTIPROC_CHAOS_TAG=`tag` or a tag under it
 * (`tag/...`), orphans included: children inherit the variable, so this finds a whole tree.
 */
export function taggedProcesses(tag: string): number[] {
  const exact = `MULTIPROC_CHAOS_TAG=${tag}\0`;
  const under = `MULTIPROC_CHAOS_TAG=${tag}/`;
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let env: string;
    try {
      env = readFileSync(`/proc/${entry}/environ`, "latin1");
    } catch {
      continue;
    }
    if ((env.includes(exact) || env.includes(under)) && alive(pid)) found.push(pid);
  }
  return found;
}

/** /dev/shm entries whose name starts with `prefix`. */
export function shmWithPrefix(prefix: string): string[] {
  return readdirSync("/dev/shm").filter((n) => n.startsWith(prefix));
}

/** Resident set size of `pid` in KiB (VmRSS), or 0 if it is gone. */
export function rssKiB(pid: number = process.pid): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

/** Counts outcomes by name: `tally.add("hangs")`. */
export class Tally {
  readonly figures: Record<string, number> = {};
  add(name: string, n = 1): void {
    this.figures[name] = (this.figures[name] ?? 0) + n;
  }
  set(name: string, n: number): void {
    this.figures[name] = n;
  }
  max(name: string, n: number): void {
    this.figures[name] = Math.max(this.figures[name] ?? 0, n);
  }
  get(name: string): number {
    return this.figures[name] ?? 0;
  }
}

/** The `code` of an error, or "uncoded <name>" when it has none. */
export function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  return `uncoded ${(err as Error | null)?.name ?? typeof err}: ${(err as Error | null)?.message ?? String(err)}`;
}

/** A running victim program (chaos/fixtures/victim.ts). */
export interface Victim {
  readonly pid: number;
  /** SIGKILLs it and resolves when it is gone (true if the kill ended it, false if it had ended). */
  kill(): Promise<boolean>;
  /** Resolves with its exit code or signal name when it ends on its own or is killed. */
  readonly exited: Promise<string>;
}

const victimJs = fileURLToPath(new URL("./fixtures/victim.js", import.meta.url));

/** Starts chaos/fixtures/victim.js with `args` (revived there with loads). */
export function startVictim(args: unknown[]): Victim {
  const child = spawn(process.execPath, [victimJs, dumps(args).toString("hex")], { stdio: ["ignore", "inherit", "inherit"] });
  const exited = new Promise<string>((resolve) => child.on("exit", (code, signal) => resolve(signal ?? `code ${code}`)));
  return {
    pid: child.pid ?? 0,
    exited,
    kill: async () => {
      const wasRunning = child.exitCode === null && child.signalCode === null;
      child.kill("SIGKILL");
      await exited;
      return wasRunning;
    },
  };
}
