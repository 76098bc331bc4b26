// Child-side bootstrap shared by both start methods: become the child, find the target, run it,
// and turn the outcome into an exit code the way CPython does (0, 1 with the error printed on
// stderr, or whatever process.exit() said).
// Handles of every type revive on arrival (transport/handle-modules.ts): nothing else to import,
// so a child loads only what its target uses (issue #15.3).
import { syncLoading } from "../../lazy.js";
import { joinChildren } from "../../process.js";
import { runChildExitHooks, setBootstrapping, setIdentity } from "../../runtime.js";
import { setStartMethod } from "../registry.js";
import { reviveTarget } from "../../target-revive.js";
import type { StartPayload } from "../backend.js";

function report(name: string, err: unknown): void {
  const text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  let cause = err instanceof Error ? err.cause : undefined;
  let detail = "";
  while (cause !== undefined && cause !== null) {
    detail += `\nCaused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : JSON.stringify(cause)}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  process.stderr.write(`Process ${name}:\n${text}${detail}\n`);
}

/** Runs the payload's target; resolves with the exit code. `running` is called just before it runs. */
export async function runChild(payload: StartPayload, running: () => void): Promise<number> {
  // Without require(esm), handles revive only from modules loaded beforehand: load them all.
  if (!syncLoading) await import("../../index.js");
  setIdentity(payload.identity);
  // As CPython's spawn children, a child's default start method is the one that started it, so
  // getStartMethod() in a thread child answers "thread" (issue #14).
  if (payload.identity.kind !== "main") setStartMethod(payload.identity.kind, { force: true });
  setBootstrapping(true);
  let target;
  try {
    target = await reviveTarget(payload.target);
  } catch (err) {
    report(payload.identity.name, err);
    return 1;
  } finally {
    setBootstrapping(false);
  }
  running();
  let code = 0;
  try {
    await target(...payload.args);
  } catch (err) {
    report(payload.identity.name, err);
    code = 1;
  }
  // Like CPython, a child waits for its own non-daemon children before it exits.
  await joinChildren();
  await runChildExitHooks();
  return code;
}
