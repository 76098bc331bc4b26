// Loads the native addon (built by `npm install` through node-gyp) and types its surface.
// Without it, the thread context still works on plain SharedArrayBuffers and V8's Atomics;
// everything that needs memory or wake-ups shared between processes throws a coded error.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { ErrorCodes, ProcessError } from "../errors.js";

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

const packageRoot = fileURLToPath(new URL("../../", import.meta.url));
let loaded: NativeBinding | null | undefined;
let loadError: unknown;

/** The addon, or null when it is missing or disabled with MULTIPROC_NO_NATIVE=1. */
export function native(): NativeBinding | null {
  if (loaded !== undefined) return loaded;
  if (process.env.MULTIPROC_NO_NATIVE === "1") {
    loadError = new Error("disabled by MULTIPROC_NO_NATIVE=1");
    return (loaded = null);
  }
  try {
    const require = createRequire(import.meta.url);
    const load = require("node-gyp-build") as (dir: string) => NativeBinding;
    loaded = load(packageRoot);
  } catch (err) {
    loadError = err;
    loaded = null;
  }
  return loaded;
}

/** The addon, or a coded error that says what needed it and how to get it. */
export function requireNative(feature: string): NativeBinding {
  const binding = native();
  if (binding !== null) return binding;
  const reason = loadError instanceof Error ? loadError.message : String(loadError);
  throw new ProcessError(
    `${feature} needs multiproc's native addon, which could not be loaded (${reason}). ` +
      `Rebuild it with 'npm rebuild multiproc' (needs g++ and Node's headers); ` +
      `only the "thread" context works without it.`,
    { code: ErrorCodes.NATIVE_UNAVAILABLE, cause: loadError },
  );
}
