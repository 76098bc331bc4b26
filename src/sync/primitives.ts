// The synchronisation primitives and shared values as one set of classes, for the contexts:
// they work the same under every start method, so each context carries these very classes.
import { RawArray, SharedArray } from "../shared/shared-array.js";
import { RawValue, Value } from "../shared/value.js";
import { Barrier } from "./barrier.js";
import { Condition } from "./condition.js";
import { Event } from "./event.js";
import { Lock } from "./lock.js";
import { RLock } from "./rlock.js";
import { BoundedSemaphore, Semaphore } from "./semaphore.js";

export const syncPrimitives = Object.freeze({
  Lock,
  RLock,
  Semaphore,
  BoundedSemaphore,
  Event,
  Condition,
  Barrier,
  Value,
  RawValue,
  SharedArray,
  RawArray,
});

export type SyncPrimitives = typeof syncPrimitives;
