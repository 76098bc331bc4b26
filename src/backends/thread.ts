// The "thread" start method: a worker_threads Worker per child (Python's multiprocessing.dummy,
// but truly parallel). The payload travels by structured clone, so shared buffers are shared, not
// copied. terminate()/kill() both stop the thread; exit codes follow the process rules (-15, -9).
// Workers are launched ahead of time when possible (spares.ts): a Worker waits for two messages,
// its init (posted synchronously at start(), so an unclonable argument throws there) and then its
// target once resolved.
import { Worker } from "node:worker_threads";
import { ensureTracker, TRACKER_FD_ENV, trackerEnvValue } from "../shared/tracker.js";
import { toThread, unsendable } from "../transport/serialize.js";
import type { TargetDescriptor } from "../target.js";
import type { Backend, ChildHandle, ChildInit } from "./backend.js";
import { envChanges, follow, SparePool, type Spare } from "./spares.js";

const entry = new URL("./entry/thread.js", import.meta.url);

/** The first message a thread child receives. */
export interface ThreadInit {
  init: unknown;
  found: boolean;
  types: string[];
  env: Record<string, string | null> | undefined;
}

interface Launched extends Spare {
  worker: Worker;
  exited: Promise<number>;
  env: NodeJS.ProcessEnv;
  forced: { code: number | undefined };
}

function launch(): Launched {
  const trackerFd = ensureTracker();
  const parentEnv = { ...process.env };
  const env: NodeJS.ProcessEnv = { ...parentEnv };
  if (trackerFd !== undefined) env[TRACKER_FD_ENV] = trackerEnvValue(trackerFd);
  const worker = new Worker(entry, { env });
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
  start(init: ChildInit, target: Promise<TargetDescriptor>): ChildHandle {
    const { value, found, types } = toThread(init);
    const launched = spares.take() ?? launch();
    const { worker, exited, forced } = launched;
    const message: ThreadInit = { init: value, found, types, env: envChanges(launched.env, [TRACKER_FD_ENV]) };
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
