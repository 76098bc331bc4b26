// Without the addon, the synchronisation primitives and shared values still work between thread
// children (plain SharedArrayBuffers and V8's Atomics).
import assert from "node:assert/strict";
import { test } from "node:test";
import { fixture, runNode } from "./helpers.js";

test("Lock, Semaphore, Event, Condition, Barrier, Value and SharedArray work with no addon in the thread context", async () => {
  const r = await runNode(fixture("no-native-sync.js"), { env: { MULTIPROC_NO_NATIVE: "1" } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /kind=atomics value=10000 counter=10000 event=1 maxInside=[12] condition=1 barrier=50\/0\/true exits=0(,0){9}/);
});
