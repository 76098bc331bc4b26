// Fuzzer for a queue's shared header, journal and store (src/queues): a foreign writer damages
// the words of a live queue; then the queue is received again (its header is checked) and used
// without waiting. Every call must return or throw a typed error; after a refusal the queue must
// take and give back a new item (it drops what it held when its store was damaged).
import fc from "fast-check";
import { JoinableQueue, LifoQueue, PriorityQueue, Queue } from "multiproc";
import type { QueueCore } from "#internal/queues/core.js";
import { DATA_AT, JMAX, W } from "#internal/queues/queue-segment.js";
import { unlinkSegment } from "#internal/shared/segment.js";
import { dumps, loads } from "#internal/transport/serialize.js";
import { casesFor, describeError, draw, releaseMappings, Verdicts, type FuzzOptions } from "./common.js";

const CAPACITY = 4096;
const KINDS = [Queue, LifoQueue, PriorityQueue, JoinableQueue] as const;
const INTERESTING = [-1, 0, 1, 2, 3, 4, 7, 8, 64, 100, CAPACITY - 4, CAPACITY, CAPACITY + 8, JMAX, JMAX + 1, 0x1fffffff, 0x20000000, 0x40000000, 0x7fffffff, -0x80000000];

// Words worth damaging: the header after LOCK (whose damage is a holder that never lets go, the
// kill scenarios' business), the store's words, the journal, and the data area.
const headerWord = fc.constantFrom(W.MAGIC, W.KIND, W.MAXSIZE, W.COUNT, W.UNFINISHED, W.CAPACITY, W.SEQ, W.STORE, W.STORE + 1, W.STORE + 2, W.JVALID, W.JCOUNT, W.JOURNAL, W.JOURNAL + 1, W.JOURNAL + 2, W.JOURNAL + 3);
const damage = fc.record({
  at: fc.oneof({ weight: 3, arbitrary: headerWord }, { weight: 2, arbitrary: fc.integer({ min: DATA_AT / 4, max: (DATA_AT + CAPACITY) / 4 - 1 }) }),
  value: fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
});

const queueCase = fc.record({
  kind: fc.integer({ min: 0, max: KINDS.length - 1 }),
  items: fc.array(fc.tuple(fc.integer({ min: -5, max: 5 }), fc.string({ maxLength: 30 })), { maxLength: 6 }),
  damage: fc.array(damage, { minLength: 1, maxLength: 3 }),
  ops: fc.array(fc.constantFrom("get", "put", "revive", "size"), { minLength: 1, maxLength: 8 }),
});

export interface QueueFigures {
  verdicts: Verdicts;
  /** Refusals after which the queue had emptied itself (its store was found damaged). */
  emptied: number;
  /** ... and then took and gave back a new item. */
  recovered: number;
  notRecovered: number;
}

function coreOf(q: Queue): QueueCore {
  return (q as unknown as { core: QueueCore }).core;
}

export async function fuzzQueues(opts: FuzzOptions): Promise<QueueFigures> {
  const v = new Verdicts("queues", opts.seed);
  const f: QueueFigures = { verdicts: v, emptied: 0, recovered: 0, notRecovered: 0 };
  let i = 0;
  for (const c of draw(queueCase, opts.seed, casesFor(opts))) {
    if (++i % 500 === 0) await releaseMappings();
    const q = new KINDS[c.kind]!({ capacity: CAPACITY });
    const core = coreOf(q);
    const opened: Queue[] = [q];
    try {
      for (const item of c.items) q.putNowait(item);
      for (const d of c.damage) core.words[d.at] = d.value;
      const input = `kind ${c.kind} items ${c.items.length} damage ${JSON.stringify(c.damage)} ops ${c.ops.join(",")}`;
      let current: Queue = q;
      let emptied = false;
      for (const op of c.ops) {
        const err = v.run(input, () => {
          if (op === "get") current.getNowait();
          else if (op === "put") current.putNowait([1, "new"]);
          else if (op === "size") current.qsize();
          else {
            const again = loads(dumps(current)) as Queue;
            opened.push(again);
            current = again;
          }
        });
        if ((err as { code?: unknown } | undefined)?.code === "ERR_CORRUPT" && /the queue dropped its/.test((err as Error).message)) {
          emptied = true;
          break;
        }
      }
      if (!emptied) continue;
      f.emptied++;
      // The queue found its store damaged and dropped what it held: it works again.
      try {
        current.putNowait([0, "probe"]);
        const back = current.getNowait() as [number, string];
        if (back[1] === "probe") f.recovered++;
        else f.notRecovered++;
      } catch (err) {
        f.notRecovered++;
        if (v.examples.length < 5) v.examples.push(`not recovered: ${describeError(err)} after ${input}`);
      }
    } finally {
      for (const o of opened) o.close();
      // A queue received while its header was damaged never claimed its holder slot: unlink here.
      try {
        unlinkSegment(core.seg.segment.name);
      } catch {
        // Unlinked already.
      }
    }
  }
  return f;
}
