// Entry of a "thread" child (a worker_threads Worker): its init arrives as the first message, its
// target as the second (see backends/thread.ts).
import { parentPort } from "node:worker_threads";
import type { TargetDescriptor } from "../../target.js";
import { fromThread } from "../../transport/serialize.js";
import type { ChildInit, ChildMessage } from "../backend.js";
import { applyEnvChanges } from "../spares.js";
import type { ThreadInit } from "../thread.js";
import { registerThreadLoaders } from "../thread-loaders.js";
import { runChild } from "./run.js";

const port = parentPort!;
port.postMessage({ kind: "ready" } satisfies ChildMessage);
port.once("message", (first: ThreadInit) => {
  applyEnvChanges(first.env);
  const init = fromThread(first.init, first.found, first.types) as Promise<ChildInit>;
  init.catch(() => undefined); // reported when the target arrives
  // The parent's loaders first (tsx on Node 20), so the init's revived types and the target's
  // module load the way they do in the parent.
  const loaders = registerThreadLoaders(first.tsxApi);
  loaders.catch(() => undefined); // reported when the target arrives
  port.once("message", (target: TargetDescriptor) => {
    loaders
      .then(() => init)
      .then((revived) => runChild({ ...revived, target }, () => port.postMessage({ kind: "running" } satisfies ChildMessage)))
      .then(
        (code) => process.exit(code),
        (err: unknown) => {
          process.stderr.write(`multiproc: thread bootstrap failed: ${String(err)}\n`);
          process.exit(1);
        },
      );
  });
});
