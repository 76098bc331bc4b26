// Every type a server can make without locating user code: SyncManager's (builtins.ts) and
// SharedMemoryManager's. A manager class says which of them it serves (builtinTypeids).
import type { ServerType } from "./server.js";
import { SYNC_TYPES } from "./builtins.js";
import { ServerSegmentTracker } from "./objects/segment-tracker.js";

export const SHM_TYPES: Record<string, ServerType> = {
  SharedMemoryTracker: { create: () => new ServerSegmentTracker(), exposed: ["track", "untrack", "names", "unlinkAll"] },
};

export const BUILTIN_TYPES: Record<string, ServerType> = { ...SYNC_TYPES, ...SHM_TYPES };
