// Shared helpers for the test suite: the contexts every primitive runs under, and ways to run a
// script as a separate program and look at what it printed.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { StartMethod } from "multiproc";

export const CONTEXTS: StartMethod[] = ["process", "thread"];

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Path of a compiled fixture (out/test/fixtures/NAME.js). */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

export function shmEntries(): Set<string> {
  return new Set(readdirSync("/dev/shm"));
}

/** Whether `pid` is a running process (a zombie, dead but not yet reaped by init, is not). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 3 is the state; the command name before it may contain spaces, so split after ')'.
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node [nodeArgs] script [args]` to completion and collects its output. */
export function runNode(
  script: string,
  options: { args?: string[]; nodeArgs?: string[]; env?: NodeJS.ProcessEnv; timeout?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...(options.args ?? [])], {
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${script} did not finish within ${options.timeout ?? 60000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeout ?? 60000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Polls `predicate` every 20 ms until it holds or `timeout` ms pass; returns whether it held. */
export async function eventually(predicate: () => boolean, timeout = 5000): Promise<boolean> {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return predicate();
}
