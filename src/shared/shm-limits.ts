// What runs out when shared memory cannot be had, said in the error (issue 21, point 4):
//   /dev/shm space     posix_fallocate (or a write) fails with ENOSPC / EFBIG: ERR_SHM_NO_SPACE
//   segments           tmpfs inodes (shm_open: ENOSPC) or file descriptors (EMFILE / ENFILE):
//                      ERR_SHM_NO_SEGMENTS
//   mappings           mmap fails with ENOMEM: the process reached vm.max_map_count:
//                      ERR_SHM_NO_MAPPINGS
// and a guard that refuses a new mapping while the process is close to vm.max_map_count. Without
// it a program that maps segments until mmap fails leaves V8 itself unable to map its heap, and
// V8 then aborts the whole process (SIGABRT, seen on main with 65,000 Values); refusing early
// leaves V8 its headroom and gives the caller a coded error to handle.
import { readFileSync, statfsSync } from "node:fs";
import { ErrorCodes, SharedMemoryError, type ProcessError } from "../errors.js";

/** Mappings left to V8, libuv and libraries: we refuse a new segment mapping within this many of the limit. */
const HEADROOM = 4096;
const ENOSPC = 28;
const EFBIG = 27;
const ENOMEM = 12;
const EMFILE = 24;
const ENFILE = 23;

function readNumber(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, "utf8").trim());
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

let maxMapCount: number | undefined | null = null;

// MULTIPROC_MAX_MAP_COUNT lowers the limit for one program (the tests use it: reaching the real
// limit would take the machine's memory).
function mapLimit(): number | undefined {
  if (maxMapCount === null) {
    const forced = Number(process.env.MULTIPROC_MAX_MAP_COUNT);
    maxMapCount = Number.isSafeInteger(forced) && forced > 0 ? forced : readNumber("/proc/sys/vm/max_map_count");
  }
  return maxMapCount;
}

/** Mappings of this process now (lines of /proc/self/maps), or undefined if it cannot be read. */
export function mappingCount(): number | undefined {
  try {
    const text = readFileSync("/proc/self/maps", "latin1");
    let n = 0;
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
    return n;
  } catch {
    return undefined;
  }
}

// Mappings made through segment.ts since the last look at /proc/self/maps: reading it costs about
// a millisecond with tens of thousands of mappings, so it is read only every CHECK_EVERY new ones,
// and only once the count seen is past half the limit.
const CHECK_EVERY = 64;
let sinceCheck = 0;
let lastSeen = 0;

function noMappings(limit: number, seen: number, what: string): SharedMemoryError {
  return new SharedMemoryError(
    `cannot map ${what}: this process has ${seen} memory mappings and the system allows ${limit} (vm.max_map_count); ` +
      "close segments you no longer need, or raise the limit (sysctl -w vm.max_map_count=262144)",
    { code: ErrorCodes.SHM_NO_MAPPINGS },
  );
}

/** Throws ERR_SHM_NO_MAPPINGS instead of making a mapping that would leave V8 too few. */
export function checkMappings(what: string): void {
  const limit = mapLimit();
  if (limit === undefined) return;
  if (++sinceCheck < CHECK_EVERY && lastSeen + sinceCheck < limit / 2) return;
  sinceCheck = 0;
  const seen = mappingCount();
  if (seen === undefined) return;
  lastSeen = seen;
  if (seen + HEADROOM >= limit) throw noMappings(limit, seen, what);
}

/**
 * The error for a failed create or attach of `name` (`size` bytes when known): the native code
 * says which call failed with which errno; this says which resource ran out and what to change.
 */
export function explainShmFailure(err: ProcessError, name: string, size?: number): ProcessError {
  const e = err as ProcessError & { errno?: unknown; syscall?: unknown };
  const errno = typeof e.errno === "number" ? e.errno : undefined;
  const syscall = typeof e.syscall === "string" ? e.syscall : "";
  const bytes = size === undefined ? "" : `${size} bytes of `;
  if (syscall === "mmap" && errno === ENOMEM) {
    const limit = mapLimit();
    return limit === undefined
      ? new SharedMemoryError(`cannot map ${bytes}shared memory '${name}': out of address space or mappings (mmap: ENOMEM)`, { code: ErrorCodes.SHM_NO_MAPPINGS, cause: err })
      : noMappings(limit, mappingCount() ?? limit, `${bytes}shared memory '${name}'`);
  }
  if (errno === EMFILE || errno === ENFILE) {
    return new SharedMemoryError(
      `cannot open shared memory '${name}': too many open files (${errno === EMFILE ? "this process's limit, ulimit -n" : "the system's, fs.file-max"}); close unused files or raise the limit`,
      { code: ErrorCodes.SHM_NO_SEGMENTS, cause: err },
    );
  }
  if (syscall === "shm_open" && errno === ENOSPC) {
    return new SharedMemoryError(
      `cannot create shared memory '${name}': /dev/shm has no free inodes (too many segments); unlink segments you no longer need, or remount /dev/shm with more (mount -o remount,nr_inodes=...)`,
      { code: ErrorCodes.SHM_NO_SEGMENTS, cause: err },
    );
  }
  if (errno === ENOSPC || errno === EFBIG) {
    const free = freeShmBytes();
    return new SharedMemoryError(
      `cannot allocate ${bytes}shared memory for '${name}': /dev/shm is full${free === undefined ? "" : ` (${free} bytes free)`}; ` +
        "unlink segments you no longer need, or make /dev/shm larger (mount -o remount,size=... /dev/shm, or docker run --shm-size)",
      { code: ErrorCodes.SHM_NO_SPACE, cause: err },
    );
  }
  return err;
}

function freeShmBytes(): number | undefined {
  try {
    const st = statfsSync("/dev/shm");
    return st.bavail * st.bsize;
  } catch {
    return undefined;
  }
}
