// docs/errors.md documents every error code a user can meet (issue #17, point 4): each code of the
// table in src/errors.ts, and each "ERR_..." code written anywhere in src/ or in the addon's
// sources, has an entry there; so a code added later cannot go undocumented. Every error's message
// names its entry, once, including errors that come back from another process.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ErrorCodes, Manager, Queue, SharedMemory } from "multiproc";
import { ROOT } from "./helpers.js";

/** The codes docs/errors.md has an entry for: its "### ERR_..." headings. */
function documentedCodes(): Set<string> {
  const text = readFileSync(join(ROOT, "docs/errors.md"), "utf8");
  return new Set([...text.matchAll(/^###\s+(ERR_[A-Z0-9_]+)\s*$/gm)].map((m) => m[1] ?? ""));
}

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(ROOT, dir, f));
}

/** Codes Node itself throws, which reach users only through messages we print (the CLI's usage). */
const NODE_OWN = /^ERR_PARSE_ARGS/;

test("every code of the table in src/errors.ts has an entry in docs/errors.md", () => {
  const documented = documentedCodes();
  const missing = Object.values(ErrorCodes).filter((code) => !documented.has(code));
  assert.deepEqual(missing, [], `add a "### CODE" entry (cause, fix) to docs/errors.md for: ${missing.join(", ")}`);
});

test("every ERR_ code written in src/ or native/src has an entry in docs/errors.md", () => {
  const documented = documentedCodes();
  const sources = [...filesUnder("src", ".ts"), ...filesUnder("native/src", ".cc"), ...filesUnder("native/src", ".h")];
  const missing = new Set<string>();
  for (const file of sources) {
    for (const m of readFileSync(file, "utf8").matchAll(/["'`](ERR_[A-Z0-9_]+)["'`]/g)) {
      const code = m[1] ?? "";
      // A prefix ("ERR_SHM_" in a startsWith) is not a code.
      if (!documented.has(code) && !NODE_OWN.test(code) && !code.endsWith("_")) missing.add(`${code} (${file.slice(ROOT.length)})`);
    }
  }
  assert.deepEqual([...missing], [], "add these codes to docs/errors.md");
});

const reference = (code: string) => `(see docs/errors.md#${code.toLowerCase()})`;

test("an error's message ends with its entry in docs/errors.md, and that entry exists", () => {
  const documented = documentedCodes();
  const q = new Queue<number>();
  try {
    assert.throws(() => q.getNowait(), (err: Error & { code: string }) => {
      assert.equal(err.code, ErrorCodes.EMPTY);
      assert.ok(err.message.endsWith(` ${reference(err.code)}`), err.message);
      return documented.has(err.code);
    });
  } finally {
    q.close();
  }
  // A code that comes from the native addon, wrapped on its way up.
  assert.throws(() => new SharedMemory({ name: `docs_missing_${process.pid}` }), (err: Error & { code: string }) => {
    assert.equal(err.code, "ERR_SHM_NOT_FOUND");
    assert.ok(err.message.endsWith(reference(err.code)), err.message);
    return true;
  });
});

test("an error raised in a manager's server process names its entry once in the client", { timeout: 60_000 }, async () => {
  await using manager = await Manager();
  const d = await manager.dict<string, number>();
  await assert.rejects(d.pop("missing"), (err: Error & { code: string; cause: { code: string } }) => {
    // A RemoteError quoting the server's KeyError: the reference is the precise one, the cause's.
    assert.equal(err.code, ErrorCodes.REMOTE);
    assert.equal(err.cause.code, ErrorCodes.KEY_NOT_FOUND);
    assert.ok(err.message.endsWith(reference(ErrorCodes.KEY_NOT_FOUND)), err.message);
    assert.equal(err.message.split("docs/errors.md#").length, 2, `the reference appears once: ${err.message}`);
    return true;
  });
});
