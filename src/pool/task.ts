// The unit of work the dispatcher hands to workers (one apply, or one chunk of a map), and the
// interface every kind of call (apply, map, imap) offers the dispatcher.
import type { ProcessError } from "../errors.js";
import type { TargetDescriptor } from "../target.js";
import type { TaskMode } from "./protocol.js";
import type { WorkerIdentity } from "./stats.js";

/** A function the pool has seen, with the id workers know it by. */
export interface TargetEntry {
  readonly id: number;
  readonly descriptor: TargetDescriptor;
  /** Moving average of a task's run time in ms (undefined until one finished). */
  ema: number | undefined;
}

/**
 * What a unit sends: arguments encoded at the call (apply), a value, or the items
 * `items[start..end)` (a map chunk: encoded from its input without a slice when they are numbers).
 */
export type Payload = { encoded: Uint8Array } | { value: unknown } | { items: readonly unknown[]; start: number; end: number };

/** A payload's value (the items of a range as an array of their own). */
export function payloadValue(p: Exclude<Payload, { encoded: Uint8Array }>): unknown {
  return "items" in p ? p.items.slice(p.start, p.end) : p.value;
}

export interface Unit {
  readonly id: number;
  readonly call: Call;
  /** Position of the first item in the call's input (0 for apply). */
  readonly index: number;
  /** Items in this unit (1 for apply). */
  readonly count: number;
  readonly target: TargetEntry;
  readonly mode: TaskMode;
  readonly payload: Payload;
  /** Per-task time limit in ms, counted from the task's start in the worker. */
  readonly timeout: number | undefined;
  /** Answered (or failed) already: anything later about it is ignored. */
  done: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** What a call needs from the dispatcher. */
export interface Host {
  nextUnitId(): number;
  /** Units may have become available (or room for them): dispatch soon. */
  wake(): void;
  /** The call settled: skip its queued units. */
  finished(call: Call): void;
  /**
   * Someone started (+1) or stopped (-1) waiting for a call's outcome: an awaited AsyncResult, a
   * pending imap step, a callback. The local pool keeps the program alive only while someone
   * waits, so an idle or forgotten pool never does (SPEC "Program lifetime", issue #14).
   */
  waiting?(delta: number): void;
}

/** The per-call features of issue 16 a call was made with (all off by default). */
export interface CallFeatures {
  /** Receives what the call's tasks emit (currentTask().emit), in order, before the result. */
  onEvent: ((value: unknown) => void) | undefined;
  /** An abort kills (and replaces) the workers running the call's tasks. */
  killOnAbort: boolean;
  /** Map items settle one by one ({ status, value | reason }). */
  settle: boolean;
}

export const NO_FEATURES: CallFeatures = { onEvent: undefined, killOnAbort: false, settle: false };

export interface Call {
  /** Set by the Pool once the function is resolved, before the call is submitted. */
  target: TargetEntry | undefined;
  readonly settled: boolean;
  /** Task flag bits every unit of the call carries (protocol.ts: TASK_SETTLE, TASK_EVENTS). */
  readonly flags: number;
  /** performance.now() when the call was made (a task's wait time counts from it). */
  readonly submittedAt: number;
  /** The call was aborted with killOnAbort: workers running its tasks are to be killed. */
  readonly kill: boolean;
  /** A running task of the call emitted a value. */
  onEvent(unit: Unit, value: unknown): void;
  /** Units not yet taken from the call (an estimate for inputs of unknown length). */
  queued(): number;
  /** The next unit to run if one is available now (and the call wants more in flight). */
  take(): Unit | undefined;
  /** No unit will ever come from this call again. */
  readonly exhausted: boolean;
  /**
   * An array the unit's results may be written into directly, from position unit.index (a map's
   * result, once its length is known); onResult then gets the value PLACED (protocol.ts).
   */
  output?(unit: Unit): unknown[] | undefined;
  onResult(unit: Unit, value: unknown, worker: WorkerIdentity, busyMs: number): void;
  onError(unit: Unit, error: unknown, worker: WorkerIdentity | undefined, busyMs: number): void;
  /** Settles the whole call with an error (abort, terminate, a broken pool). */
  fail(error: unknown): void;
}

/** What runs a pool's calls: the local Scheduler, or the ClusterPool's engine. */
export interface Engine extends Host {
  /** Why new work is refused, or undefined if it is accepted. */
  refusal(): ProcessError | undefined;
  /** maxQueue: why a call of `units` tasks is refused now (Full), or undefined. */
  admit?(units: number): ProcessError | undefined;
  /** Encodes apply's arguments at the call, so that one that cannot be sent throws there. */
  encodeArgs(args: unknown[]): Uint8Array;
  /** The entry for `fn` if it is known already (the fast path), else undefined. */
  knownTarget(fn: object): TargetEntry | undefined;
  target(fn: (...args: never[]) => unknown): Promise<TargetEntry>;
  /** Counts calls accepted but not yet submitted (their function is being located). */
  preparing(delta: number): void;
  /** Takes an accepted call (a closed engine still runs it; a terminated one fails it). */
  submit(call: Call): void;
  close(): void;
  terminate(): Promise<void>;
  join(): Promise<void>;
}
