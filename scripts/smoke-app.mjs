// The program pack-smoke.mjs runs inside a fresh app that installed the packed tarball: what a new
// user does first, in both contexts. Prints "smoke ok <node version>" and exits 0, or throws.
//   node smoke-app.mjs            the full smoke (addon expected)
//   node smoke-app.mjs no-addon   thread context works, every process-context call rejects
import assert from "node:assert/strict";
import { isMainProcess, Manager, Pool, Process, Queue } from "multiproc";
import { SharedMemory } from "multiproc/shared-memory";

export function square(x) {
  return x * x;
}

export async function sendObjects(q, n) {
  for (let i = 0; i < n; i++) await q.put({ i, name: `item-${i}`, tags: ["a", i], nested: { ok: i % 2 === 0 } });
}

export function writeBytes(name) {
  const shm = new SharedMemory({ name });
  shm.buf.set([7, 8, 9], 0);
  shm.close();
}

async function full() {
  // A Pool of 2 processes.
  const pool = new Pool({ processes: 2 });
  assert.deepEqual(await pool.map(square, [1, 2, 3, 4, 5, 6, 7, 8]), [1, 4, 9, 16, 25, 36, 49, 64]);
  // Left open, as Python users do: the program must still end (SPEC "Program lifetime", issue #14).
  // Fresh workers per task: the library is loaded twice in each worker of a symlinked install.
  const fresh = new Pool({ processes: 1, maxTasksPerChild: 1 });
  for (let i = 0; i < 3; i++) assert.equal(await fresh.apply(square, [i]), i * i);
  fresh.close();
  await fresh.join();
  // A Queue of objects from a child process.
  const q = new Queue();
  const p = new Process({ target: sendObjects, args: [q, 5] });
  p.start();
  for (let i = 0; i < 5; i++) assert.deepEqual(await q.get({ timeout: 60_000 }), { i, name: `item-${i}`, tags: ["a", i], nested: { ok: i % 2 === 0 } });
  await p.join();
  assert.equal(p.exitCode, 0);
  q.close();
  // A Manager's dict.
  const manager = await Manager();
  const d = await manager.dict();
  await d.set("answer", 42);
  assert.equal(await d.get("answer"), 42);
  // Never shut down either: it dies with the program, as CPython's finalizer shuts managers down.
  // SharedMemory written by a child.
  const shm = new SharedMemory({ create: true, size: 16 });
  const w = new Process({ target: writeBytes, args: [shm.name] });
  w.start();
  await w.join();
  assert.deepEqual([...shm.buf.subarray(0, 3)], [7, 8, 9]);
  shm.close();
  shm.unlink();
}

async function noAddon() {
  const threads = new Pool({ processes: 2, context: "thread" });
  assert.deepEqual(await threads.map(square, [1, 2, 3]), [1, 4, 9]);
  await threads.terminate();
  const pool = new Pool({ processes: 2 });
  await assert.rejects(pool.map(square, [1, 2, 3]), { code: "ERR_NATIVE_UNAVAILABLE" });
  await assert.rejects(pool.apply(square, [2]), { code: "ERR_NATIVE_UNAVAILABLE" });
  await pool.terminate();
}

if (isMainProcess()) {
  await (process.argv[2] === "no-addon" ? noAddon() : full());
  console.log(`smoke ok ${process.version}${process.argv[2] ? ` ${process.argv[2]}` : ""}`);
}
