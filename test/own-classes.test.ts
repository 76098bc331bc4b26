// Sending your own objects (SPEC "Sending your own objects", issue 14.5): an instance of a class
// exported from a module arrives as an instance of that class in other processes and threads
// (Queue, Pipe, Pool arguments and results, Process args); a class takes over with
// [reduce]()/static [revive](data); an instance of a class that cannot be located throws
// ERR_UNSERIALIZABLE at the sending call and nothing is sent. Plain objects stay plain.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCodes, getContext, Pipe, Pool, Queue } from "multiproc";
import { describeItem, hidden, Point, Reading, relayPipe, relayQueue, relayQueueSync, scale } from "./fixtures/own-classes.js";
import { CONTEXTS } from "./helpers.js";

for (const method of CONTEXTS) {
  describe(`own classes (${method})`, () => {
    const ctx = getContext(method);

    test("a Point through a Queue to a child arrives as a Point, and comes back as one", async () => {
      for (const target of [relayQueue, relayQueueSync]) {
        const input = new Queue<unknown>();
        const output = new Queue<[string, unknown]>();
        const child = new ctx.Process({ target, args: [input, output] });
        child.start();
        await input.put(new Point(3, 4));
        const [seen, back] = await output.get({ timeout: 30_000 });
        assert.equal(seen, "Point 5");
        assert.ok(back instanceof Point);
        assert.equal(back.norm(), 5);
        await child.join({ timeout: 30_000 });
        assert.equal(child.exitCode, 0);
        input.close();
        output.close();
      }
    });

    test("[reduce]/[revive] take over: a Reading travels as its tenths and is rebuilt", async () => {
      const [mine, theirs] = ctx.Pipe<unknown>();
      const child = new ctx.Process({ target: relayPipe, args: [theirs] });
      child.start();
      await mine.send(new Reading(21.5));
      const [seen, back] = (await mine.recv({ timeout: 30_000 })) as [string, Reading];
      assert.equal(seen, "Reading 21.5 C");
      assert.ok(back instanceof Reading);
      assert.equal(back.label, "21.5 C");
      await child.join({ timeout: 30_000 });
      mine.close();
    });

    test("Pool arguments and results: Points in, Points out (apply and map)", async () => {
      const pool = new Pool({ processes: 1, context: method });
      try {
        const one = await pool.apply(scale, [new Point(1, 2), 3]);
        assert.ok(one instanceof Point);
        assert.deepEqual({ ...one }, { x: 3, y: 6 });
        const many = await pool.starmap(scale, [[new Point(1, 0), 2], [new Point(0, 1), 5]]);
        assert.ok(many.every((p) => p instanceof Point));
        assert.deepEqual(many.map((p) => p.norm()), [2, 5]);
      } finally {
        await pool.terminate();
      }
    });

    test("Process args carry instances too", async () => {
      const output = new Queue<[string, unknown]>();
      const input = new Queue<unknown>();
      await input.put(new Point(6, 8));
      const child = new ctx.Process({ target: relayQueue, args: [input, output] });
      child.start();
      assert.equal((await output.get({ timeout: 30_000 }))[0], "Point 10");
      await child.join({ timeout: 30_000 });
      input.close();
      output.close();
    });
  });
}

describe("own classes: what cannot be sent", () => {
  test("an instance of a class that is not exported throws ERR_UNSERIALIZABLE at put, naming the class and the fix", async () => {
    const q = new Queue<unknown>();
    await assert.rejects(q.put(hidden()), (err: Error & { code?: string }) => {
      assert.equal(err.code, ErrorCodes.UNSERIALIZABLE);
      assert.match(err.message, /class Hidden/);
      assert.match(err.message, /export/);
      return true;
    });
    class Local {
      v = 1;
    }
    assert.throws(() => q.putSync({ nested: [new Local()] }), { code: ErrorCodes.UNSERIALIZABLE });
    const [a, b] = Pipe<unknown>();
    await assert.rejects(a.send(hidden()), { code: ErrorCodes.UNSERIALIZABLE });
    assert.equal(q.qsize(), 0); // nothing half-written
    await q.put(new Point(1, 1)); // and the queue keeps working
    assert.equal(describeItem(await q.get()), `Point ${Math.SQRT2}`);
    q.close();
    a.close();
    b.close();
  });

  test("plain objects stay plain (and null-prototype ones arrive as plain objects, as with V8)", async () => {
    const q = new Queue<unknown>();
    await q.put({ x: 1 });
    await q.put(Object.assign(Object.create(null) as object, { y: 2 }));
    assert.equal(Object.getPrototypeOf(await q.get()), Object.prototype);
    assert.equal(Object.getPrototypeOf(await q.get()), Object.prototype);
    q.close();
  });
});
