#!/usr/bin/env node
// The multiproc command. One subcommand for now:
//   multiproc manager serve --address HOST:PORT --authkey-env NAME --module ./file.js [--manager Name]
// imports the module, takes the BaseManager subclass it exports (the one named by --manager when
// it exports several), and serves that manager's typeids in this process until SIGINT/SIGTERM or a
// client's shutdown request: seed 000's DataServer as one command.
//   multiproc worker --connection redis://HOST:PORT [--concurrency N] ...
// runs a ClusterPool worker node (worker.ts) until SIGINT/SIGTERM.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { BaseManager } from "../managers/base-manager.js";
import { ArgumentError } from "../errors.js";
import { WORKER_USAGE, workerCommand } from "./worker.js";
import type { Address } from "../connection/listener.js";

const USAGE = `usage: multiproc manager serve --address HOST:PORT|PATH --authkey-env NAME --module FILE [--manager NAME]

  --address      where to listen: HOST:PORT (TCP; port 0 picks one) or a Unix socket path
  --authkey-env  the environment variable holding the shared key (never pass keys as arguments)
  --module       an ES module that exports a BaseManager subclass with its typeids registered
  --manager      which exported manager class to serve, when the module exports several
  --allow-legacy-auth false   refuse CPython <= 3.11's HMAC-MD5 handshake`;

class UsageError extends Error {}

export function parseAddress(text: string): Address {
  if (text.includes("/")) return text;
  const colon = text.lastIndexOf(":");
  const port = Number(text.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--address must be HOST:PORT or a socket path, got '${text}'`);
  }
  const host = text.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return [host === "" ? "0.0.0.0" : host, port];
}

async function managerClass(modulePath: string, name: string | undefined): Promise<typeof BaseManager> {
  const ns = (await import(pathToFileURL(resolve(modulePath)).href)) as Record<string, unknown>;
  const found = Object.entries(ns).filter(
    (e): e is [string, typeof BaseManager] => typeof e[1] === "function" && e[1].prototype instanceof BaseManager,
  );
  if (name !== undefined) {
    const hit = found.find(([key, cls]) => key === name || cls.name === name);
    if (hit === undefined) throw new UsageError(`${modulePath} exports no manager class named '${name}' (found: ${found.map((f) => f[0]).join(", ") || "none"})`);
    return hit[1];
  }
  const unique = [...new Set(found.map((f) => f[1]))];
  if (unique.length === 1) return unique[0]!;
  if (unique.length === 0) throw new UsageError(`${modulePath} exports no BaseManager subclass: export the class you registered typeids on`);
  throw new UsageError(`${modulePath} exports several manager classes (${found.map((f) => f[0]).join(", ")}): pick one with --manager`);
}

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      address: { type: "string" },
      "authkey-env": { type: "string" },
      module: { type: "string" },
      manager: { type: "string" },
      "allow-legacy-auth": { type: "string" },
    },
    strict: true,
  });
  if (values.address === undefined || values.module === undefined || values["authkey-env"] === undefined) {
    throw new UsageError("--address, --authkey-env and --module are required");
  }
  const key = process.env[values["authkey-env"]];
  if (key === undefined || key === "") throw new UsageError(`the environment variable ${values["authkey-env"]} is not set`);
  const address = parseAddress(values.address);
  const Cls = await managerClass(values.module, values.manager);
  const manager = new Cls({ address, authkey: key, allowLegacyAuth: values["allow-legacy-auth"] !== "false" });
  const server = manager.getServer();
  const bound = await server.listen();
  const where = typeof bound === "string" ? bound : `${bound[0]}:${bound[1]}`;
  console.log(`serving ${Cls.name} (${Cls.typeids().join(", ")}) at ${where}; Ctrl+C to stop`);
  const stop = () => server.stop();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await server.serveForever();
}

const HELP = new Set(["--help", "-h"]);

/** The package's version, from its package.json (two levels above dist/cli/). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
  return String(pkg.version);
}

async function main(argv: string[]): Promise<number> {
  // --help on any command prints that command's usage; --version the package's (issue #14).
  if (argv[0] === "--version" || argv[0] === "-V") {
    console.log(version());
    return 0;
  }
  if (argv.some((a) => HELP.has(a)) || argv[0] === "help") {
    const command = argv[0] === "help" ? argv[1] : argv[0];
    console.log(command === "manager" ? USAGE : command === "worker" ? WORKER_USAGE : `${USAGE}\n\n${WORKER_USAGE}\n\n  multiproc --version   the package's version`);
    return 0;
  }
  if (argv[0] === "manager" && argv[1] === "serve") {
    await serve(argv.slice(2));
    return 0;
  }
  if (argv[0] === "worker") return workerCommand(argv.slice(1));
  if (argv.length === 0) {
    console.log(`${USAGE}\n\n${WORKER_USAGE}`);
    return 0;
  }
  throw new UsageError(`unknown command: ${argv.join(" ")}`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof ArgumentError || (err instanceof TypeError && (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS"))) {
      console.error(`multiproc: ${err.message}\n\n${process.argv[2] === "worker" ? WORKER_USAGE : USAGE}`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  },
);
