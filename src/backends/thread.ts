// The "thread" start method: a worker_threads Worker per child (Python's multiprocessing.dummy,
// but truly parallel). The payload travels by structured clone, so shared buffers are shared, not
// copied. terminate()/kill() both stop the thread; exit codes follow the process rules (-15, -9).
import { Worker } from "node:worker_threads";
import { ensureTracker, TRACKER_FD_ENV, trackerEnvValue } from "../shared/tracker.js";
import { toThread, unsendable } from "../transport/serialize.js";
import type { TargetDescriptor } from "../target.js";
import type { Backend, ChildHandle, ChildInit } from "./backend.js";

const entry = new URL("./entry/thread.js", import.meta.url);

export const threadBackend: Backend = {
  method: "thread",
  start(init: ChildInit, target: Promise<TargetDescriptor>): ChildHandle {
    const { value, found, types } = toThread(init);
    const trackerFd = ensureTracker();
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (trackerFd !== undefined) env[TRACKER_FD_ENV] = trackerEnvValue(trackerFd);
    let worker: Worker;
    try {
      worker = new Worker(entry, { workerData: { init: value, found, types }, env });
    } catch (err) {
      if ((err as Error).name === "DataCloneError") throw unsendable(err);
      throw err;
    }
    let forced: number | undefined;
    const exited = new Promise<number>((resolve) => {
      worker.once("exit", (code) => resolve(forced ?? code));
      // Errors are printed by the entry itself; this only keeps 'error' from becoming uncaught.
      worker.on("error", () => undefined);
    });
    void target.then(
      (descriptor) => worker.postMessage(descriptor),
      () => void worker.terminate(),
    );
    const stop = (code: number) => {
      forced ??= code;
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
