// What a "process" child inherits of the parent's Node flags (process.execArgv). A child runs its
// target and nothing else (SPEC "Program lifetime"), so flags that carry the parent's own program
// or run mode are dropped: with them, a child of `node -e "<program>"` ran that program again
// instead of its target, and so did each of its children (issue #14: a load of 3,000 in ten
// minutes). Everything that shapes how code loads and runs (loaders, --import, --require,
// --conditions, --experimental-*, V8 and memory flags) is kept, so tsx and friends apply there too.
//
// | class                 | flags                                              | child gets       |
// |-----------------------|----------------------------------------------------|------------------|
// | the parent's program  | -e --eval -p --print -pe -i --interactive -c       | nothing          |
// |                       | --check --input-type --run                         |                  |
// | run modes             | --test --test-* --experimental-test-* --watch      | nothing          |
// |                       | --watch-* (incl. --watch-path, --watch-preserve-…) |                  |
// | inspector             | --inspect --inspect-brk --inspect-wait [=host:port]| --inspect=[host:]0 |
// |                       | --inspect-port --debug-port                        | nothing          |
// | everything else       | --import -r --require --loader -C --conditions     | the same         |
// |                       | --experimental-* --max-old-space-size, ...         |                  |
//
// Inspector: node:cluster gives each worker the next port after the parent's; we ask for port 0,
// which the kernel makes a free one (the child prints its ws:// URL on stderr, as any inspected
// Node does), so two children or two programs never collide. A child never waits for a debugger
// (--inspect-brk / --inspect-wait become --inspect): spares are launched ahead of time and would
// block before their first task.

/** Flags whose value is always the next element when not given with `=`. */
const TAKES_VALUE = new Set([
  "-e", "--eval", "-p", "--print", "-pe", "-r", "--require", "--import", "--loader",
  "--experimental-loader", "-C", "--conditions", "--input-type", "--inspect-port", "--debug-port",
  "--test-reporter", "--test-reporter-destination", "--test-name-pattern", "--test-skip-pattern",
  "--test-concurrency", "--test-timeout", "--test-shard", "--watch-path", "--run", "--env-file",
  "--title", "--disable-warning", "--redirect-warnings",
]);

const PROGRAM = new Set(["-e", "--eval", "-p", "--print", "-pe", "-i", "--interactive", "-c", "--check", "--input-type", "--run"]);
const INSPECT = new Set(["--inspect", "--inspect-brk", "--inspect-wait"]);
const INSPECT_PORT = new Set(["--inspect-port", "--debug-port"]);

export type FlagClass = "program" | "run-mode" | "inspector" | "inherited";

/** The class of a flag (its name, without `=value`). */
export function flagClass(name: string): FlagClass {
  if (PROGRAM.has(name)) return "program";
  if (/^--(experimental-)?test(-|$)/.test(name) || /^--watch(-|$)/.test(name)) return "run-mode";
  if (INSPECT.has(name) || INSPECT_PORT.has(name)) return "inspector";
  return "inherited";
}

/** The host of `--inspect=[host:]port` (undefined when only a port or nothing was given). */
function inspectHost(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const colon = value.lastIndexOf(":");
  if (colon > 0) return value.slice(0, colon);
  return /^\d+$/.test(value) ? undefined : value;
}

/**
 * The flags a child process starts with, from the parent's `execArgv` (see the table above).
 * `thread` leaves out inspector flags: a worker thread is debugged through its parent's inspector.
 */
export function childExecArgv(execArgv: readonly string[] = process.execArgv, thread = false): string[] {
  const out: string[] = [];
  let inspect: { host: string | undefined } | undefined;
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    let value = eq > 0 ? arg.slice(eq + 1) : undefined;
    const parts = [arg];
    // A flag given as two elements: a known value-taking flag, or any value that is not a flag
    // (execArgv holds only options and their values, never the script).
    if (value === undefined && i + 1 < execArgv.length) {
      const next = execArgv[i + 1]!;
      if (TAKES_VALUE.has(name) || (!next.startsWith("-") && !INSPECT.has(name))) {
        value = next;
        parts.push(next);
        i++;
      }
    }
    switch (flagClass(name)) {
      case "program":
      case "run-mode":
        break;
      case "inspector":
        if (INSPECT.has(name)) inspect = { host: inspectHost(value) ?? inspect?.host };
        break;
      case "inherited":
        out.push(...parts);
    }
  }
  if (inspect !== undefined && !thread) out.push(`--inspect=${inspect.host === undefined ? "" : `${inspect.host}:`}0`);
  return out;
}

/**
 * The execArgv option of a thread child's Worker: undefined (inherit the parent's, as Node does by
 * default) unless the parent's flags carry its program or run mode, which a Worker refuses
 * (`--input-type` without `-e` fails its start with ERR_INPUT_TYPE_NOT_ALLOWED) or would act on.
 * A Worker also refuses process-wide flags in an explicit list (ERR_WORKER_INVALID_EXEC_ARGV:
 * --max-old-space-size, --title, ...); `invalid` are the ones it refused, left out on a retry.
 */
export function threadExecArgv(invalid: ReadonlySet<string> = new Set(), execArgv: readonly string[] = process.execArgv): string[] | undefined {
  const kept = childExecArgv(execArgv, true);
  if (kept.length === execArgv.length && kept.every((a, i) => a === execArgv[i])) return undefined;
  return kept.filter((a) => !invalid.has(a));
}

/** The flags named by a Worker's ERR_WORKER_INVALID_EXEC_ARGV ("... invalid execArgv flags: a, b"). */
export function invalidFlags(err: unknown): Set<string> | undefined {
  if ((err as { code?: unknown } | null)?.code !== "ERR_WORKER_INVALID_EXEC_ARGV") return undefined;
  const list = /flags: (.*)$/.exec((err as Error).message)?.[1];
  return list === undefined ? undefined : new Set(list.split(", "));
}
