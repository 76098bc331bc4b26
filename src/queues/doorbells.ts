// The doorbells queue waiters sleep on: how a waiter sleeps and how a put or get rings (used by
// core.ts and core-locked.ts). Kept apart from the put and get loops so that the wake-up protocol,
// both sides of it, reads in one place.
//
// Waiting: a consumer that finds the queue empty counts itself in NE_WAITERS and reads NE_SEQ
// *before* it lets go of the lock; a producer, after its put, bumps NE_SEQ and wakes one sleeper
// if NE_WAITERS says someone may sleep. So a put that lands after a consumer looked always changes
// the word that consumer sleeps on (value-based waits: docs/design.md), and no wake-up is lost.
// Producers waiting for room do the same with NF_SEQ/NF_WAITERS.
// System calls are kept off the steady path: a wake-up is sent only when a sleeper may have
// nothing to take (more sleepers than items), NE_PENDING holds further wake-ups back until the
// woken consumer runs (it clears the flag, then wakes the next sleeper itself if items are left:
// a cascade), and producers waiting for room are woken all at once when half of it is free.
// A waiter that leaves without an item (timeout, abort, close) passes a wake-up on. Waits are cut
// in slices, so a process that died between its put and its wake-up (or holding NE_PENDING)
// causes a delay of one slice, never a hang.
import { waiter } from "../native/wait.js";
import { W } from "./queue-segment.js";

const SLICE_MS = 100;

export interface WaitSpec {
  block: boolean;
  timeout: number | undefined;
  signal?: AbortSignal | undefined;
}

export function deadlineOf(spec: WaitSpec): number {
  if (!spec.block) return 0;
  return spec.timeout === undefined ? Infinity : performance.now() + spec.timeout;
}

/** How long one sleep may last: a slice, or less if the deadline is nearer. */
export function sliceUntil(deadline: number): number {
  return Math.max(0, Math.min(SLICE_MS, deadline - performance.now()));
}

// ---- sleeping -----------------------------------------------------------------------------

/** A doorbell: the number its sleepers wait on, their count, and the "a wake-up is on its way" flag. */
export interface Bell {
  seq: number;
  waiters: number;
  pending: number;
}

/** Consumers waiting for an item. */
export const ITEMS: Bell = { seq: W.NE_SEQ, waiters: W.NE_WAITERS, pending: W.NE_PENDING };
/** Producers waiting for room. */
export const ROOM: Bell = { seq: W.NF_SEQ, waiters: W.NF_WAITERS, pending: W.NF_PENDING };

/** Counts the caller among the bell's sleepers and returns the number to sleep on; call it with the lock held. */
export function enroll(w: Int32Array, bell: Bell): number {
  Atomics.add(w, bell.waiters, 1);
  return Atomics.load(w, bell.seq);
}

/** After enroll(), with the lock released: sleeps (a slice at most) until the bell rings, then leaves its sleepers. */
export async function sleepAsync(w: Int32Array, bell: Bell, seq: number, deadline: number, signal: AbortSignal): Promise<void> {
  try {
    await waiter().waitAsync(w, bell.seq, seq, { timeout: sliceUntil(deadline), signal });
  } finally {
    Atomics.sub(w, bell.waiters, 1);
    Atomics.store(w, bell.pending, 0);
  }
}

/** The blocking twin of sleepAsync(). */
export function sleepSync(w: Int32Array, bell: Bell, seq: number, deadline: number): void {
  try {
    waiter().wait(w, bell.seq, seq, sliceUntil(deadline));
  } finally {
    Atomics.sub(w, bell.waiters, 1);
    Atomics.store(w, bell.pending, 0);
  }
}

// ---- ringing ------------------------------------------------------------------------------

/**
 * After a put into a queue that held `before` items: wakes one sleeping consumer if there are
 * more sleepers than items they could already be taking (so a burst into an empty queue wakes as
 * many consumers as it has items, and a stream into a busy one wakes nobody).
 */
export function wakeConsumers(w: Int32Array, before: number): void {
  if (Atomics.load(w, W.NE_WAITERS) > before && Atomics.compareExchange(w, W.NE_PENDING, 0, 1) === 0) {
    Atomics.add(w, W.NE_SEQ, 1);
    waiter().wake(w, W.NE_SEQ, 1);
  }
}

export function wakeProducers(w: Int32Array): void {
  if (Atomics.load(w, W.NF_WAITERS) > 0 && Atomics.compareExchange(w, W.NF_PENDING, 0, 1) === 0) {
    Atomics.add(w, W.NF_SEQ, 1);
    waiter().wake(w, W.NF_SEQ);
  }
}

// A waiter that leaves without what it came for may have taken a wake-up meant for another.
export function passOnConsumerWake(w: Int32Array): void {
  if (Atomics.load(w, W.COUNT) > 0) wakeConsumers(w, 0);
}

/** JoinableQueue: wakes every join() once no unfinished task is left. */
export function wakeJoiners(w: Int32Array): void {
  Atomics.add(w, W.JOIN_SEQ, 1);
  waiter().wake(w, W.JOIN_SEQ);
}
