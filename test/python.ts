// A running CPython peer (test/fixtures/python/shm_peer.py) for the interop tests: one JSON
// command per line, one JSON answer per line, each answer awaited with a timeout so a stuck or
// dead peer fails the test instead of hanging it.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";
import type { ShareableItem } from "multiproc";
import { ROOT } from "./helpers.js";

/** Whether python3 can run here (the interop tests skip with this reason otherwise). */
export const PYTHON_MISSING: string | false = spawnSync("python3", ["--version"]).status === 0 ? false : "python3 is not installed";

/** A value as it travels to and from the peer: tagged so that nothing is lost to JSON. */
export type Tagged = null | { int: string } | { float: string } | { bool: boolean } | { str: string } | { bytes: string };

export interface Reply {
  ok: boolean;
  error?: string;
  message?: string;
  [key: string]: unknown;
}

/** How CPython will see a JS item: a safe integer is an int, any other number a float. */
export function toPython(item: ShareableItem): Tagged {
  switch (typeof item) {
    case "number":
      if (Number.isSafeInteger(item) && !Object.is(item, -0)) return { int: String(item) };
      return { float: floatHex(item) };
    case "bigint":
      return { int: item.toString() };
    case "boolean":
      return { bool: item };
    case "string":
      return { str: item };
    default:
      return item === null ? null : { bytes: Buffer.from(item).toString("hex") };
  }
}

/** What a Python value reads as here: ints as numbers when safe, bigints otherwise. */
export function fromPython(tagged: Tagged): ShareableItem {
  if (tagged === null) return null;
  if ("int" in tagged) {
    const n = BigInt(tagged.int);
    return Number.isSafeInteger(Number(n)) && BigInt(Number(n)) === n ? Number(n) : n;
  }
  if ("float" in tagged) return Buffer.from(tagged.float, "hex").readDoubleLE(0);
  if ("bool" in tagged) return tagged.bool;
  if ("str" in tagged) return tagged.str;
  return new Uint8Array(Buffer.from(tagged.bytes, "hex"));
}

function floatHex(value: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value);
  return b.toString("hex");
}

export class PythonPeer {
  readonly #child: ChildProcessWithoutNullStreams;
  #buffered = "";
  #stderr = "";
  readonly #waiting: ((line: string) => void)[] = [];

  constructor() {
    this.#child = spawn("python3", [join(ROOT, "test/fixtures/python/shm_peer.py")], { stdio: ["pipe", "pipe", "pipe"] });
    this.#child.stdout.on("data", (d: Buffer) => {
      this.#buffered += d.toString();
      let nl: number;
      while ((nl = this.#buffered.indexOf("\n")) >= 0) {
        const line = this.#buffered.slice(0, nl);
        this.#buffered = this.#buffered.slice(nl + 1);
        this.#waiting.shift()?.(line);
      }
    });
    this.#child.stderr.on("data", (d: Buffer) => (this.#stderr += d.toString()));
  }

  /** Sends one command; resolves with the peer's answer (ok or a Python error name and message). */
  request(command: Record<string, unknown>, timeout = 30_000): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`python peer did not answer ${JSON.stringify(command)} within ${timeout} ms\n${this.#stderr}`));
      }, timeout);
      const onExit = (): void => {
        clearTimeout(timer);
        reject(new Error(`python peer exited (${this.#child.exitCode}) before answering ${JSON.stringify(command)}\n${this.#stderr}`));
      };
      if (this.#child.exitCode !== null) return onExit();
      this.#child.once("exit", onExit);
      this.#waiting.push((line) => {
        clearTimeout(timer);
        this.#child.off("exit", onExit);
        resolve(JSON.parse(line) as Reply);
      });
      this.#child.stdin.write(JSON.stringify(command) + "\n");
    });
  }

  /** Like request, but throws unless the peer succeeded. */
  async call(command: Record<string, unknown>): Promise<Reply> {
    const reply = await this.request(command);
    if (!reply.ok) throw new Error(`python: ${reply.error}: ${reply.message} (for ${JSON.stringify(command)})`);
    return reply;
  }

  /** Ends the peer (EOF on its stdin) and waits for it to exit. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#child.exitCode !== null) return resolve();
      this.#child.once("exit", () => resolve());
      this.#child.stdin.end();
    });
  }
}
