// The resource tracker process. It reads registration lines from stdin (the pipe every process
// of the program holds) and, at EOF, unlinks every segment still registered. It ignores SIGINT
// and SIGTERM so that a Ctrl+C aimed at the program cannot stop the clean-up.
import { createInterface } from "node:readline";
import { native } from "../../native/binding.js";

process.on("SIGINT", () => undefined);
process.on("SIGTERM", () => undefined);

const registered = new Set<string>();
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });

lines.on("line", (line) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[1] !== "string") return;
  const [op, name] = parsed as [unknown, string];
  if (op === "REG") registered.add(name);
  else if (op === "UNREG") registered.delete(name);
});

lines.on("close", () => {
  const binding = native();
  for (const name of registered) {
    try {
      binding?.shmUnlink(name);
    } catch {
      // Already unlinked by someone else: nothing to do.
    }
  }
  process.exit(0);
});
