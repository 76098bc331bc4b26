// Shared by the seed 000 examples.
import type { Table } from "apache-arrow";

/** Prints a table the way pandas prints a small DataFrame (an index column, right-aligned). */
export function formatTable(table: Table): string {
  const names = table.schema.fields.map((f) => f.name);
  const rows = table.toArray().map((row: Record<string, unknown>, i: number) => [String(i), ...names.map((n) => String(row[n]))]);
  const header = ["", ...names];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r: string[]) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padStart(widths[c]!)).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}
