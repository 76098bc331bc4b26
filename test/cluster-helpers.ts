// Helpers for the cluster tests: a private redis-server on a free loopback port (no persistence),
// and worker nodes started with the real CLI. Without redis-server the cluster tests skip with a
// message, except in CI (CI=true), where that is a failure: .ci/run installs it.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { createInterface } from "node:readline";
import { ROOT } from "./helpers.js";

// A test file that overruns its time limit is killed without running its clean-up: redis-server
// and the worker nodes it started would be orphaned (and hold the test runner open). util-linux's
// setpriv execs the command with a parent-death signal, so they die with the test file.
const SETPRIV = spawnSync("setpriv", ["--help"]).status === 0 ? "setpriv" : undefined;
function dieWithUs(command: string, args: string[]): [string, string[]] {
  return SETPRIV === undefined ? [command, args] : [SETPRIV, ["--pdeathsig", "KILL", command, ...args]];
}

export const CLI = join(ROOT, "dist/cli/multiproc.js");

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

const REDIS_SERVER = onPath("redis-server");
const REDIS_CLI = onPath("redis-cli");

/** Whether redis-server can be started here. */
export const hasRedisServer = REDIS_SERVER !== undefined;

/**
 * `describe`'s skip option for the cluster suites: a message when redis-server is missing outside
 * CI, false when it is there. In CI a missing redis-server throws, so the file fails loudly.
 */
export function skipWithoutRedis(): string | false {
  if (REDIS_SERVER !== undefined) return false;
  if (process.env.CI === "true") throw new Error("redis-server is not installed, and CI must run the cluster tests (.ci/run installs the redis-server package)");
  return "redis-server is not installed (apt-get install redis-server); the cluster tests are skipped";
}

/** A loopback port nobody listens on (at the moment of the call). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

/** Waits until `child` prints a line matching `pattern` (rejecting if it exits first or `ms` pass). */
export function waitForLine(child: ChildProcess, pattern: RegExp, ms = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    let seen = "";
    const done = (err: Error | undefined, line?: string) => {
      clearTimeout(timer);
      lines.close();
      child.off("exit", onExit);
      if (err !== undefined) reject(err);
      else resolve(line!);
    };
    const onExit = (code: number | null) => done(new Error(`exited (${code}) before printing ${pattern}; it printed:\n${seen}`));
    const timer = setTimeout(() => done(new Error(`no line matching ${pattern} within ${ms} ms; it printed:\n${seen}`)), ms);
    lines.on("line", (line) => {
      seen += `${line}\n`;
      if (pattern.test(line)) done(undefined, line);
    });
    child.once("exit", onExit);
  });
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM", ms = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  await exited;
  clearTimeout(timer);
}

export class RedisServer {
  #child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts redis-server on a free loopback port, without persistence. */
  static async start(): Promise<RedisServer> {
    for (let attempt = 1; ; attempt++) {
      const server = new RedisServer(await freePort());
      try {
        await server.restart();
        return server;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  }

  /** (Re)starts the server on its port, empty. */
  async restart(): Promise<void> {
    const child = spawn(...dieWithUs(REDIS_SERVER!, ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes"]), {
      stdio: ["ignore", "pipe", "inherit"],
    });
    this.#child = child;
    await waitForLine(child, /Ready to accept connections/, 20_000);
    child.stdout.resume();
  }

  /** Runs one command with redis-cli, synchronously (works while the caller's event loop is blocked). */
  cli(args: string[]): string {
    const r = spawnSync(REDIS_CLI ?? "redis-cli", ["-p", String(this.port), ...args], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`redis-cli ${args.join(" ")} failed: ${r.stderr || r.error?.message}`);
    return r.stdout;
  }

  /** Stops the server (SIGKILL when `hard`: no goodbye to the clients). */
  async stop(hard = false): Promise<void> {
    if (this.#child !== undefined) await stopChild(this.#child, hard ? "SIGKILL" : "SIGTERM");
    this.#child = undefined;
  }
}

export interface NodeOptions {
  concurrency?: number;
  queue?: string;
  name?: string;
  /** Short by default here, so a killed node's tasks move on within seconds. */
  lockDuration?: number;
  stalledInterval?: number;
}

/** A worker node process started with `multiproc worker`. */
export class NodeProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  static async start(url: string, options: NodeOptions = {}): Promise<NodeProcess> {
    const name = options.name ?? `node-${Math.random().toString(36).slice(2, 8)}`;
    const args = [
      CLI,
      "worker",
      "--connection",
      url,
      "--concurrency",
      String(options.concurrency ?? 1),
      "--root",
      ROOT,
      "--name",
      name,
      "--lock-duration",
      String(options.lockDuration ?? 4000),
      "--stalled-interval",
      String(options.stalledInterval ?? 1000),
    ];
    if (options.queue !== undefined) args.push("--queue", options.queue);
    const child = spawn(...dieWithUs(process.execPath, args), { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    await waitForLine(child, /serving queue/);
    child.stdout.resume();
    return new NodeProcess(child, name);
  }

  /** Resolves with the exit code (or -signal). */
  get exited(): Promise<number> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    if (this.child.signalCode !== null) return Promise.resolve(-1);
    return once(this.child, "exit").then(([code, signal]) => (code as number | null) ?? (signal === null ? 0 : -1));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(): void {
    this.child.kill("SIGKILL");
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }
}
