// The "process" start method: a fresh Node process per child (Python's spawn). The child runs with
// the parent's execArgv minus its program and run mode (exec-argv.ts), so loaders such as tsx
// apply there too; it receives its payload over the
// IPC channel and holds the resource tracker's pipe on fd 4. Children are launched ahead of time
// when possible (spares.ts).
import { spawn, type ChildProcess } from "node:child_process";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";
import { ensureTracker, TRACKER_FD_ENV, trackerEnvValue } from "../shared/tracker.js";
import { dumps } from "../transport/serialize.js";
import type { TargetDescriptor } from "../target.js";
import type { Backend, ChildHandle, ChildInit, HeapLimits, LaunchOptions } from "./backend.js";
import { childExecArgv } from "./exec-argv.js";
import { envChanges, follow, SparePool, type Spare } from "./spares.js";

/** The one message a process child receives: its target and init, and the parent's env and cwd. */
export interface StartMessage {
  target: TargetDescriptor;
  /** The ChildInit, serialised by dumps() at start() so that bad arguments fail there. */
  init: Uint8Array;
  env: Record<string, string | null> | undefined;
  cwd: string;
}

const entry = fileURLToPath(new URL("./entry/process.js", import.meta.url));
export const PARENT_PID_ENV = "MULTIPROC_PARENT_PID";
const TRACKER_SLOT = 4;
const execArgv = childExecArgv();
const OWN_KEYS = [PARENT_PID_ENV, TRACKER_FD_ENV];

/** Python's exitcode: the code, or minus the signal number that killed the child. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal !== null) return -(constants.signals[signal] ?? 1);
  return code ?? 1;
}

interface Launched extends Spare {
  child: ChildProcess;
  exited: Promise<number>;
  env: NodeJS.ProcessEnv;
  setRef: (ref: boolean) => void;
}

/**
 * worker_threads' resourceLimits as V8 flags for a child process, placed after the parent's
 * execArgv so that they win over a --max-old-space-size the parent runs with (issue 16). V8's young
 * generation is three semi-spaces; codeRangeSizeMb has no flag and is not applied to processes.
 */
export function heapFlags(limits: HeapLimits | undefined): string[] {
  if (limits === undefined) return [];
  const flags: string[] = [];
  if (limits.maxOldGenerationSizeMb !== undefined) flags.push(`--max-old-space-size=${Math.max(1, Math.round(limits.maxOldGenerationSizeMb))}`);
  if (limits.maxYoungGenerationSizeMb !== undefined) flags.push(`--max-semi-space-size=${Math.max(1, Math.round(limits.maxYoungGenerationSizeMb / 3))}`);
  if (limits.stackSizeMb !== undefined) flags.push(`--stack-size=${Math.max(1, Math.round(limits.stackSizeMb * 1024))}`);
  return flags;
}

function launch(extraArgv: string[] = []): Launched {
  const trackerFd = ensureTracker();
  const stdio: (string | number)[] = ["ignore", "inherit", "inherit", "ipc"];
  const parentEnv = { ...process.env };
  const env: NodeJS.ProcessEnv = { ...parentEnv, [PARENT_PID_ENV]: String(process.pid) };
  if (trackerFd !== undefined) {
    stdio[TRACKER_SLOT] = trackerFd;
    env[TRACKER_FD_ENV] = trackerEnvValue(TRACKER_SLOT);
  } else {
    delete env[TRACKER_FD_ENV];
  }
  const child = spawn(process.execPath, [...execArgv, ...extraArgv, entry], {
    stdio: stdio as ("ignore" | "inherit" | "ipc" | number)[],
    env,
    serialization: "advanced",
  });
  let done = false;
  const exited = new Promise<number>((resolve) => {
    child.once("exit", (code, signal) => {
      done = true;
      resolve(exitCodeOf(code, signal));
    });
    // A spawn that fails (EAGAIN, ENOMEM) reports through 'error' and never exits.
    child.once("error", () => {
      if (child.pid === undefined) {
        done = true;
        resolve(1);
      }
    });
  });
  const setRef = (ref: boolean) => {
    const channel = child.channel as { ref(): void; unref(): void } | null | undefined;
    if (ref) {
      child.ref();
      channel?.ref();
    } else {
      child.unref();
      channel?.unref();
    }
  };
  return {
    child,
    exited,
    env: parentEnv,
    setRef,
    usable: () => !done && child.connected,
    discard: () => void child.kill("SIGKILL"),
    progress: follow(child, exited),
  };
}

const spares = new SparePool<Launched>(() => {
  const spare = launch();
  spare.setRef(false);
  return spare;
});

export const processBackend: Backend = {
  method: "process",
  start(init: ChildInit, target: Promise<TargetDescriptor>, options?: LaunchOptions): ChildHandle {
    // Serialise first: an unsendable argument must fail before a process is used.
    const body = dumps(init);
    const flags = heapFlags(options?.resourceLimits);
    // A spare runs with the parent's flags: a child with its own limits starts afresh.
    const launched = flags.length > 0 ? launch(flags) : (spares.take() ?? launch());
    const { child, exited } = launched;
    launched.setRef(true);
    spares.started(launched);
    const env = envChanges(launched.env, OWN_KEYS);
    const cwd = process.cwd();
    void target.then(
      (descriptor) => {
        const message: StartMessage = { target: descriptor, init: body, env, cwd };
        // A child that died before reading its payload reports through 'exit'.
        if (child.connected) child.send(message, () => undefined);
      },
      () => child.kill("SIGKILL"),
    );
    return {
      pid: child.pid ?? -1,
      threadId: 0,
      exited,
      terminate: () => void child.kill("SIGTERM"),
      kill: () => void child.kill("SIGKILL"),
      setRef: launched.setRef,
    };
  },
};
