// SharedMemory: creating, attaching by name, CPython's errors, children writing into a parent's
// segment under both contexts, and ownership: a SIGKILLed creator's segments are unlinked by the
// resource tracker, while a program that only attached never unlinks.
import assert from "node:assert/strict";
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { existsSync } from "node:fs";
import type { Readable } from "node:stream";
import { describe, test } from "node:test";
import { ErrorCodes, getContext, SharedMemory, ShareableList, SharedMemoryError } from "multiproc";
import * as subpath from "multiproc/shared-memory";
import { CONTEXTS, eventually, fixture } from "./helpers.js";
import { attachAndWrite, writeInto } from "./fixtures/shared-memory.js";

const PREFIX = process.env.MULTIPROC_SHM_PREFIX ?? "";
let counter = 0;
/** A fresh explicit name that the leak check knows about. */
function freshName(): string {
  return `${PREFIX}shmtest_${process.pid}_${counter++}`;
}

function text(bytes: Uint8Array, length: number): string {
  return new TextDecoder().decode(bytes.slice(0, length));
}

describe("SharedMemory", () => {
  test("multiproc/shared-memory re-exports the same classes", () => {
    assert.equal(subpath.SharedMemory, SharedMemory);
    assert.equal(subpath.ShareableList, ShareableList);
    assert.equal(subpath.SharedMemoryError, SharedMemoryError);
  });

  test("create draws a CPython-style name, zero-filled, visible in /dev/shm", () => {
    const shm = new SharedMemory({ create: true, size: 10 });
    try {
      assert.match(shm.name, /psm_[0-9a-f]{8}$/);
      assert.ok(shm.name.startsWith(PREFIX));
      assert.equal(shm.size, 10);
      assert.equal(shm.buf.length, 10);
      assert.deepEqual([...shm.buf], new Array<number>(10).fill(0));
      assert.ok(existsSync(`/dev/shm/${shm.name}`));
      assert.equal(String(shm), `SharedMemory('${shm.name}', size=10)`);
    } finally {
      shm.close();
      shm.unlink();
    }
    assert.equal(existsSync(`/dev/shm/${shm.name}`), false);
  });

  test("seed 002: write through one instance, attach by name, read and write through the other", () => {
    const a = new SharedMemory({ create: true, size: 10 });
    try {
      a.buf.set([22, 33, 44, 55]);
      a.buf[4] = 100;
      const b = new SharedMemory(a.name);
      assert.equal(b.size, 10);
      assert.deepEqual([...new Int8Array(b.buf.buffer, 0, 5)], [22, 33, 44, 55, 100]);
      b.buf.set(new TextEncoder().encode("howdy"));
      assert.equal(text(a.buf, 5), "howdy");
      b.close();
      a.close();
    } finally {
      a.unlink();
    }
  });

  test("names work with or without the leading '/', as in CPython", () => {
    const name = freshName();
    const a = new SharedMemory({ name: `/${name}`, create: true, size: 8 });
    try {
      assert.equal(a.name, name);
      const b = new SharedMemory({ name });
      const c = new SharedMemory({ name: `/${name}` });
      b.buf[0] = 7;
      assert.equal(c.buf[0], 7);
      assert.equal(b.name, name);
      assert.ok(existsSync(`/dev/shm/${name}`));
    } finally {
      a.unlink();
    }
  });

  test("attaching with a smaller size maps the whole segment, like CPython; a larger one throws", () => {
    const a = new SharedMemory({ create: true, size: 100 });
    try {
      assert.equal(new SharedMemory({ name: a.name, size: 10 }).size, 100);
      assert.equal(new SharedMemory({ name: a.name, size: 0 }).size, 100);
      assert.throws(() => new SharedMemory({ name: a.name, size: 101 }), { code: ErrorCodes.OUT_OF_RANGE });
      assert.throws(() => new SharedMemory({ name: a.name, size: -1 }), { code: ErrorCodes.INVALID_ARG_VALUE });
    } finally {
      a.unlink();
    }
  });

  test("bad sizes on create throw at the call, naming size", () => {
    for (const size of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 60]) {
      assert.throws(() => new SharedMemory({ create: true, size }), { code: ErrorCodes.INVALID_ARG_VALUE, message: /size/ }, String(size));
    }
    for (const size of [undefined, "10", 10n, null]) {
      assert.throws(() => new SharedMemory({ create: true, size: size as unknown as number }), { code: ErrorCodes.INVALID_ARG_TYPE, message: /size/ });
    }
  });

  test("a duplicate name, a missing name, and no name without create", () => {
    const name = freshName();
    const a = new SharedMemory({ name, create: true, size: 16 });
    try {
      assert.throws(() => new SharedMemory({ name, create: true, size: 16 }), { code: ErrorCodes.SHM_EXISTS });
      assert.throws(() => new SharedMemory({ name: `/${name}`, create: true, size: 16 }), { code: ErrorCodes.SHM_EXISTS });
    } finally {
      a.unlink();
    }
    assert.throws(() => new SharedMemory({ name }), { code: ErrorCodes.SHM_NOT_FOUND });
    assert.throws(() => new SharedMemory(name), { code: ErrorCodes.SHM_NOT_FOUND });
    assert.throws(() => a.unlink(), { code: ErrorCodes.SHM_NOT_FOUND });
    assert.throws(() => new SharedMemory(), { code: ErrorCodes.INVALID_ARG_VALUE, message: /name/ });
    assert.throws(() => new SharedMemory({ size: 10 }), { code: ErrorCodes.INVALID_ARG_VALUE, message: /name/ });
  });

  test("names with NUL or '/' inside, empty or not strings, are refused with codes", () => {
    for (const name of ["a/b", "/a/b", "a\0b", "", "/", "x".repeat(300)]) {
      assert.throws(() => new SharedMemory({ name, create: true, size: 8 }), { code: ErrorCodes.INVALID_ARG_VALUE, message: /name/ }, JSON.stringify(name));
      assert.throws(() => new SharedMemory({ name }), { code: ErrorCodes.INVALID_ARG_VALUE, message: /name/ });
    }
    assert.throws(() => new SharedMemory({ name: 42 as unknown as string }), { code: ErrorCodes.INVALID_ARG_TYPE, message: /name/ });
    assert.throws(() => new SharedMemory({ create: "yes" as unknown as boolean, size: 8 }), { code: ErrorCodes.INVALID_ARG_TYPE, message: /create/ });
    assert.throws(() => new SharedMemory({ create: true, size: 8, track: 1 as unknown as boolean }), { code: ErrorCodes.INVALID_ARG_TYPE, message: /track/ });
    assert.throws(() => new SharedMemory(7 as unknown as string), { code: ErrorCodes.INVALID_ARG_TYPE });
  });

  test("use after close throws ERR_CLOSED; close twice and unlink after close are fine", () => {
    const shm = new SharedMemory({ create: true, size: 8 });
    const before = shm.buf;
    shm.close();
    shm.close();
    assert.equal(shm.closed, true);
    assert.throws(() => shm.buf, { code: ErrorCodes.CLOSED });
    assert.throws(() => shm.buffer, { code: ErrorCodes.CLOSED });
    before[0] = 1; // a view taken before close() stays valid (it keeps the mapping alive)
    assert.equal(before[0], 1);
    shm.unlink();
    assert.equal(existsSync(`/dev/shm/${shm.name}`), false);
  });

  test("a closed segment cannot be sent to a child", () => {
    const shm = new SharedMemory({ create: true, size: 8 });
    shm.close();
    try {
      const p = new (getContext("process").Process)({ target: writeInto, args: [shm, "x"] });
      assert.throws(() => p.start(), { code: ErrorCodes.CLOSED });
    } finally {
      shm.unlink();
    }
  });

  for (const kind of CONTEXTS) {
    const ctx = getContext(kind);
    describe(`children (${kind})`, () => {
      test("a child writes 'howdy' into a segment the parent created, and the parent reads it", async () => {
        const shm = new SharedMemory({ create: true, size: 64 });
        try {
          const p = new ctx.Process({ target: writeInto, args: [shm, "howdy"] });
          p.start();
          await p.join();
          assert.equal(p.exitCode, 0);
          assert.equal(text(shm.buf, 5), "howdy");
          assert.ok(existsSync(`/dev/shm/${shm.name}`), "the child must not unlink what it received");
        } finally {
          shm.unlink();
        }
      });

      test("a child attaches by name and writes; the segment outlives the child", async () => {
        const shm = new SharedMemory({ create: true, size: 64 });
        try {
          const p = new ctx.Process({ target: attachAndWrite, args: [shm.name, "HoWdY"] });
          p.start();
          await p.join();
          assert.equal(p.exitCode, 0);
          assert.equal(text(shm.buf, 5), "HoWdY");
          assert.ok(existsSync(`/dev/shm/${shm.name}`));
        } finally {
          shm.unlink();
        }
      });
    });
  }
});

type Program = ChildProcessByStdio<null, Readable, null>;

/** Starts a fixture program and resolves with its first stdout line that starts with `word`. */
function startProgram(name: string, args: string[], word: string, detached = false): Promise<[Program, string[]]> {
  const program = spawn(process.execPath, [fixture(name), ...args], { stdio: ["ignore", "pipe", "inherit"], detached });
  return new Promise((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => {
      program.kill("SIGKILL");
      reject(new Error(`${name} did not say '${word}' within 30 s: ${buffered}`));
    }, 30_000);
    program.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before saying '${word}': ${buffered}`));
    });
    program.stdout.on("data", (d: Buffer) => {
      buffered += d.toString();
      const line = buffered.split("\n").find((l) => l.startsWith(`${word} `));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve([program, line.split(" ").slice(1)]);
      }
    });
  });
}

function killed(program: Program): Promise<void> {
  return new Promise((resolve) => {
    if (program.exitCode !== null || program.signalCode !== null) return resolve();
    program.once("exit", () => resolve());
    program.kill("SIGKILL");
  });
}

test("SIGKILL of the creator's whole process group (a shell's job control, a timeout): the tracker still unlinks", async () => {
  // The program leads a group of its own, as a job started from a shell does; killing the group
  // must not take the resource tracker with it.
  const [creator, [shmName, listName]] = await startProgram("shm-creator.js", [], "created", true);
  assert.ok(shmName !== undefined && listName !== undefined && creator.pid !== undefined);
  const exited = new Promise((resolve) => creator.once("exit", resolve));
  process.kill(-creator.pid, "SIGKILL");
  await exited;
  assert.ok(
    await eventually(() => !existsSync(`/dev/shm/${shmName}`) && !existsSync(`/dev/shm/${listName}`), 5000),
    "the killed group's segments should be unlinked within a few seconds",
  );
});

test("SIGKILL of the creator: its segments are unlinked; a program that only attached never unlinks", async () => {
  const [creator, [shmName, listName]] = await startProgram("shm-creator.js", [], "created");
  assert.ok(shmName !== undefined && listName !== undefined);
  const [attacher, [ownName]] = await startProgram("shm-attacher.js", [shmName, listName], "ready");
  assert.ok(ownName !== undefined);
  const attached = new SharedMemory(shmName);
  try {
    assert.equal(text(attached.buf, 8), "attached");
    await killed(creator);
    assert.ok(
      await eventually(() => !existsSync(`/dev/shm/${shmName}`) && !existsSync(`/dev/shm/${listName}`), 5000),
      "the dead creator's segments should be unlinked within a few seconds",
    );
    // Our mapping (and the attacher's) still works after the unlink.
    attached.buf[0] = 65;
    assert.equal(attached.buf[0], 65);
  } finally {
    await killed(creator);
    await killed(attacher);
  }

  // The attacher only attached to segments this test owns: its death must not unlink them.
  const mine = new SharedMemory({ create: true, size: 64 });
  const list = new ShareableList(["x", 1]);
  try {
    const [second, [secondOwn]] = await startProgram("shm-attacher.js", [mine.name, list.shm.name], "ready");
    await killed(second);
    // Its own segment vanishing shows its tracker has finished; ours must still be there.
    assert.ok(await eventually(() => !existsSync(`/dev/shm/${secondOwn}`) && !existsSync(`/dev/shm/${ownName}`), 5000));
    assert.ok(existsSync(`/dev/shm/${mine.name}`), "a process that only attached must never unlink");
    assert.ok(existsSync(`/dev/shm/${list.shm.name}`), "a process that only opened a list must never unlink it");
    assert.equal(text(mine.buf, 8), "attached");
    assert.equal(list.get(0), "seen");
  } finally {
    mine.unlink();
    list.shm.unlink();
  }
});
