// Module loaders in thread children (SPEC "Program lifetime": the thread context works under the
// same loaders as the parent). A Worker inherits the parent's execArgv, so `--import` preloads
// run in it again, but a loader that registers its hooks only in the main thread leaves the worker
// without them: tsx 4 (`npx tsx main.ts` is `node --import tsx/dist/loader.mjs main.ts`) registers
// in worker threads only on Node versions that have `isInternalThread` (>= 22.22.3, 24.11.1,
// 25.1; tsx's dist/temporary-directory-*.mjs), so on Node 20 and older 22/24 a thread child could
// not import a .ts module (issue #14: "Unknown file extension .ts", "cannot import tasks.js").
// There the worker registers tsx itself, through tsx's public API (tsx/esm/api `register()`),
// before it imports anything of the user's.
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** Node versions from which tsx 4 registers itself in worker threads ([major, minor, patch]). */
const TSX_SELF_REGISTERS: readonly (readonly [number, number, number])[] = [
  [22, 22, 3],
  [24, 11, 1],
  [25, 1, 0],
  [26, 0, 0],
];

function versionAtLeast(v: readonly number[], min: readonly number[]): boolean {
  for (let i = 0; i < 3; i++) if ((v[i] ?? 0) !== min[i]) return (v[i] ?? 0) > min[i]!;
  return true;
}

function tsxSelfRegisters(version = process.versions.node): boolean {
  const v = version.split(".").map(Number);
  // A range starts at its entry and runs to the next major listed (26 and later: all of them).
  return TSX_SELF_REGISTERS.some((min, i) => {
    const next = TSX_SELF_REGISTERS[i + 1];
    return v[0] === min[0] ? versionAtLeast(v, min) : v[0]! > min[0] && (next === undefined || v[0]! < next[0]);
  });
}

/**
 * The URL of tsx's registration API when the parent runs under tsx's loader and a worker thread
 * will not register it by itself, else undefined. Computed in the parent, sent with the init.
 */
export function tsxApiFor(execArgv: readonly string[] = process.execArgv, version = process.versions.node): string | undefined {
  if (tsxSelfRegisters(version)) return undefined;
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    const value = arg.startsWith("--import=") ? arg.slice("--import=".length) : arg === "--import" ? execArgv[i + 1] : undefined;
    if (value === undefined) continue;
    // tsx's CLI passes the file URL of its dist/loader.mjs; `node --import tsx` the bare name.
    const loader = /^(file:\/\/.*\/tsx)\/dist\/loader\.mjs$/.exec(value);
    if (loader !== null) return `${loader[1]}/dist/esm/api/index.mjs`;
    if (value === "tsx" || value === "tsx/esm") {
      try {
        return pathToFileURL(createRequire(join(process.cwd(), "noop.js")).resolve("tsx/esm/api")).href;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** In a thread child: registers tsx's hooks (see above) before the user's modules load. */
export async function registerThreadLoaders(tsxApi: string | undefined): Promise<void> {
  if (tsxApi === undefined) return;
  const api = (await import(tsxApi)) as { register?: () => unknown };
  api.register?.();
}
