// Where the "process" context can run. It needs Linux for now: the addon is built on futexes
// (futex(2), futex_waitv(2)), POSIX shared memory and prctl(PR_SET_PDEATHSIG), so on macOS and
// Windows the package installs without it, the "thread" context works, and everything that starts
// or talks to another process reports ERR_PLATFORM_UNSUPPORTED (issue #22).
//
// The check is one function behind a seam, so a test can ask "what would darwin do?" in a child
// program of its own without lying about process.platform to everything else in that program.
import { ErrorCodes, ProcessError } from "../errors.js";

let platformOf: () => NodeJS.Platform = () => process.platform;

/** Makes this program behave as if it ran on `platform` (tests only; call before the first use of the package). */
export function simulatePlatform(platform: NodeJS.Platform): void {
  platformOf = () => platform;
}

/** ERR_PLATFORM_UNSUPPORTED for `feature` (what the caller tried) off Linux; undefined on Linux. */
export function platformError(feature: string): ProcessError | undefined {
  const platform = platformOf();
  if (platform === "linux") return undefined;
  return new ProcessError(
    `${feature}: the "process" context needs Linux for now (this is ${platform}); ` +
      `use the "thread" context here (getContext("thread")), or run on Linux.`,
    { code: ErrorCodes.PLATFORM_UNSUPPORTED },
  );
}
