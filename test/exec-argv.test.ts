// What children inherit of the parent's Node flags (src/backends/exec-argv.ts, issue #14.2): a
// program given with -e/--eval/-p must not run again in its children, run modes (--test, --watch)
// stay in the parent, an inspector flag gets a free port, loaders and --import are kept.
// The real programs carry a guard: code that runs a second time prints RERUN and exits 3 at once
// (it never starts children), and each program runs in a process group killed at the end.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, test } from "node:test";
import { childExecArgv, flagClass, threadExecArgv } from "#internal/backends/exec-argv.js";
import { CONTEXTS, fixture, ROOT } from "./helpers.js";

describe("childExecArgv (each class of flag)", () => {
  test("the parent's program never reaches a child", () => {
    assert.deepEqual(childExecArgv(["-e", "code"]), []);
    assert.deepEqual(childExecArgv(["--eval=code"]), []);
    assert.deepEqual(childExecArgv(["--input-type=module", "--eval", "code"]), []);
    assert.deepEqual(childExecArgv(["-pe", "1+1"]), []);
    assert.deepEqual(childExecArgv(["-p", "-1"]), []);
    assert.deepEqual(childExecArgv(["-i"]), []);
    assert.deepEqual(childExecArgv(["--check"]), []);
  });

  test("run modes stay in the parent", () => {
    assert.deepEqual(childExecArgv(["--test", "--test-reporter", "spec", "--test-concurrency=2", "--experimental-test-coverage"]), []);
    assert.deepEqual(childExecArgv(["--watch", "--watch-path", "./src", "--watch-preserve-output"]), []);
    assert.equal(flagClass("--test-name-pattern"), "run-mode");
    assert.equal(flagClass("--watch-path"), "run-mode");
  });

  test("an inspector flag becomes a free port (its host kept); a child never waits for a debugger", () => {
    assert.deepEqual(childExecArgv(["--inspect"]), ["--inspect=0"]);
    assert.deepEqual(childExecArgv(["--inspect-brk=9229"]), ["--inspect=0"]);
    assert.deepEqual(childExecArgv(["--inspect-wait=0.0.0.0:9229"]), ["--inspect=0.0.0.0:0"]);
    assert.deepEqual(childExecArgv(["--inspect=127.0.0.1:9229", "--inspect-port=9300"]), ["--inspect=127.0.0.1:0"]);
    assert.deepEqual(childExecArgv(["--inspect"], true), [], "a thread is debugged through its parent");
  });

  test("loaders, --import, --require, --conditions, --experimental-* and V8 flags are kept", () => {
    const flags = ["--import", "tsx", "--require", "./r.cjs", "--loader=ts-node/esm", "-C", "dev", "--conditions=x",
      "--experimental-vm-modules", "--max-old-space-size=4096", "--enable-source-maps"];
    assert.deepEqual(childExecArgv(["-e", "code", ...flags, "--test"]), flags);
  });

  test("a Worker inherits the parent's flags by default unless they carry its program", () => {
    assert.equal(threadExecArgv(new Set(), ["--import", "tsx"]), undefined);
    assert.deepEqual(threadExecArgv(new Set(), ["--input-type=module", "-e", "x", "--import", "tsx"]), ["--import", "tsx"]);
    assert.deepEqual(threadExecArgv(new Set(["--max-old-space-size=64"]), ["-e", "x", "--max-old-space-size=64"]), []);
  });
});

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node ...args` in a process group of its own, killed (whatever is left of it) at the end. */
function runGroup(args: string[], timeout = 60_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const killGroup = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // The group is gone already.
      }
    };
    const timer = setTimeout(() => {
      killGroup();
      reject(new Error(`node ${args.slice(0, 3).join(" ")} did not finish within ${timeout} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeout);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      killGroup();
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * A program for the command line: a Process with an inline target and a Pool map, under `ctx`.
 * Written as CommonJS with import() so it runs under -e and --input-type=module -e alike.
 */
function program(ctx: string, print = false): string {
  const body = `
    const guard = "MULTIPROC_TEST_EVAL_RAN";
    if (process.env[guard] !== undefined) { console.log("RERUN"); process.exit(3); }
    process.env[guard] = "1";
    import("multiproc").then(async ({ getContext }) => {
      const ctx = getContext(${JSON.stringify(ctx)});
      const p = new ctx.Process({
        target: async (tag) => {
          const inspector = await import("node:inspector");
          console.log("child " + tag + " argv=" + JSON.stringify(process.execArgv) + " preloaded=" +
            (globalThis.__multiprocPreloaded === true) + " inspector=" + (inspector.url() ?? "none"));
        },
        args: ["ran"],
      });
      p.start();
      await p.join();
      const pool = new ctx.Pool({ processes: 2 });
      console.log("exit=" + p.exitCode + " map=" + JSON.stringify(await pool.map((x) => x * 2, [1, 2, 3])));
      await pool.terminate();
    });`;
  return print ? `(${JSON.stringify(body)}, eval(${JSON.stringify(body)}), "printed")` : body;
}

function check(r: Ran): string {
  assert.doesNotMatch(r.stdout, /RERUN/, `a child ran the command line's code again:\n${r.stdout}\n${r.stderr}`);
  assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^child ran /m, r.stderr);
  assert.match(r.stdout, /^exit=0 map=\[2,4,6\]$/m, r.stderr);
  return /^child ran argv=(\S*)/m.exec(r.stdout)![1]!;
}

for (const ctx of CONTEXTS) {
  describe(`command-line programs start children that run their target only (${ctx})`, () => {
    test("node -e", async () => {
      check(await runGroup(["-e", program(ctx)]));
    });

    test("node --input-type=module --eval=", async () => {
      check(await runGroup(["--input-type=module", `--eval=${program(ctx)}`]));
    });

    test("node -p", async () => {
      const r = await runGroup(["-p", program(ctx, true)]);
      check(r);
      assert.match(r.stdout, /^printed$/m);
    });

    test("node --import <preload> -e: the child runs under the same preload", async () => {
      const r = await runGroup(["--import", fixture("preload.js"), "-e", program(ctx)]);
      check(r);
      assert.match(r.stdout, /preloaded=true/);
    });
  });
}

test("node --inspect=<port> -e: a process child listens on a free port of its own, never the parent's", async () => {
  const port = 20_000 + Math.floor(Math.random() * 30_000);
  const r = await runGroup([`--inspect=127.0.0.1:${port}`, "-e", program("process")]);
  const argv = check(r);
  assert.deepEqual(JSON.parse(argv), ["--inspect=127.0.0.1:0"]);
  const url = /inspector=(\S+)/.exec(r.stdout)![1]!;
  assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+\//, "the child's inspector is listening");
  assert.doesNotMatch(url, new RegExp(`:${port}/`));
});

test("node --input-type=module -e: a target that needs its module says it cannot be imported from -e code", async () => {
  const code = `
    import { Process } from "multiproc";
    function helper(x) { return x + 1; }
    export function needsHelper(x) { console.log("helped " + helper(x)); }
    const p = new Process({ target: needsHelper, args: [1] });
    p.start();
    await p.join();
    console.log("exit=" + p.exitCode);`;
  const r = await runGroup(["--input-type=module", "-e", code]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^exit=1$/m);
  assert.match(r.stderr, /given to node -e\/--eval\/--print, which no other process can import/);
  assert.match(r.stderr, /helper is not defined/);
});
