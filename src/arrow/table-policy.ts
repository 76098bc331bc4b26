// How apache-arrow Tables travel, without importing apache-arrow (it is optional and slow to load):
// a duck-typed test for Tables, and the switches a manager server sets around its own (synchronous)
// serialisation. shared-table.ts does the work once it is loaded.
//
// - `pin`: a Table sent with the "bytes" transport is placed in shared memory once and kept there
//   for as long as this process holds the Table (until dropTable, or the Table is collected), so
//   every later hand-out of the same Table maps the same segment. Without it each hand-out makes a
//   segment of its own that only the receiver uses.
// - `retain`: a Table received through shared memory keeps its segment's name alive (it is pinned
//   here) so that handing it on costs no copy either. Without it the receiver drops the name at
//   once: its Table keeps the memory mapped, and /dev/shm loses the entry.

export const tablePolicy = { pin: false, retain: false };

/** apache-arrow's Table, recognised without importing it (the constructor's name and its fields). */
export function isArrowTableLike(value: object): boolean {
  const v = value as { constructor?: { name?: unknown }; batches?: unknown; schema?: unknown };
  return v.constructor?.name === "Table" && Array.isArray(v.batches) && typeof v.schema === "object" && v.schema !== null;
}

interface Pins {
  /** Unpins a Table, releases a SharedTable; anything else is left alone. */
  drop(value: object): void;
  unpinAll(): void;
}
let pins: Pins | undefined;

/** Called by shared-table.ts when it loads. */
export function setPins(p: Pins): void {
  pins = p;
}

/**
 * A value leaves its holder (a manager Namespace attribute replaced or deleted): frees the shared
 * copy kept for it if it is a pinned Table, and releases it if it is a SharedTable.
 */
export function dropTable(value: unknown): void {
  if (pins !== undefined && typeof value === "object" && value !== null) pins.drop(value);
}

/** Frees every shared copy this process keeps (a manager server that stops). */
export function unpinAllTables(): void {
  pins?.unpinAll();
}
