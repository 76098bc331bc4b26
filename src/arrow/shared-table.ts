// SharedTable: an Apache Arrow table placed once in shared memory, then read by any number of
// processes and threads with no copy. The segment holds the table in Arrow's IPC stream format,
// whose buffers are 8-byte aligned; apache-arrow's reader builds its vectors as views into those
// bytes, so every receiver's Table reads the shared memory directly.
//
// Segment layout: word 0 = holders (Int32, atomic); bytes 8..16 = IPC length (u64 LE);
// IPC bytes from offset 64.
// Lifetime: from() makes one holder; every hand-over to another process or thread adds one in
// transit, which the receiver takes over; release() (or garbage collection of an unreleased
// SharedTable) drops one; the last one unlinks the segment. A holder that crashes never drops
// its reference: the resource tracker unlinks the segment when the program ends.
// Receivers must treat the table as read-only: the bytes are shared by everyone.
// Over a socket (managers, multiproc/connection), whose peer may be on another machine, a
// SharedTable travels as its IPC bytes instead, and the receiver places it in a segment of its own.
import { Table, tableFromIPC, tableToIPC } from "apache-arrow";
import { ArgumentError, ErrorCodes, StateError } from "../errors.js";
import { createSegment, segmentFromHandle, segmentHandle, unlinkSegment, type Segment, type SegmentHandle } from "../shared/segment.js";
import { kReduce, registerHandleType, setForeignReducer, type Reduced, type Transport } from "../transport/handles.js";
import { describe } from "../validate.js";
import { setPins, tablePolicy } from "./table-policy.js";

const HEADER = 64;
const HOLDERS = 0;

/** A hand-over on this machine (the segment), or over a socket that may cross machines (the bytes). */
type SharedTableState = { segment: SegmentHandle; length: number } | { ipc: Uint8Array };

// Drops the reference of a SharedTable that was collected without release().
const unreleased = new FinalizationRegistry<Segment>((segment) => {
  for (const ref of live) if (ref.deref() === undefined) live.delete(ref);
  dropReference(segment);
});

function dropReference(segment: Segment): void {
  const words = new Int32Array(segment.buffer, 0, 2);
  if (Atomics.sub(words, HOLDERS, 1) === 1) {
    try {
      unlinkSegment(segment.name);
    } catch {
      // Already gone (a crash clean-up, or a racing release): nothing left to do.
    }
  }
}

let adopting: { segment: Segment; length: number } | undefined;

// Tables this thread holds: released when it exits, so a child that finished with a table does
// not keep its memory alive until the whole program ends.
const live = new Set<WeakRef<SharedTable>>();
process.on("exit", () => {
  for (const ref of live) ref.deref()?.release();
});

/**
 * An Apache Arrow table in shared memory (multiproc/arrow): sent to other processes as a name, read there in place, never copied.
 *
 * @example
 * ```ts
 * import { tableFromArrays } from "apache-arrow";
 * import { SharedTable } from "multiproc/arrow";
 * using shared = SharedTable.from(tableFromArrays({ x: Float64Array.from([1, 2, 3]) }));
 * console.log(shared.numRows, shared.table.getChild("x")?.toArray()); // 3 Float64Array [1, 2, 3]
 * // pass `shared` in Process args, a Queue, a Pool task: the receiver reads the same memory
 * ```
 */
export class SharedTable implements Disposable {
  readonly #segment: Segment;
  readonly #length: number;
  #table: Table | undefined;
  #released = false;

  /** Use SharedTable.from(table); received SharedTables are rebuilt by multiproc. */
  private constructor() {
    if (adopting === undefined) throw new StateError("use SharedTable.from(table)", { code: ErrorCodes.INVALID_ARG_VALUE });
    this.#segment = adopting.segment;
    this.#length = adopting.length;
    adopting = undefined;
    this.#ref = new WeakRef(this);
    live.add(this.#ref);
    unreleased.register(this, this.#segment, this);
  }

  readonly #ref: WeakRef<SharedTable>;

  /** Copies `table` into a new shared segment. */
  static from(table: Table): SharedTable {
    if (!(table instanceof Table)) {
      throw new ArgumentError(`table must be an apache-arrow Table, got ${describe(table)}`, ErrorCodes.INVALID_ARG_TYPE);
    }
    return SharedTable.#fromIpc(ipcOf(table));
  }

  /** The Arrow table, reading the shared bytes in place (built on first use). */
  get table(): Table {
    this.#checkOpen();
    this.#table ??= tableFromIPC(new Uint8Array(this.#segment.buffer, HEADER, this.#length));
    return this.#table;
  }

  /** Rows in the table. */
  get numRows(): number {
    return this.table.numRows;
  }

  /** Bytes of shared memory the table occupies. */
  get byteLength(): number {
    return this.#length;
  }

  /** Whether release() was called (or the process is exiting): the table may no longer be read. */
  get released(): boolean {
    return this.#released;
  }

  /** Drops this holder's reference; the last one frees the shared memory. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#table = undefined;
    live.delete(this.#ref);
    unreleased.unregister(this);
    dropReference(this.#segment);
  }

  [Symbol.dispose](): void {
    this.release();
  }

  #checkOpen(): void {
    if (this.#released) throw new StateError("this SharedTable was released", { code: ErrorCodes.CLOSED });
  }

  [kReduce](transport: Transport): Reduced {
    this.#checkOpen();
    if (transport === "socket") {
      // The peer may be on another machine (managers, multiproc/connection): send the bytes, and
      // the receiver places them in shared memory of its own.
      return { type: "SharedTable", state: { ipc: new Uint8Array(this.#segment.buffer, HEADER, this.#length).slice() } };
    }
    // The receiver takes this reference over when it rebuilds the table.
    Atomics.add(new Int32Array(this.#segment.buffer, 0, 2), HOLDERS, 1);
    const state: SharedTableState = { segment: segmentHandle(this.#segment, transport === "thread"), length: this.#length };
    return { type: "SharedTable", state };
  }

  /** @internal */
  static fromHandle(state: SharedTableState): SharedTable {
    if ("ipc" in state) return SharedTable.#fromIpc(state.ipc);
    adopting = { segment: segmentFromHandle(state.segment), length: state.length };
    return new SharedTable();
  }

  static #fromIpc(ipc: Uint8Array): SharedTable {
    const segment = createSegment(HEADER + ipc.byteLength, { prefix: "/mp_" });
    new Uint8Array(segment.buffer, HEADER, ipc.byteLength).set(ipc);
    new DataView(segment.buffer).setBigUint64(8, BigInt(ipc.byteLength), true);
    Atomics.store(new Int32Array(segment.buffer, 0, 2), HOLDERS, 1);
    adopting = { segment, length: ipc.byteLength };
    return new SharedTable();
  }

  toString(): string {
    return `SharedTable(${this.#released ? "released" : `${this.numRows} rows, ${this.#length} bytes`})`;
  }
}

function ipcOf(table: Table): Uint8Array {
  try {
    return tableToIPC(table, "stream");
  } catch (err) {
    throw new ArgumentError(`this table cannot be written in Arrow's IPC format (${(err as Error).message})`, "ERR_UNSUPPORTED_TABLE", err);
  }
}

registerHandleType("SharedTable", (state) => SharedTable.fromHandle(state as SharedTableState));

// ---- plain apache-arrow Tables in messages (handle type "ArrowTable") ----
// Over a socket a Table travels as its IPC bytes (the receiver's Table reads its own copy). On this
// machine it travels as a SharedTable's segment: the receiver's Table reads the shared bytes in
// place. The segment is made at each send, or once per Table while it is pinned (table-policy.ts).

const pinned = new WeakMap<Table, SharedTable>();
const pinnedRefs = new Set<WeakRef<Table>>();

function keep(table: Table, shared: SharedTable): void {
  for (const ref of pinnedRefs) if (ref.deref() === undefined) pinnedRefs.delete(ref);
  pinned.set(table, shared);
  pinnedRefs.add(new WeakRef(table));
}

function unpin(table: Table): void {
  const shared = pinned.get(table);
  if (shared === undefined) return;
  pinned.delete(table);
  shared.release();
}

setPins({
  drop(value) {
    if (value instanceof Table) unpin(value);
    else if (value instanceof SharedTable) value.release();
  },
  unpinAll() {
    for (const ref of pinnedRefs) {
      const table = ref.deref();
      if (table !== undefined) unpin(table);
    }
    pinnedRefs.clear();
  },
});

function reduceTable(value: object, transport: Transport): Reduced {
  if (!(value instanceof Table)) {
    throw new ArgumentError("this Table comes from another copy of apache-arrow than the one multiproc loads; it cannot be sent", ErrorCodes.UNSERIALIZABLE);
  }
  let kept = pinned.get(value);
  if (kept?.released === true) {
    pinned.delete(value);
    kept = undefined;
  }
  if (transport === "socket") return { type: "ArrowTable", state: kept === undefined ? { ipc: ipcOf(value) } : kept[kReduce]("socket").state };
  if (kept === undefined && tablePolicy.pin) {
    kept = SharedTable.from(value);
    keep(value, kept);
  }
  if (kept !== undefined) return { type: "ArrowTable", state: kept[kReduce](transport).state };
  // A segment for this message only: the hand-over's reference outlives ours.
  const once = SharedTable.from(value);
  const state = once[kReduce](transport).state;
  once.release();
  return { type: "ArrowTable", state };
}

setForeignReducer("ArrowTable", (value) => value instanceof Table, reduceTable);

registerHandleType("ArrowTable", (raw) => {
  const state = raw as SharedTableState;
  if ("ipc" in state) return tableFromIPC(state.ipc);
  const shared = SharedTable.fromHandle(state);
  const table = shared.table;
  // The Table keeps the memory mapped; the segment's name is needed only to hand it on.
  if (tablePolicy.retain) keep(table, shared);
  else shared.release();
  return table;
});
