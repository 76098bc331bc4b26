// A python3 process for the manager interop tests: its stdout read line by line, each wait bounded,
// and kill() to end it (always called in `finally`, so no Python child outlives a test).
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./helpers.js";

export interface Interpreter {
  name: string;
  command: string;
  env: NodeJS.ProcessEnv;
}

/** The CPython versions here: 3.11 (legacy handshake) and, when pyenv has it, 3.13 (sha256). */
export const INTERPRETERS: Interpreter[] = [
  { name: "python3", command: "python3", env: process.env },
  { name: "python3.13", command: "python3.13", env: { ...process.env, PYENV_VERSION: "3.13.0" } },
].filter((p) => spawnSync(p.command, ["--version"], { env: p.env }).status === 0);

export class PythonProcess {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: string[] = [];
  #buffered = "";
  #stderr = "";
  #wake: (() => void) | undefined;
  readonly exited: Promise<number | null>;

  constructor(py: Interpreter, script: string, args: string[]) {
    this.#child = spawn(py.command, [join(ROOT, "test/fixtures/python", script), ...args], { env: py.env, stdio: ["pipe", "pipe", "pipe"] });
    this.#child.stdout.on("data", (d: Buffer) => {
      this.#buffered += d.toString();
      let nl: number;
      while ((nl = this.#buffered.indexOf("\n")) >= 0) {
        this.#lines.push(this.#buffered.slice(0, nl));
        this.#buffered = this.#buffered.slice(nl + 1);
      }
      this.#wake?.();
    });
    this.#child.stderr.on("data", (d: Buffer) => (this.#stderr += d.toString()));
    this.exited = new Promise((resolve) => this.#child.once("exit", (code) => {
      this.#wake?.();
      resolve(code);
    }));
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** The next line of output (within `timeout` ms). */
  async line(timeout = 30_000): Promise<string> {
    const deadline = Date.now() + timeout;
    while (this.#lines.length === 0) {
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) throw new Error(`python exited (${this.#child.exitCode ?? this.#child.signalCode}) without the line awaited\n${this.#stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`python printed nothing within ${timeout} ms\n${this.#stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    return this.#lines.shift()!;
  }

  /** The next line as JSON. */
  async json(timeout?: number): Promise<Record<string, unknown>> {
    const line = await this.line(timeout);
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`python printed ${line}\n${this.#stderr}`);
    }
  }

  /** Waits for a clean exit (code 0) within `timeout` ms. */
  async success(timeout = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([this.exited, new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeout)))]);
    clearTimeout(timer);
    if (code !== 0) throw new Error(`python ended with ${String(code)}\n${this.#stderr}`);
  }

  /** SIGKILL (if still running) and wait for the exit. */
  async kill(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGKILL");
    await this.exited;
  }
}
