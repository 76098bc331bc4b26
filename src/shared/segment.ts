// Named shared-memory segments, the one memory every primitive is built on.
// With the addon a segment is a POSIX shm object (/dev/shm/NAME) mapped as a SharedArrayBuffer,
// so any process may attach to it by name. Without the addon (thread context only) it is a plain
// SharedArrayBuffer that travels to worker threads by reference.
import { randomBytes } from "node:crypto";
import { closeSync, constants as fsConstants, openSync, unlinkSync, writeSync } from "node:fs";
import { ArgumentError, ErrorCodes, fromNative, SharedMemoryError } from "../errors.js";
import { native, requireNative } from "../native/binding.js";
import { describe } from "../validate.js";
import { checkMappings, explainShmFailure } from "./shm-limits.js";
import { track, untrack } from "./tracker.js";

export interface Segment {
  /** The POSIX name, with its leading slash. */
  readonly name: string;
  readonly size: number;
  readonly buffer: SharedArrayBuffer;
  /** True when this is a process-local SharedArrayBuffer (no addon): it cannot cross processes. */
  readonly local: boolean;
}

/** What a segment reduces to when it is sent to another process or thread. */
export interface SegmentHandle {
  name: string;
  size: number;
  /** Only on thread transports (postMessage shares it); required when the addon is missing. */
  buffer?: SharedArrayBuffer;
}

// Process-local segments made without the addon, so that a name can still be attached to.
const localSegments = new Map<string, SharedArrayBuffer>();

// Every named segment this thread has created or attached and not unlinked, by its buffer: a
// typed array over one of them can travel to another process as a name instead of a copy
// (transport/binary.ts). byName finds the live mapping of a name, so one segment is mapped once.
const bySegmentBuffer = new WeakMap<SharedArrayBuffer, Segment>();
const byName = new Map<string, WeakRef<SharedArrayBuffer>>();
const forgetName = new FinalizationRegistry<string>((name) => {
  if (byName.get(name)?.deref() === undefined) byName.delete(name);
});

function remember(segment: Segment): Segment {
  bySegmentBuffer.set(segment.buffer, segment);
  byName.set(segment.name, new WeakRef(segment.buffer));
  forgetName.register(segment.buffer, segment.name);
  return segment;
}

// Buffers of segments whose name is gone: still multiproc's memory, but only copies can travel.
const unnamed = new WeakSet<SharedArrayBuffer>();

function forget(name: string): void {
  const buffer = byName.get(name)?.deref();
  if (buffer !== undefined) {
    bySegmentBuffer.delete(buffer);
    unnamed.add(buffer);
  }
  byName.delete(name);
}

/** True for the buffer of a segment multiproc made or attached whose name was unlinked since. */
export function isUnnamedSegment(buffer: ArrayBufferLike): boolean {
  return buffer instanceof SharedArrayBuffer && unnamed.has(buffer);
}

/** The segment a SharedArrayBuffer maps, when multiproc made or attached it here. */
export function segmentOf(buffer: ArrayBufferLike): Segment | undefined {
  return buffer instanceof SharedArrayBuffer ? bySegmentBuffer.get(buffer) : undefined;
}

/** Like attachSegment, but reuses this thread's live mapping of the same name. */
export function attachShared(name: string): Segment {
  const full = normalizeName(name);
  const buffer = byName.get(full)?.deref();
  const known = buffer === undefined ? undefined : bySegmentBuffer.get(buffer);
  return known ?? attachSegment(full);
}

const MAX_NAME = 255;

/** Checks a user-given name and returns it with exactly one leading slash, like CPython. */
export function normalizeName(name: unknown): string {
  if (typeof name !== "string") {
    throw new ArgumentError(`name must be a string, got ${describe(name)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  const bare = name.startsWith("/") ? name.slice(1) : name;
  if (bare.length === 0 || bare.length > MAX_NAME - 1 || bare.includes("/") || bare.includes("\0")) {
    throw new ArgumentError(
      `name must be 1 to ${MAX_NAME - 1} characters with no '/' or NUL inside (a leading '/' is allowed), got ${JSON.stringify(name)}`,
      ErrorCodes.INVALID_ARG_VALUE,
    );
  }
  return "/" + bare;
}

export function checkSize(size: unknown, what = "size"): number {
  if (typeof size !== "number") {
    throw new ArgumentError(`${what} must be a positive integer number of bytes, got ${describe(size)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new ArgumentError(`${what} must be a positive integer number of bytes, got ${size}`, ErrorCodes.INVALID_ARG_VALUE);
  }
  return size;
}

/**
 * A fresh random name: CPython's style ("/psm_" + 8 hex digits) for user segments. The
 * MULTIPROC_SHM_PREFIX variable puts a tag in front of every drawn name (the test suite uses it to
 * find exactly the segments its own run made).
 */
export function randomName(prefix = "/psm_", bytes = 4): string {
  const tag = process.env.MULTIPROC_SHM_PREFIX ?? "";
  return "/" + tag + prefix.slice(1) + randomBytes(bytes).toString("hex");
}

export interface CreateOptions {
  /** Without a name, a random one is drawn (and redrawn on collision). */
  name?: string | undefined;
  /** Prefix for drawn names; internal segments use "/mp_". */
  prefix?: string;
  /** Register with the resource tracker (default), so a crash cannot leak the segment. */
  track?: boolean;
}

export function createSegment(size: number, options: CreateOptions = {}): Segment {
  checkSize(size);
  const binding = native();
  if (binding === null) {
    const name = options.name === undefined ? randomName(options.prefix ?? "/psm_", 8) : normalizeName(options.name);
    if (localSegments.has(name)) {
      throw new SharedMemoryError(`shared memory '${name}' already exists`, { code: "ERR_SHM_EXISTS" });
    }
    const buffer = new SharedArrayBuffer(size);
    localSegments.set(name, buffer);
    return remember({ name, size, buffer, local: true });
  }
  for (let attempt = 0; ; attempt++) {
    const name = options.name === undefined ? randomName(options.prefix ?? "/psm_", options.prefix === undefined ? 4 : 8) : normalizeName(options.name);
    checkMappings(`${size} bytes of shared memory for '${name}'`);
    // A drawn name is told to the tracker before the segment exists: a SIGKILL between the two
    // would otherwise leak it (an arena made by a child killed at a random moment). Unlinking a
    // name that was never made is harmless, and a drawn name is nobody else's. A name the user
    // chose is tracked only once it is ours.
    const track_ = options.track ?? true;
    const early = track_ && options.name === undefined;
    if (early) track(name);
    try {
      const buffer = binding.shmCreate(name, size);
      if (track_ && !early) track(name);
      return remember({ name, size, buffer, local: false });
    } catch (err) {
      if (early) untrack(name);
      const e = fromNative(err);
      // A drawn name that collides is drawn again; a name the user chose is their error.
      if (e.code === "ERR_SHM_EXISTS" && options.name === undefined && attempt < 16) continue;
      throw explainShmFailure(e, name, size);
    }
  }
}

/**
 * A new segment holding a copy of `bytes`, for a one-way hand-over (a large message that the
 * receiver attaches, then unlinks): returns its name. With the addon the bytes are written
 * through the segment's file in /dev/shm rather than through a mapping, so the kernel copies them
 * into fresh pages without zeroing them first and without a page fault per page (about twice as
 * fast for 64 MiB here), and a full /dev/shm fails the write with ERR_SHM_NO_SPACE, never later.
 */
export function createSegmentFrom(bytes: Uint8Array, options: { prefix?: string } = {}): string {
  if (native() === null || bytes.length === 0) {
    const segment = createSegment(Math.max(1, bytes.length), { prefix: options.prefix ?? "/mp_" });
    new Uint8Array(segment.buffer, 0, bytes.length).set(bytes);
    return segment.name;
  }
  for (let attempt = 0; ; attempt++) {
    const name = randomName(options.prefix ?? "/mp_", 8);
    let fd: number;
    try {
      fd = openSync(`/dev/shm${name}`, fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST" && attempt < 16) continue;
      throw new SharedMemoryError(`cannot create shared memory '${name}': ${(err as Error).message}`, { code: "ERR_SHM_CREATE", cause: err });
    }
    track(name); // before writing: a crash from here on leaves the tracker to unlink it
    try {
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, done);
    } catch (err) {
      untrack(name);
      unlinkSync(`/dev/shm${name}`);
      const code = (err as NodeJS.ErrnoException).code === "ENOSPC" ? "ERR_SHM_NO_SPACE" : "ERR_SHM_CREATE";
      throw new SharedMemoryError(`cannot fill shared memory '${name}' with ${bytes.length} bytes: ${(err as Error).message}`, { code, cause: err });
    } finally {
      closeSync(fd);
    }
    return name;
  }
}

export function attachSegment(name: string): Segment {
  const full = normalizeName(name);
  const binding = native();
  if (binding === null) {
    const buffer = localSegments.get(full);
    if (buffer === undefined) {
      throw new SharedMemoryError(`no shared memory named '${full}' in this process (cross-process attach needs the native addon)`, {
        code: "ERR_SHM_NOT_FOUND",
      });
    }
    return remember({ name: full, size: buffer.byteLength, buffer, local: true });
  }
  checkMappings(`shared memory '${full}'`);
  try {
    const buffer = binding.shmAttach(full);
    return remember({ name: full, size: buffer.byteLength, buffer, local: false });
  } catch (err) {
    throw explainShmFailure(fromNative(err), full);
  }
}

/** Removes the name (mappings stay valid) and forgets it in the tracker. */
export function unlinkSegment(name: string): void {
  const full = normalizeName(name);
  forget(full);
  const binding = native();
  if (binding === null) {
    if (!localSegments.delete(full)) {
      throw new SharedMemoryError(`no shared memory named '${full}'`, { code: "ERR_SHM_NOT_FOUND" });
    }
    return;
  }
  try {
    binding.shmUnlink(full);
  } catch (err) {
    throw fromNative(err);
  } finally {
    untrack(full);
  }
}

export function segmentHandle(segment: Segment, thread: boolean): SegmentHandle {
  if (segment.local && !thread) requireNative("Sending shared memory to another process");
  const handle: SegmentHandle = { name: segment.name, size: segment.size };
  if (thread || segment.local) handle.buffer = segment.buffer;
  return handle;
}

export function segmentFromHandle(handle: SegmentHandle): Segment {
  if (handle.buffer !== undefined) {
    const local = native() === null;
    if (local && !localSegments.has(handle.name)) localSegments.set(handle.name, handle.buffer);
    return remember({ name: handle.name, size: handle.size, buffer: handle.buffer, local });
  }
  if (native() === null) requireNative("Receiving shared memory from another process");
  return attachShared(handle.name);
}
