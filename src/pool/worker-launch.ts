// A pool worker's start and end: the segment with its control word and two rings, the Process
// (pinned to a start method) running worker.ts, and after an exit, which held tasks died with the
// worker and which it never began, and what its task ring still held. Apart from worker-handle.ts
// (which talks to a running worker) because none of it runs per task.
import type { LaunchOptions, StartMethod } from "../backends/backend.js";
import { Process } from "../process.js";
import { createSegment, unlinkSegment, type Segment } from "../shared/segment.js";
import { SharedMemory } from "../shared/shared-memory.js";
import { fromModule } from "../target.js";
import { initRing, RingReader, RingWriter } from "../transport/ring.js";
import {
  CONTROL_BYTES,
  RESULT_RING_CAPACITY,
  RESULT_RING_OFFSET,
  SEGMENT_BYTES,
  TASK_RING_CAPACITY,
  TASK_RING_OFFSET,
  type WorkerConfig,
} from "./protocol.js";
import type { Unit } from "./task.js";

const worker = fromModule<typeof import("./worker.js")>(new URL("./worker.js", import.meta.url));

/** A Process that starts with launch options (a pool worker's own heap limits). */
class LaunchedProcess<A extends unknown[] = unknown[]> extends Process<A> {
  launch: LaunchOptions | undefined;
  protected override launchOptions(): LaunchOptions | undefined {
    return this.launch;
  }
}

// Process pinned to a start method, as a context's Process is.
const processClasses = new Map<StartMethod, typeof LaunchedProcess>();
function processClass(method: StartMethod): typeof LaunchedProcess {
  let cls = processClasses.get(method);
  if (cls === undefined) {
    cls = class WorkerProcess<A extends unknown[] = unknown[]> extends LaunchedProcess<A> {
      protected static override startMethod: StartMethod | undefined = method;
    };
    processClasses.set(method, cls);
  }
  return cls;
}

/** A started worker: its segment, the views on it, and its process. */
export interface Launched {
  segment: Segment;
  control: Int32Array;
  writer: RingWriter;
  reader: RingReader;
  process: Process<[SharedMemory, WorkerConfig]>;
}

/** Makes the segment and starts the worker on it; if that fails, the segment is unlinked. */
export function launchWorker(method: StartMethod, name: string, config: WorkerConfig, resourceLimits: LaunchOptions["resourceLimits"]): Launched {
  const segment = createSegment(SEGMENT_BYTES, { prefix: "/mp_" });
  const buffer = segment.buffer;
  try {
    initRing(buffer, TASK_RING_OFFSET, TASK_RING_CAPACITY);
    initRing(buffer, RESULT_RING_OFFSET, RESULT_RING_CAPACITY);
    const control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    const writer = new RingWriter(buffer, TASK_RING_OFFSET);
    const reader = new RingReader(buffer, RESULT_RING_OFFSET);
    const shm = SharedMemory.fromHandle({ name: segment.name, size: segment.size, buffer });
    const Cls = processClass(method);
    const proc = new Cls<[SharedMemory, WorkerConfig]>({ target: worker.runWorker, args: [shm, config], name, daemon: true });
    proc.launch = resourceLimits === undefined ? undefined : { resourceLimits };
    proc.start();
    return { segment, control, writer, reader, process: proc };
  } catch (err) {
    unlinkQuietly(segment.name);
    throw err;
  }
}

export function unlinkQuietly(name: string): void {
  try {
    unlinkSegment(name);
  } catch {
    // Unlinked already.
  }
}

/**
 * The tasks a dead worker held, in the order sent: the first `started - answered` had begun (they
 * died with it), the rest never began (they can run elsewhere).
 */
export function sortHeld(held: Unit[], answered: number, started: number): { lost: Unit[]; unsent: Unit[] } {
  const lost: Unit[] = [];
  const unsent: Unit[] = [];
  let seq = answered;
  for (const unit of held) (seq++ < started ? lost : unsent).push(unit);
  return { lost, unsent };
}

/** Out-of-line messages the worker never read are segments of their own: adopting unlinks them. */
export function discardLeftovers(buffer: SharedArrayBuffer): void {
  const leftovers = new RingReader(buffer, TASK_RING_OFFSET);
  try {
    while (leftovers.tryRecv() !== undefined);
  } catch {
    // A segment already gone: nothing to clean.
  }
}

/** Why a worker that exited with `code` failed to start, or undefined if it did not. */
export function startErrorOf(code: number, wasReady: boolean, reported: unknown): unknown {
  // A worker killed from outside (SIGKILL, SIGTERM) while it started has not shown that workers
  // cannot start: it is replaced like any dead worker, so such kills never add up to
  // ERR_WORKER_START (found by the chaos pool scenario; CPython's Pool also just replaces it).
  const killed = (code === -9 || code === -15) && reported === undefined;
  return wasReady || killed ? undefined : (reported ?? new Error(`the worker exited with code ${code} during start-up`));
}
