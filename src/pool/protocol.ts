// The wire protocol between a Pool and one of its workers, written down where it lives.
//
// Each worker has one shared segment (created by the parent, passed as the worker's argument):
//
//   0        control words (Int32): STARTED = how many tasks the worker has begun (or skipped);
//            PARENT_WAITING = the parent waits for a byte on its wake pipe (wake.ts);
//            WATCHING = a running task holds its currentTask() (terminate lets it see its signal)
//   256      the task ring     parent -> worker   (transport/ring.ts)
//   256+R    the result ring   worker -> parent
//
// The worker begins its tasks in the order they arrived, one at a time (up to
// concurrentTasksPerWorker async tasks at once). Before it begins a task it bumps STARTED; right
// after a task ends it publishes the result frame. So when a worker dies, the parent (which knows
// the order it sent tasks in) drains the result ring and then knows exactly which tasks were
// running (the first STARTED - answered of those it still holds) and which were never begun (sent
// again to another worker). With concurrency 1 results come in the order sent; above it, in the
// order tasks end.
//
//   parent                                   worker
//     |  spawn(segment, config)                |
//     |  ---- [init { initializer, finalizer }] ->  |  runs the initializer
//     |  <------------ ready | init-failed --  |
//     |  ---- [target, task, task, ...] ----->  |  targets are sent once, then named by id
//     |  <------------------- started -------  |  only for tasks with a timeout
//     |  <-------------------- event --------  |  currentTask().emit(v), for tasks flagged EVENTS
//     |  <------------ result | error | skipped |  one frame per task, as soon as it ends
//     |  ---- [cancel id] ------------------->  |  a task not yet begun is skipped; a running
//     |                                        |  one sees its currentTask().signal abort
//     |  ---- [stop] ------------------------>  |  finish what is queued, run the finalizer, exit
//     |  ---- [terminate] ------------------->  |  abort running tasks' signals, skip the queue,
//     |                                        |  run the finalizer, exit (killed after a grace)
//
// Parent -> worker frames carry many messages (a batch); worker -> parent frames carry one.
import { corruptData } from "../errors.js";
import type { TargetDescriptor } from "../target.js";
import { ringSize } from "../transport/ring.js";
import { FrameReader, FrameWriter } from "./codec.js";
import type { WakeTarget } from "../transport/wake.js";
import type { Payload } from "./task.js";

export const STARTED = 0;
export const PARENT_WAITING = 1;
export const WATCHING = 2;
export const CONTROL_BYTES = 256;
export const TASK_RING_CAPACITY = 1 << 18;
export const RESULT_RING_CAPACITY = 1 << 18;
export const TASK_RING_OFFSET = CONTROL_BYTES;
export const RESULT_RING_OFFSET = CONTROL_BYTES + ringSize(TASK_RING_CAPACITY);
export const SEGMENT_BYTES = RESULT_RING_OFFSET + ringSize(RESULT_RING_CAPACITY);

/** How a task's payload becomes calls: apply(fn, args), fn(item) per item, fn(...item) per item. */
export type TaskMode = "apply" | "map" | "starmap";
const MODES: readonly TaskMode[] = ["apply", "map", "starmap"];
/** Task flag bits, beside the mode in the task's flags byte: each feature costs nothing when its bit is clear. */
const MODE_MASK = 0x0f;
/** The worker reports `started` so that the parent can time the task. */
export const TASK_TIMED = 0x80;
/** Map items come back as { status, value | reason } each; an item's error fails that item only. */
export const TASK_SETTLE = 0x40;
/** The caller listens (onEvent): currentTask().emit sends events; otherwise emit drops them. */
export const TASK_EVENTS = 0x20;

/** What a worker is told at spawn (through its Process args). */
export interface WorkerConfig {
  /** Tasks to run before exiting (maxTasksPerChild), or 0 for no limit. */
  maxTasks: number;
  initargs: unknown[];
  finalargs: unknown[];
  /** Async tasks a worker runs at once (concurrentTasksPerWorker). */
  concurrency: number;
  /** Bytes of memory past which the worker retires after its current task (maxMemoryPerChild), or 0. */
  maxMemory: number;
  /** The parent's wake pipe, or null to let the parent wait on the result ring. */
  wake: WakeTarget | null;
}

// ---- parent -> worker ----

export interface InitMessage {
  kind: "init";
  initializer: TargetDescriptor | null;
  finalizer: TargetDescriptor | null;
}
export interface TargetMessage {
  kind: "target";
  id: number;
  target: TargetDescriptor;
}
export interface TaskMessage {
  kind: "task";
  id: number;
  target: number;
  mode: TaskMode;
  /** TASK_TIMED, TASK_SETTLE, TASK_EVENTS. */
  flags: number;
  /** The arguments (apply) or items (map, starmap), still encoded: decodeValue() when the task begins. */
  payload: Uint8Array;
}
export interface CancelMessage {
  kind: "cancel";
  id: number;
}
export interface StopMessage {
  kind: "stop";
}
export interface TerminateMessage {
  kind: "terminate";
}
export type ToWorker = InitMessage | TargetMessage | TaskMessage | CancelMessage | StopMessage | TerminateMessage;

// ---- worker -> parent ----

export interface ReadyMessage {
  kind: "ready";
  /** The worker opened the parent's wake pipe and rings it. */
  wake: boolean;
}
export interface InitFailedMessage {
  kind: "init-failed";
  error: unknown;
}
export interface StartedMessage {
  kind: "started";
  id: number;
  /** performance.timeOrigin + performance.now() in the worker when it began. */
  at: number;
}
export interface ResultMessage {
  kind: "result";
  id: number;
  /** Milliseconds the worker spent on the task. */
  busy: number;
  value: unknown;
  /** `value` is the array of a map chunk's results (made by the worker): written as a list. */
  list?: boolean;
}
export interface ErrorMessage {
  kind: "error";
  id: number;
  busy: number;
  error: unknown;
}
export interface SkippedMessage {
  kind: "skipped";
  id: number;
}
/** A value a running task emitted (currentTask().emit), for the caller's onEvent. */
export interface EventMessage {
  kind: "event";
  id: number;
  value: unknown;
}
export type FromWorker = ReadyMessage | InitFailedMessage | StartedMessage | ResultMessage | ErrorMessage | SkippedMessage | EventMessage;

const K_INIT = 1;
const K_TARGET = 2;
const K_TASK = 3;
const K_CANCEL = 4;
const K_STOP = 5;
const K_TERMINATE = 6;
const K_READY = 16;
const K_INIT_FAILED = 17;
const K_STARTED = 18;
const K_RESULT = 19;
const K_ERROR = 20;
const K_SKIPPED = 21;
const K_EVENT = 22;

/**
 * Builds one parent -> worker frame: a message count, then the messages. Task payloads may be
 * given already encoded (bytes from encodePayload) or as values.
 */
export class BatchWriter {
  readonly #w = new FrameWriter(1 << 16);
  #count = 0;
  #countAt = -1;

  get count(): number {
    return this.#count;
  }

  /** Bytes of the frame so far (0 when empty). */
  get bytes(): number {
    return this.#count === 0 ? 0 : this.#w.length;
  }

  #begin(): void {
    if (this.#countAt < 0) {
      this.#w.reset();
      this.#countAt = this.#w.reserveU32();
    }
    this.#count++;
  }

  init(initializer: TargetDescriptor | null, finalizer: TargetDescriptor | null): void {
    this.#begin();
    this.#w.u8(K_INIT);
    this.#w.value(initializer);
    this.#w.value(finalizer);
  }

  target(id: number, target: TargetDescriptor): void {
    this.#begin();
    this.#w.u8(K_TARGET);
    this.#w.u32(id);
    this.#w.value(target);
  }

  /** Adds a task; if its payload cannot be sent, nothing is added and the error is thrown. */
  task(id: number, target: number, mode: TaskMode, flags: number, payload: Payload): void {
    this.#begin();
    const mark = this.#w.length;
    try {
      this.#w.u8(K_TASK);
      this.#w.u32(id);
      this.#w.u32(target);
      this.#w.u8(MODES.indexOf(mode) | flags);
      if ("encoded" in payload) this.#w.raw(payload.encoded);
      else if ("items" in payload) this.#w.range(payload.items, payload.start, payload.end);
      else this.#w.value(payload.value);
    } catch (err) {
      this.#w.truncate(mark);
      this.#count--;
      throw err;
    }
  }

  cancel(id: number): void {
    this.#begin();
    this.#w.u8(K_CANCEL);
    this.#w.u32(id);
  }

  stop(): void {
    this.#begin();
    this.#w.u8(K_STOP);
  }

  terminate(): void {
    this.#begin();
    this.#w.u8(K_TERMINATE);
  }

  /** The finished frame (a view, valid until the next call) and a fresh start; undefined if empty. */
  take(): Uint8Array | undefined {
    if (this.#count === 0) return undefined;
    this.#w.patchU32(this.#countAt, this.#count);
    this.#count = 0;
    this.#countAt = -1;
    return this.#w.view();
  }
}

/** Decodes a value encoded by FrameWriter.value (a task's payload); `reader` may be one kept for many. */
export function decodeValue(bytes: Uint8Array, reader?: FrameReader): unknown {
  return (reader === undefined ? new FrameReader(bytes) : reader.reset(bytes)).value();
}

/** Encodes a task payload ahead of time (so that an unsendable argument fails at the call). */
export function encodePayload(value: unknown): Uint8Array {
  const w = new FrameWriter(64);
  w.value(value);
  return w.copy();
}

/** The messages of one parent -> worker frame; a frame that does not parse throws ERR_CORRUPT. */
export function decodeBatch(frame: Uint8Array): ToWorker[] {
  const r = new FrameReader(frame);
  const count = r.u32();
  // Each message takes at least one byte: a count beyond that is corrupt (and would loop long).
  if (count > r.remaining) throw corruptData(`a pool frame of ${frame.length} bytes announces ${count} messages`);
  const out: ToWorker[] = [];
  for (let i = 0; i < count; i++) {
    const kind = r.u8();
    switch (kind) {
      case K_INIT:
        out.push({ kind: "init", initializer: r.value() as TargetDescriptor | null, finalizer: r.value() as TargetDescriptor | null });
        break;
      case K_TARGET:
        out.push({ kind: "target", id: r.u32(), target: r.value() as TargetDescriptor });
        break;
      case K_TASK: {
        const id = r.u32();
        const target = r.u32();
        const flags = r.u8();
        const mode = MODES[flags & MODE_MASK];
        if (mode === undefined) throw corruptData(`unknown task mode ${flags & MODE_MASK} in a pool frame`);
        out.push({ kind: "task", id, target, mode, flags: flags & ~MODE_MASK, payload: r.rawValue() });
        break;
      }
      case K_CANCEL:
        out.push({ kind: "cancel", id: r.u32() });
        break;
      case K_STOP:
        out.push({ kind: "stop" });
        break;
      case K_TERMINATE:
        out.push({ kind: "terminate" });
        break;
      default:
        throw corruptData(`unknown message kind ${kind} in a pool frame`);
    }
  }
  return out;
}

/** Writes one worker -> parent message into `w` (reset first). Throws if a value cannot be sent. */
export function encodeReply(w: FrameWriter, m: FromWorker): Uint8Array {
  w.reset();
  switch (m.kind) {
    case "ready":
      w.u8(K_READY);
      w.u8(m.wake ? 1 : 0);
      break;
    case "init-failed":
      w.u8(K_INIT_FAILED);
      w.value(m.error);
      break;
    case "started":
      w.u8(K_STARTED);
      w.u32(m.id);
      w.f64(m.at);
      break;
    case "result":
      w.u8(K_RESULT);
      w.u32(m.id);
      w.f64(m.busy);
      if (m.list === true && Array.isArray(m.value)) w.range(m.value, 0, m.value.length);
      else w.value(m.value);
      break;
    case "error":
      w.u8(K_ERROR);
      w.u32(m.id);
      w.f64(m.busy);
      w.value(m.error);
      break;
    case "skipped":
      w.u8(K_SKIPPED);
      w.u32(m.id);
      break;
    case "event":
      w.u8(K_EVENT);
      w.u32(m.id);
      w.value(m.value);
      break;
  }
  return w.view();
}

/** One worker -> parent message; a frame that does not parse throws ERR_CORRUPT. */
export function decodeReply(frame: Uint8Array): FromWorker {
  return readReply(new FrameReader(frame));
}

/** The value of a result whose numbers were written where `place` said (readReply). */
export const PLACED: unique symbol = Symbol("multiproc.pool.placed");

/**
 * Offered a result's reader positioned at its value: writes the value where it belongs and
 * returns true (FrameReader.numbersInto), or returns false to have it decoded as usual.
 */
export type Placer = (id: number, r: FrameReader) => boolean;

/**
 * decodeReply from a reader set on the frame (one reader serves many frames: FrameReader.reset).
 * With `place`, a result may be written straight where it belongs: its value is then PLACED.
 */
export function readReply(r: FrameReader, place?: Placer): FromWorker {
  const kind = r.u8();
  switch (kind) {
    case K_READY:
      return { kind: "ready", wake: r.u8() === 1 };
    case K_INIT_FAILED:
      return { kind: "init-failed", error: r.value() };
    case K_STARTED:
      return { kind: "started", id: r.u32(), at: r.f64() };
    case K_RESULT:
    case K_ERROR: {
      const id = r.u32();
      const busy = r.f64();
      try {
        if (kind === K_RESULT && place !== undefined && place(id, r)) return { kind: "result", id, busy, value: PLACED };
        const value = r.value();
        return kind === K_RESULT ? { kind: "result", id, busy, value } : { kind: "error", id, busy, error: value };
      } catch (err) {
        // A value this process cannot rebuild (an unknown handle type, say) fails its task only.
        return { kind: "error", id, busy, error: err };
      }
    }
    case K_SKIPPED:
      return { kind: "skipped", id: r.u32() };
    case K_EVENT: {
      const id = r.u32();
      try {
        return { kind: "event", id, value: r.value() };
      } catch (err) {
        // An event this process cannot rebuild is delivered as the error that says why.
        return { kind: "event", id, value: err };
      }
    }
    default:
      throw corruptData(`unknown reply kind ${kind} in a pool frame`);
  }
}
