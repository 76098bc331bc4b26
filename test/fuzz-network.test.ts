// Fuzzing and authentication attacks over real sockets, short: a Listener and a manager server,
// each in a child process, get damaged messages from an authenticated client and every attack
// (wrong keys, truncated and replayed answers, oversized frames before authentication, garbage,
// slow loris, connections dropped), while a well-behaved client keeps being served. `npm run
// chaos` runs the same at full scale. FUZZ_SEED=n replays the random seed.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Client, ErrorCodes, Listener, type RemoteError } from "multiproc";
import { MathsManager } from "./fixtures/manager-types.js";
import type { FuzzResult } from "../chaos/fuzz/common.js";
import { fuzzManagerLink } from "../chaos/fuzz/link.js";
import { fuzzListener } from "../chaos/fuzz/listener.js";
import { fuzzManagerServer } from "../chaos/fuzz/manager.js";
import { fuzzPickleServer } from "../chaos/fuzz/pickle.js";

const FIXED_SEED = 20261123;
const RANDOM_SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

function noFailures(r: FuzzResult, seed: number): void {
  const bad = r.mustBeZero.filter((k) => (r.figures[k] ?? 0) !== 0).map((k) => `${k} = ${r.figures[k]}`);
  assert.deepEqual(bad, [], `${r.name} (FUZZ_SEED=${seed}): ${bad.join(", ")}\n${r.notes.join("\n")}`);
}

describe("fuzzing and attacks over sockets (short)", () => {
  test(`a Listener in a child process, seed ${FIXED_SEED}`, async () => {
    const r = await fuzzListener({ seed: FIXED_SEED, scale: 0.01 });
    noFailures(r, FIXED_SEED);
    assert.ok(r.figures["listener.messagesRefused"]! > 0);
    assert.ok(r.figures["listener.goodCalls"]! > 0);
    for (const a of ["wrongKey.refused", "truncated.refused", "replay.refused", "oversized.refused", "slowLoris.timedOut"]) {
      assert.ok(r.figures[`listener.${a}`]! > 0, a);
    }
    assert.equal(r.figures["listener.replay.controlWelcomed"], r.figures["listener.replay.refused"], "a recorded answer is good on its own connection");
  });

  test(`a manager server through local clients' shared-memory links, seed ${RANDOM_SEED}`, async () => {
    const r = await fuzzManagerLink({ seed: RANDOM_SEED, scale: 0.02 });
    noFailures(r, RANDOM_SEED);
    assert.ok(r.figures["link.clientsDropped"]! > 0, "damaged requests get their client dropped");
    assert.ok(r.figures["link.probesAnswered"]! > 0, "well-formed ones are answered through the link");
    assert.ok(r.figures["link.goodCalls"]! > 0);
  });

  test(`a manager server in a child process, seed ${RANDOM_SEED}`, async () => {
    const r = await fuzzManagerServer({ seed: RANDOM_SEED, scale: 0.01 });
    noFailures(r, RANDOM_SEED);
    assert.ok(r.figures["manager.requestsDropped"]! > 0);
    assert.ok(r.figures["manager.requestsAnswered"]! > 0);
    assert.ok(r.figures["manager.goodCalls"]! > 0);
    for (const a of ["wrongKey.refused", "replay.refused", "oversized.refused", "slowLoris.timedOut"]) assert.ok(r.figures[`manager.${a}`]! > 0, a);
  });
});

describe("fuzzing a manager server with serializer pickle (short)", () => {
  test(`damaged pickles from 4 connections, each answered, seed ${RANDOM_SEED}`, async () => {
    const r = await fuzzPickleServer({ seed: RANDOM_SEED, scale: 0.01 });
    noFailures(r, RANDOM_SEED);
    assert.ok(r.figures["pickleServer.requestsAnswered"]! > 0);
    assert.ok(r.figures["pickleServer.goodCalls"]! > 0);
    for (const a of ["wrongKey.refused", "replay.refused", "oversized.refused"]) assert.ok(r.figures[`pickleServer.${a}`]! > 0, a);
  });
});

describe("regressions found by the attacks", () => {
  test("a Listener nobody accepts from keeps a bounded number of failed handshakes", async () => {
    await using listener = new Listener(["127.0.0.1", 0], { authkey: "k", maxPendingHandshakes: 4 });
    await listener.ready;
    // 40 clients with a wrong key, one after the other: each has heard FAILURE, so the listener
    // has settled its handshake, before the next one starts.
    for (let i = 0; i < 40; i++) await assert.rejects(Client(listener.address, { authkey: "wrong" }), { code: ErrorCodes.AUTHENTICATION });
    const good = Client(listener.address, { authkey: "k" });
    // accept() reports the failures it kept (at most 4), then hands over the good client.
    let reported = 0;
    for (;;) {
      try {
        const conn = await listener.accept();
        conn.close();
        break;
      } catch (err) {
        assert.equal((err as { code?: string }).code, ErrorCodes.AUTHENTICATION);
        reported++;
      }
    }
    (await good).close();
    assert.equal(reported, 4);
  });

  test("a manager object without an exposed list does not expose constructor or Object.prototype's methods", async () => {
    await using m = new MathsManager();
    await m.start();
    const maths = await m.create("Maths");
    assert.equal(await maths._callMethod("add", [2, 3]), 5);
    for (const method of ["constructor", "toString", "hasOwnProperty", "valueOf"]) {
      await assert.rejects(maths._callMethod(method, []), (err: RemoteError) => (err.cause as { code?: string }).code === ErrorCodes.NOT_EXPOSED);
    }
  });
});
