// SyncManager's types on the server side: typeid -> how to make the object and what it exposes.
import type { ServerType } from "./server.js";
import { StoredRef } from "./object-registry.js";
import { ServerDict, ServerList, ServerNamespace } from "./objects/collections.js";
import { ServerValue, ServerArray } from "./objects/value.js";
import { ServerQueue, ServerJoinableQueue } from "./objects/queue.js";
import { ServerLock, ServerRLock, type ConditionLock } from "./objects/lock.js";
import { ServerSemaphore, ServerBoundedSemaphore } from "./objects/semaphore.js";
import { ServerCondition } from "./objects/condition.js";
import { ServerEvent } from "./objects/event.js";
import { ServerBarrier } from "./objects/barrier.js";
import { ArgumentError, ErrorCodes } from "../errors.js";

const LOCK = ["acquire", "release", "locked"];
const QUEUE = ["put", "get", "putNowait", "getNowait", "qsize", "empty", "full"];

function conditionLock(arg: unknown): ConditionLock | undefined {
  if (arg === undefined || arg === null) return undefined;
  const target = arg instanceof StoredRef ? arg.target : undefined;
  if (target instanceof ServerLock || target instanceof ServerRLock) return target;
  throw new ArgumentError("Condition(lock) takes a Lock or RLock proxy of the same manager", ErrorCodes.INVALID_ARG_TYPE);
}

export const SYNC_TYPES: Record<string, ServerType> = {
  dict: {
    create: ([init]) => new ServerDict(init),
    exposed: ["get", "set", "delete", "has", "size", "keys", "values", "entries", "setdefault", "pop", "popitem", "update", "clear", "copy"],
  },
  list: {
    create: ([init]) => new ServerList(init),
    exposed: ["get", "set", "append", "extend", "insert", "pop", "remove", "index", "count", "reverse", "sort", "slice", "length", "toArray"],
  },
  Namespace: { create: ([init]) => new ServerNamespace(init), exposed: ["get", "set", "delete", "has", "toObject"] },
  Value: { create: ([typecode, value]) => new ServerValue(typecode, value), exposed: ["get", "set"] },
  Array: { create: ([typecode, init]) => new ServerArray(typecode, init), exposed: ["get", "set", "length", "toArray", "slice"] },
  Queue: { create: ([maxsize]) => new ServerQueue(maxsize as number | undefined), exposed: QUEUE },
  JoinableQueue: { create: ([maxsize]) => new ServerJoinableQueue(maxsize as number | undefined), exposed: [...QUEUE, "taskDone", "join"] },
  Lock: { create: () => new ServerLock(), exposed: LOCK },
  RLock: { create: () => new ServerRLock(), exposed: ["acquire", "release"] },
  Semaphore: { create: ([value]) => new ServerSemaphore(value as number | undefined), exposed: ["acquire", "release", "getValue"] },
  BoundedSemaphore: { create: ([value]) => new ServerBoundedSemaphore(value as number | undefined), exposed: ["acquire", "release", "getValue"] },
  Condition: { create: ([lock]) => new ServerCondition(conditionLock(lock)), exposed: ["acquire", "release", "wait", "notify", "notifyAll"] },
  Event: { create: () => new ServerEvent(), exposed: ["set", "clear", "isSet", "wait"] },
  Barrier: {
    create: ([parties, options]) => new ServerBarrier(parties as number, (options ?? {})),
    exposed: ["wait", "reset", "abort", "nWaiting", "broken", "getParties"],
  },
};
