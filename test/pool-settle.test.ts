// { settle: true } on map, starmap, imap and imapUnordered (issue 16): one record per item, as
// Promise.allSettled gives them; a failing item (or a chunk whose worker died) stops nothing.
// And Pool.stats(): queued, running, completed, failed, utilization, waitTime and runTime.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getContext, RemoteError, WorkerLostError, type SettledResult, type TimeSummary } from "multiproc";
import { CONTEXTS } from "./helpers.js";
import { board, collect, range, release, setWord, untilWord } from "./pool-feature-helpers.js";
import { addOrFail, blockUntilGo, failOdd, failOddAsync, who } from "./fixtures/pool-features.js";
import { dieAt57 } from "./fixtures/pool-targets.js";

function checkRecords(records: SettledResult<number>[], n: number): void {
  assert.equal(records.length, n);
  records.forEach((r, i) => {
    if (i % 2 === 0) {
      assert.deepEqual(r, { status: "fulfilled", value: i });
    } else {
      assert.equal(r.status, "rejected");
      const reason = (r as { reason: RangeError & { code?: string } }).reason;
      assert.ok(reason instanceof RangeError, String(reason));
      assert.equal(reason.message, `odd ${i}`);
      assert.equal(reason.code, "E_ODD");
      assert.ok(reason.cause instanceof RemoteError);
    }
  });
}

function checkSummary(s: TimeSummary, count: number): void {
  assert.equal(s.count, count);
  assert.ok(s.p50 >= 0 && s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.max, JSON.stringify(s));
  assert.ok(s.mean >= 0 && s.mean <= s.max, JSON.stringify(s));
}

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);

  describe(`Pool settle (${kind})`, () => {
    test("map and starmap with settle: true give one record per item; failures fail only their item", async () => {
      await using pool = new ctx.Pool(2);
      for (const chunksize of [1, 3, undefined]) {
        checkRecords(await pool.map(failOdd, range(20), { settle: true, chunksize }), 20);
        checkRecords(await pool.map(failOddAsync, range(9), { settle: true, chunksize }), 9);
      }
      const star = await pool.starmap(addOrFail, [[1, 2], [-1, 0], [3, 4]], { settle: true });
      assert.deepEqual(star[0], { status: "fulfilled", value: 3 });
      assert.equal(star[1]!.status, "rejected");
      assert.ok((star[1] as { reason: unknown }).reason instanceof TypeError);
      assert.deepEqual(star[2], { status: "fulfilled", value: 7 });
      // Without settle, the first failure still fails the map.
      await assert.rejects(pool.map(failOdd, range(4)), RangeError);
    });

    test("imap and imapUnordered with settle: true yield every item's record", async () => {
      await using pool = new ctx.Pool(2);
      checkRecords(await collect(pool.imap(failOdd, range(15), { settle: true })), 15);
      const unordered = await collect(pool.imapUnordered(failOdd, range(15), { settle: true, chunksize: 2 }));
      assert.equal(unordered.length, 15);
      assert.equal(unordered.filter((r) => r.status === "rejected").length, 7);
      assert.deepEqual(unordered.filter((r) => r.status === "fulfilled").map((r) => (r as { value: number }).value).sort((a, b) => a - b), range(8).map((i) => 2 * i));
    });

    test("a worker that dies under a settled map rejects only its chunk's items (WorkerLostError); the rest are fulfilled", async () => {
      await using pool = new ctx.Pool(2);
      const records = await pool.map(dieAt57, range(100), { settle: true, chunksize: 10 });
      assert.equal(records.length, 100);
      records.forEach((r, i) => {
        if (i >= 50 && i < 60) assert.ok(r.status === "rejected" && r.reason instanceof WorkerLostError, `item ${i}`);
        else assert.deepEqual(r, { status: "fulfilled", value: i });
      });
    });
  });

  describe(`Pool stats (${kind})`, () => {
    test("stats(): queued and running while a task blocks, then completed, failed, utilization and time summaries", async () => {
      const shm = board();
      try {
        await using pool = new ctx.Pool(1);
        await pool.apply(who);
        const blocked = pool.apply(blockUntilGo, [shm]);
        await untilWord(shm, 0, 1);
        const waiting = range(3).map(() => pool.apply(who));
        const busy = pool.stats();
        assert.equal(busy.running, 1);
        assert.equal(busy.queued, 3);
        assert.equal(busy.workers[0]!.running, 1);
        setWord(shm, 2, 1);
        await Promise.all([blocked, ...waiting]);
        await assert.rejects(pool.map(failOdd, [1, 3], { chunksize: 1 }));
        await pool.map(failOdd, range(10).map((i) => 2 * i), { chunksize: 2 });
        const s = pool.stats();
        assert.equal(s.completed, 1 + 1 + 3 + 5);
        assert.ok(s.failed >= 1 && s.failed <= 2, `failed ${s.failed}`);
        assert.equal(s.running, 0);
        assert.equal(s.queued, 0);
        assert.ok(s.utilization > 0 && s.utilization <= 1, `utilization ${s.utilization}`);
        checkSummary(s.runTime, s.completed + s.failed);
        checkSummary(s.waitTime, s.completed + s.failed);
        const [w] = s.workers;
        assert.equal(s.workers.length, 1);
        assert.equal(w!.completed, s.completed);
        assert.equal(w!.failed, s.failed);
        assert.equal(w!.tasks, s.completed + s.failed);
        assert.ok(w!.utilization > 0 && w!.utilization <= 1);
        checkSummary(w!.runTime, w!.tasks);
        assert.ok(s.runTime.max >= 0 && s.waitTime.max >= s.waitTime.p50);
      } finally {
        release(shm);
      }
    });
  });
}
