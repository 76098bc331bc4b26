// Entry of a "process" child. Order matters: first make sure we die with our parent (no orphans),
// then wait for the payload on the IPC channel, then run.
import { native } from "../../native/binding.js";
import { TRACKER_FD_ENV } from "../../shared/tracker.js";
import { loadsAsync } from "../../transport/serialize.js";
import type { ChildInit, ChildMessage } from "../backend.js";
import { PARENT_PID_ENV, type StartMessage } from "../child-process.js";
import { applyEnvChanges } from "../spares.js";
import { runChild } from "./run.js";

const binding = native();
const parentPid = Number(process.env[PARENT_PID_ENV]);
if (binding !== null) {
  // SIGKILL when the parent dies; if it died before the request took effect, go now.
  const ppid = binding.setParentDeathSignal(9);
  if (ppid !== parentPid) process.exit(1);
  const trackerFd = Number(process.env[TRACKER_FD_ENV]?.split(":")[0]);
  if (Number.isInteger(trackerFd) && trackerFd > 2) binding.setCloexec(trackerFd);
} else {
  // Without the addon, poll the parent instead.
  setInterval(() => {
    if (process.ppid !== parentPid) process.exit(1);
  }, 200).unref();
}

/** A ChildMessage to the parent; one that cannot go (the parent is gone) is dropped. */
function tell(message: ChildMessage): void {
  process.send?.(message, undefined, undefined, () => undefined);
}

process.once("message", (message: StartMessage) => {
  process.channel?.unref();
  // A spare was launched earlier: catch up with the parent's environment and directory.
  applyEnvChanges(message.env);
  if (process.cwd() !== message.cwd) process.chdir(message.cwd);
  loadsAsync(message.init)
    .then((init) => runChild({ ...(init as ChildInit), target: message.target }, () => {
      tell({ kind: "running" });
    }))
    .then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`multiproc: child bootstrap failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
});
tell({ kind: "ready" });
