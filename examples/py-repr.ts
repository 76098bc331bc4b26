// Prints values the way Python's repr() shows them, so the examples print what the seeds print:
// null -> None, strings quoted with '', Maps as {k: v}, arrays as [a, b].
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (typeof value === "string") return `'${value}'`;
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (value instanceof Map) return `{${[...(value as Map<unknown, unknown>)].map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(", ")}}`;
  if (typeof value === "object") return `{${Object.entries(value).map(([k, v]) => `'${k}': ${pyRepr(v)}`).join(", ")}}`;
  return typeof value === "symbol" ? value.toString() : "<function>";
}
