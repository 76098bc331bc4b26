// The `progress` option of map/imap: a bar on the terminal (cli-progress, loaded only when asked
// for) or the caller's own onProgress(done, total). Updates come once per finished chunk.
import { createRequire } from "node:module";
import { ArgumentError, ErrorCodes } from "../errors.js";
import { describe } from "../validate.js";

/**
 * `true` draws a bar on stderr when it is a terminal; a function is called as chunks finish.
 *
 * @example
 * ```ts
 * import { Pool } from "multiproc";
 * await using pool = new Pool(2);
 * await pool.map((x: number) => x, [1, 2, 3], { progress: true }); // a bar on stderr
 * ```
 */
export type ProgressOption = boolean | ((done: number, total: number | undefined) => void);

export interface Progress {
  update(done: number, total: number | undefined): void;
  stop(): void;
}

export function checkProgress(value: unknown): ProgressOption | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "boolean" || typeof value === "function") return value as ProgressOption;
  throw new ArgumentError(`progress must be a boolean or a function (done, total) => void, got ${describe(value)}`, ErrorCodes.INVALID_ARG_TYPE);
}

type CliProgress = typeof import("cli-progress");
let cli: CliProgress | undefined;

class Bar implements Progress {
  readonly #bar: InstanceType<CliProgress["SingleBar"]>;
  #started = false;

  constructor(label: string) {
    cli ??= createRequire(import.meta.url)("cli-progress") as CliProgress;
    this.#bar = new cli.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {value}/{total} | {duration_formatted}`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
      cli.Presets.shades_classic,
    );
  }

  update(done: number, total: number | undefined): void {
    // An input of unknown length shows what has been read so far as the total.
    const t = Math.max(total ?? done, done, 1);
    if (!this.#started) {
      this.#started = true;
      this.#bar.start(t, done);
      return;
    }
    this.#bar.setTotal(t);
    this.#bar.update(done);
  }

  stop(): void {
    if (this.#started) this.#bar.stop();
  }
}

/** A reporter for the option, or undefined when there is nothing to report to. */
export function makeProgress(option: ProgressOption | undefined, label: string): Progress | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return process.stderr.isTTY ? new Bar(label) : undefined;
  const callback = option;
  return { update: (done, total) => callback(done, total), stop: () => undefined };
}
