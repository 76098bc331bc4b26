// Client side of the resource tracker (the server is backends/entry/tracker.ts).
//
// Like CPython's resource_tracker: one tracker process per program tree reads a pipe whose write
// end every process of the tree holds. Each line registers or forgets a named segment. When the
// last writer is gone (normal exit or SIGKILL alike: the kernel closes the descriptors), the
// tracker reads EOF and unlinks whatever is still registered. Lines are shorter than PIPE_BUF,
// so writes from different processes never interleave, and writeSync means a segment is
// registered before its creator can die.
import { spawn } from "node:child_process";
import { closeSync, fstatSync, writeSync } from "node:fs";
import { setPriority } from "node:os";
import { fileURLToPath } from "node:url";
import { native } from "../native/binding.js";

export const TRACKER_FD_ENV = "MULTIPROC_TRACKER_FD";
const entry = fileURLToPath(new URL("../backends/entry/tracker.js", import.meta.url));

const TRACKER_NICE = 10;
let fd: number | undefined;
/** Set while the tracker's pipe exists and its process is not launched yet. */
let launchTracker: (() => void) | undefined;
let broken = false;

/**
 * The value children get in MULTIPROC_TRACKER_FD: "fd:inode". The inode pins the pipe, because
 * the variable can reach a program that did not inherit the descriptor (any spawn that copies
 * process.env); such a program must start its own tracker, not write into whatever fd N is.
 */
export function trackerEnvValue(childFd: number): string {
  return `${childFd}:${fstatSync(ensureTracker()!).ino}`;
}

function inheritedFd(): number | undefined {
  const match = /^(\d+):(\d+)$/.exec(process.env[TRACKER_FD_ENV] ?? "");
  if (match === null) return undefined;
  const candidate = Number(match[1]);
  try {
    const stat = fstatSync(candidate);
    if (stat.isFIFO() && String(stat.ino) === match[2]) return candidate;
  } catch {
    // Not open here.
  }
  return undefined;
}

/**
 * The write end of the tracker's pipe, starting a tracker if this process has none yet.
 * Undefined without the addon (no named segments exist then).
 */
export function ensureTracker(): number | undefined {
  if (fd !== undefined) return fd;
  const binding = native();
  if (binding === null) return undefined;
  fd = inheritedFd();
  if (fd !== undefined) return fd;
  const [readEnd, writeEnd] = binding.pipe();
  fd = writeEnd;
  // Worker threads (same descriptor table) read this to share the same tracker.
  process.env[TRACKER_FD_ENV] = `${fd}:${fstatSync(fd).ino}`;
  // The tracker is launched on the next turn of the event loop, or before this process registers a
  // segment, or at exit, whichever comes first: so that the child whose start needed the pipe is
  // launched first and the two boot side by side (issue #15.3: the tracker's launch and boot
  // delayed a program's first child). Until then the read end stays open here.
  const launch = () => {
    if (launchTracker === undefined) return;
    launchTracker = undefined;
    // `detached`: the tracker leads a session of its own, so a SIGKILL aimed at the program's
    // process group (a shell's job control, `timeout`, a harness killing a job) cannot take it
    // along; it still ends at EOF, when the last process holding the pipe is gone.
    const child = spawn(process.execPath, [entry], {
      detached: true,
      stdio: [readEnd, "ignore", "inherit"],
      env: { ...process.env, [TRACKER_FD_ENV]: "" },
    });
    child.unref();
    closeSync(readEnd);
    // It only reads lines and waits for EOF: it should never take a core from the program.
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, TRACKER_NICE);
      } catch {
        // Not allowed here: it runs at the program's priority.
      }
    }
  };
  launchTracker = launch;
  setImmediate(launch);
  process.once("exit", launch);
  return fd;
}

function send(op: "REG" | "UNREG", name: string): void {
  const target = ensureTracker();
  if (target === undefined || broken) return;
  launchTracker?.();
  try {
    writeSync(target, JSON.stringify([op, name]) + "\n");
  } catch {
    // The tracker is gone (EPIPE): nothing to tell; the segment will need an explicit unlink.
    broken = true;
  }
}

export function track(name: string): void {
  send("REG", name);
}

export function untrack(name: string): void {
  send("UNREG", name);
}
