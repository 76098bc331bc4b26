// Loads the native addon and types its surface. node-gyp-build finds it: a source build in
// build/Release if the install made one, else the prebuilt binary for this Node's ABI in
// prebuilds/linux-<arch>/ (scripts/prebuild.mjs). Without it, the thread context still works on
// plain SharedArrayBuffers and V8's Atomics; everything that needs memory or wake-ups shared
// between processes throws (or rejects with) a coded error.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { ErrorCodes, ProcessError } from "../errors.js";
import { platformError } from "./platform.js";

export type NativeWaitCode = 0 | 1 | 2 | 3; // ok, not-equal, timed-out, cancelled

export interface NativeBinding {
  shmCreate(name: string, size: number): SharedArrayBuffer;
  shmAttach(name: string): SharedArrayBuffer;
  shmUnlink(name: string): void;
  pipe(): [number, number];
  setParentDeathSignal(signal: number): number;
  setCloexec(fd: number): void;
  futexWait(array: Int32Array, index: number, expected: number, timeoutMs: number): NativeWaitCode;
  futexWake(array: Int32Array, index: number, count: number): number;
  futexWaitAsync(
    array: Int32Array,
    index: number,
    expected: number,
    timeoutMs: number,
    id: number,
    ref: boolean,
  ): NativeWaitCode | Promise<NativeWaitCode>;
  cancelWait(id: number): boolean;
  registerThread(threadId: number): void;
  threadAlive(threadId: number): boolean;
  gettid(): number;
  schedYield(): void;
}

interface Loaded {
  binding: NativeBinding | null;
  /** Why binding is null, as the error for a feature that needed it. */
  error: ((feature: string) => ProcessError) | undefined;
}

// One load per thread, shared by every copy of this module in it: a symlinked install (npm link,
// workspaces) can load the package twice in one thread (issue #22), and each copy initialising
// the addon again would start a second set of waiter threads for nothing. Keyed by a registered
// symbol, so copies at different paths find the same slot.
const SLOT = Symbol.for("multiproc.native.v1");
type Slots = { [SLOT]?: Loaded };

const packageRoot = fileURLToPath(new URL("../../", import.meta.url));

function load(): Loaded {
  if (platformError("") !== undefined) return { binding: null, error: (feature) => platformError(feature)! };
  if (process.env.MULTIPROC_NO_NATIVE === "1") return unavailable("it is disabled by MULTIPROC_NO_NATIVE=1", undefined);
  const require = createRequire(import.meta.url);
  try {
    const find = require("node-gyp-build") as (dir: string) => NativeBinding;
    return { binding: find(packageRoot), error: undefined };
  } catch (err) {
    // node-gyp-build takes build/Release first and stops there if it fails to load: a source build
    // made for another Node (after switching Node versions) would hide the prebuild for this one.
    // The name is scripts/nodes.mjs's prebuildPath.
    try {
      const prebuild = `${packageRoot}prebuilds/linux-${process.arch}/node.abi${process.versions.modules}.glibc.node`;
      return { binding: require(prebuild) as NativeBinding, error: undefined };
    } catch {
      const reason = err instanceof Error ? err.message.trim().replace(/\s+/g, " ") : String(err);
      return unavailable(`it could not be loaded (${reason})`, err);
    }
  }
}

function unavailable(why: string, cause: unknown): Loaded {
  const error = (feature: string) =>
    new ProcessError(
      `${feature} needs multiproc's native addon, and ${why}. The package ships prebuilt addons for ` +
        `Node 20-26 on linux-x64 and linux-arm64 (glibc); elsewhere, build one with ` +
        `'npm rebuild multiproc' (needs g++, make and python3). Only the "thread" context works without it.`,
      cause === undefined ? { code: ErrorCodes.NATIVE_UNAVAILABLE } : { code: ErrorCodes.NATIVE_UNAVAILABLE, cause },
    );
  return { binding: null, error };
}

function loaded(): Loaded {
  const slots = globalThis as Slots;
  return (slots[SLOT] ??= load());
}

/** The addon, or null when it is missing, disabled with MULTIPROC_NO_NATIVE=1, or this is not Linux. */
export function native(): NativeBinding | null {
  return loaded().binding;
}

/**
 * Why `feature` cannot run in another process here (no addon, or not Linux), as the coded error
 * to throw or reject with; undefined when it can.
 */
export function nativeError(feature: string): ProcessError | undefined {
  const { binding, error } = loaded();
  return binding === null ? error?.(feature) : undefined;
}

/** The addon, or a coded error that says what needed it and how to get it. */
export function requireNative(feature: string): NativeBinding {
  const binding = native();
  if (binding !== null) return binding;
  throw nativeError(feature)!;
}
