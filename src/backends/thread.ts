// The "thread" start method: a worker_threads Worker per child (Python's multiprocessing.dummy,
// but truly parallel). The payload travels by structured clone, so shared buffers are shared, not
// copied. terminate()/kill() both stop the thread; exit codes follow the process rules (-15, -9).
import { Worker } from "node:worker_threads";
import { ensureTracker, TRACKER_FD_ENV } from "../shared/tracker.js";
import { toThread } from "../transport/serialize.js";
import type { Backend, ChildHandle, StartPayload } from "./backend.js";

const entry = new URL("./entry/thread.js", import.meta.url);

export const threadBackend: Backend = {
  method: "thread",
  start(payload: StartPayload): ChildHandle {
    const { value, found } = toThread(payload);
    const trackerFd = ensureTracker();
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (trackerFd !== undefined) env[TRACKER_FD_ENV] = String(trackerFd);
    const worker = new Worker(entry, { workerData: { payload: value, found }, env });
    let forced: number | undefined;
    const exited = new Promise<number>((resolve) => {
      worker.once("exit", (code) => resolve(forced ?? code));
      // Errors are printed by the entry itself; this only keeps 'error' from becoming uncaught.
      worker.on("error", () => undefined);
    });
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
