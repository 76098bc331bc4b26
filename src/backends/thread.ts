// The "thread" start method: a worker_threads Worker per child (Python's multiprocessing.dummy,
// but truly parallel). The payload travels by structured clone, so shared buffers are shared, not
// copied. terminate()/kill() both stop the thread; exit codes follow the process rules (-15, -9).
// Workers are launched ahead of time when possible (spares.ts): a Worker waits for two messages,
// its init (posted synchronously at start(), so an unclonable argument throws there) and then its
// target once resolved.
import { setFlagsFromString } from "node:v8";
import { Worker } from "node:worker_threads";
import { ensureTracker, TRACKER_FD_ENV, trackerEnvValue } from "../shared/tracker.js";
import { toThread, unsendable } from "../transport/serialize.js";
import type { TargetDescriptor } from "../target.js";
import type { Backend, ChildHandle, ChildInit, HeapLimits, LaunchOptions } from "./backend.js";
import { invalidFlags, threadExecArgv } from "./exec-argv.js";
import { tsxApiFor } from "./thread-loaders.js";
import { envChanges, follow, SparePool, type Spare } from "./spares.js";

const entry = new URL("./entry/thread.js", import.meta.url);
let execArgv = threadExecArgv();
const tsxApi = tsxApiFor();

/** A Worker with the parent's flags minus its program and run mode (exec-argv.ts). */
function newWorker(env: NodeJS.ProcessEnv, resourceLimits: HeapLimits | undefined): Worker {
  const limits = resourceLimits === undefined ? {} : { resourceLimits };
  try {
    return new Worker(entry, { env, execArgv, ...limits });
  } catch (err) {
    const invalid = invalidFlags(err);
    if (invalid === undefined || execArgv === undefined) throw err;
    execArgv = threadExecArgv(invalid);
    return new Worker(entry, { env, execArgv, ...limits });
  }
}

/** The first message a thread child receives. */
export interface ThreadInit {
  init: unknown;
  found: boolean;
  types: string[];
  env: Record<string, string | null> | undefined;
  /** tsx's registration API, when the worker must register the parent's tsx loader itself (thread-loaders.ts). */
  tsxApi: string | undefined;
}

interface Launched extends Spare {
  worker: Worker;
  exited: Promise<number>;
  env: NodeJS.ProcessEnv;
  forced: { code: number | undefined };
}

/**
 * V8's heap flags are the process's: a parent run with --max-old-space-size (or
 * --max-semi-space-size) imposes it on every isolate it creates later, over a Worker's own
 * resourceLimits. Clearing them (0 = unset) before such a Worker starts leaves the parent's heap as
 * it is (configured at its start) and lets the Worker's limits apply (issue 16). Workers started
 * afterwards without resourceLimits then get Node's defaults rather than the parent's flag.
 */
function clearHeapFlags(limits: HeapLimits): void {
  if (limits.maxOldGenerationSizeMb !== undefined) setFlagsFromString("--max-old-space-size=0");
  if (limits.maxYoungGenerationSizeMb !== undefined) setFlagsFromString("--max-semi-space-size=0");
}

function launch(resourceLimits?: HeapLimits): Launched {
  const trackerFd = ensureTracker();
  const parentEnv = { ...process.env };
  const env: NodeJS.ProcessEnv = { ...parentEnv };
  if (trackerFd !== undefined) env[TRACKER_FD_ENV] = trackerEnvValue(trackerFd);
  if (resourceLimits !== undefined) clearHeapFlags(resourceLimits);
  const worker = newWorker(env, resourceLimits);
  const forced: { code: number | undefined } = { code: undefined };
  let done = false;
  const exited = new Promise<number>((resolve) => {
    worker.once("exit", (code) => {
      done = true;
      resolve(forced.code ?? code);
    });
    // Errors are printed by the entry itself; this only keeps 'error' from becoming uncaught.
    worker.on("error", () => undefined);
  });
  return { worker, exited, env: parentEnv, forced, usable: () => !done, discard: () => void worker.terminate(), progress: follow(worker, exited) };
}

const spares = new SparePool<Launched>(() => {
  const spare = launch();
  spare.worker.unref();
  return spare;
});

export const threadBackend: Backend = {
  method: "thread",
  start(init: ChildInit, target: Promise<TargetDescriptor>, options?: LaunchOptions): ChildHandle {
    const { value, found, types } = toThread(init);
    const limits = options?.resourceLimits;
    // A spare has the default limits: a worker with its own starts afresh.
    const launched = limits !== undefined ? launch(limits) : (spares.take() ?? launch());
    const { worker, exited, forced } = launched;
    const message: ThreadInit = { init: value, found, types, env: envChanges(launched.env, [TRACKER_FD_ENV]), tsxApi };
    try {
      worker.postMessage(message);
    } catch (err) {
      launched.discard();
      if ((err as Error).name === "DataCloneError") throw unsendable(err);
      throw err;
    }
    worker.ref();
    spares.started(launched);
    void target.then(
      (descriptor) => worker.postMessage(descriptor),
      () => void worker.terminate(),
    );
    const stop = (code: number) => {
      forced.code ??= code;
      void worker.terminate();
    };
    return {
      pid: process.pid,
      threadId: worker.threadId,
      exited,
      terminate: () => stop(-15),
      kill: () => stop(-9),
      setRef: (ref) => (ref ? worker.ref() : worker.unref()),
    };
  },
};
