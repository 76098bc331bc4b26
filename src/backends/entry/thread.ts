// Entry of a "thread" child (a worker_threads Worker).
import { workerData } from "node:worker_threads";
import { fromThread } from "../../transport/serialize.js";
import type { StartPayload } from "../backend.js";
import { runChild } from "./run.js";

const data = workerData as { payload: unknown; found: boolean };
const payload = fromThread(data.payload, data.found) as StartPayload;
runChild(payload).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`multiproc: thread bootstrap failed: ${String(err)}\n`);
    process.exit(1);
  },
);
