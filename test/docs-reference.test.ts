// The API reference (typedoc.json) documents src/reference/*.ts, which export the real classes
// under the names the published entries give as lazy stand-ins (lazy-api.ts, issue #15.3). A
// name added to an entry and not to its reference module would be missing from (or shown as a
// bare variable in) the reference: both must give the same names, and the reference's values are
// the very classes a user gets once the stand-in has loaded.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { ROOT } from "./helpers.js";

const pairs: [entry: string, reference: string][] = [
  ["dist/index.js", "dist/reference/index.js"],
  ["dist/entry/managers.js", "dist/reference/managers.js"],
  ["dist/entry/connection.js", "dist/reference/connection.js"],
  ["dist/entry/shared-memory.js", "dist/reference/shared-memory.js"],
  ["dist/entry/cluster.js", "dist/reference/cluster.js"],
];

const load = (file: string) => import(pathToFileURL(join(ROOT, file)).href) as Promise<Record<string, unknown>>;

for (const [entry, reference] of pairs) {
  test(`${reference} exports exactly the names of ${entry}`, async () => {
    const [e, r] = await Promise.all([load(entry), load(reference)]);
    assert.deepEqual(Object.keys(r).sort(), Object.keys(e).sort());
  });
}

test("a stand-in of the root and the reference's class make the same instances", async () => {
  const [root, ref] = await Promise.all([load("dist/index.js"), load("dist/reference/index.js")]);
  const Ctor = root.Lock as new () => { release(): void; acquireSync(): boolean };
  const RealLock = ref.Lock as abstract new () => unknown;
  const lock = new Ctor();
  assert.ok(lock instanceof RealLock, "a Lock made through the root is an instance of the documented class");
  assert.equal(lock.acquireSync(), true);
  lock.release();
});
