// Entry of a "thread" child (a worker_threads Worker): its init comes as workerData, its target
// as the first message.
import { parentPort, workerData } from "node:worker_threads";
import type { TargetDescriptor } from "../../target.js";
import { fromThread } from "../../transport/serialize.js";
import type { ChildInit } from "../backend.js";
import { runChild } from "./run.js";

const data = workerData as { init: unknown; found: boolean; types: string[] };
const init = fromThread(data.init, data.found, data.types) as Promise<ChildInit>;
init.catch(() => undefined); // reported when the target arrives
parentPort!.once("message", (target: TargetDescriptor) => {
  init
    .then((revived) => runChild({ ...revived, target }))
    .then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`multiproc: thread bootstrap failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
});
