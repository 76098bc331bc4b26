// The multiproc command: `manager serve` serves the manager class a module exports, over TCP with
// the key from an environment variable; bad usage exits with 2 and says why.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { BaseManager } from "multiproc";
import { fixture, ROOT, runNode } from "./helpers.js";
import type { Maths } from "./fixtures/manager-types.js";

const CLI = join(ROOT, "dist/cli/multiproc.js");

test("manager serve: serves the module's manager until SIGTERM", async () => {
  const server = spawn(process.execPath, [CLI, "manager", "serve", "--address", "127.0.0.1:0", "--authkey-env", "MP_TEST_KEY", "--module", fixture("manager-types.js"), "--manager", "MathsManager"], {
    env: { ...process.env, MP_TEST_KEY: "cli key" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = (await once(createInterface({ input: server.stdout }), "line")) as [string];
  assert.match(line, /^serving MathsManager \(Maths, LimitedMaths\) at 127\.0\.0\.1:\d+/);
  const port = Number(/:(\d+);/.exec(line)![1]);
  class Client extends BaseManager {}
  Client.register("Maths");
  const m = new Client({ address: ["127.0.0.1", port], authkey: "cli key" });
  await m.connect();
  const maths = await m.create<Maths>("Maths");
  assert.equal(await maths.add(4, 3), 7);
  server.kill("SIGTERM");
  const [code] = (await once(server, "exit")) as [number];
  assert.equal(code, 0);
});

test("bad usage exits with 2 and names the problem", async () => {
  const several = await runNode(CLI, { args: ["manager", "serve", "--address", "127.0.0.1:0", "--authkey-env", "MP_TEST_KEY", "--module", fixture("manager-types.js")], env: { MP_TEST_KEY: "k" } });
  assert.equal(several.code, 2);
  assert.match(several.stderr, /several manager classes/);
  const noKey = await runNode(CLI, { args: ["manager", "serve", "--address", "127.0.0.1:0", "--authkey-env", "MP_UNSET_KEY", "--module", fixture("manager-types.js")] });
  assert.equal(noKey.code, 2);
  assert.match(noKey.stderr, /MP_UNSET_KEY is not set/);
  const badAddress = await runNode(CLI, { args: ["manager", "serve", "--address", "nowhere", "--authkey-env", "X", "--module", "x.js"], env: { X: "k" } });
  assert.equal(badAddress.code, 2);
  const unknown = await runNode(CLI, { args: ["frobnicate"] });
  assert.equal(unknown.code, 2);
});

test("--help on every command prints its usage and exits 0; --version prints the package's", async () => {
  for (const [args, usage] of [
    [["--help"], /multiproc manager serve[\s\S]*multiproc worker/],
    [["-h"], /multiproc manager serve/],
    [["help", "worker"], /^usage: multiproc worker/],
    [["manager", "--help"], /^usage: multiproc manager serve/],
    [["manager", "serve", "--help"], /^usage: multiproc manager serve/],
    [["worker", "--help"], /^usage: multiproc worker/],
  ] as const) {
    const r = await runNode(CLI, { args: [...args] });
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stdout, usage, args.join(" "));
  }
  const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
  const v = await runNode(CLI, { args: ["--version"] });
  assert.equal(v.code, 0);
  assert.equal(v.stdout.trim(), version);
});
