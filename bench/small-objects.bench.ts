// Creating many small shared objects (issue 21): Value("i"), Lock and Event, 10,000 and 1,000,000
// in one program, time per object, with the /dev/shm entries and the RSS growth in the note. Each
// sample makes the whole set and closes it again. CPython makes each of them from named POSIX
// semaphores and multiprocessing.heap blocks; its 1,000,000 cases stop after 10,000 objects
// (at ~150 us each a million would take minutes), the time per object is what is compared.
import { readdirSync } from "node:fs";
import { Event, Lock, Value } from "multiproc";
import { scaled, timeOps, type BenchSpec, type Measurement } from "./harness.js";

type Closable = { close(): void };
const makers: Record<string, () => Closable> = {
  Value: () => new Value("i", 0),
  Lock: () => new Lock(),
  Event: () => new Event(),
};

function create(kind: string, count: number): Measurement {
  return async () => {
    const make = makers[kind]!;
    const n = scaled(count, 1000);
    let entries = 0;
    let rss = 0;
    const once = () => {
        const shmBefore = readdirSync("/dev/shm").length;
        const rssBefore = process.memoryUsage().rss;
        const objects: Closable[] = new Array<Closable>(n);
        for (let i = 0; i < n; i++) objects[i] = make();
        entries = Math.max(entries, readdirSync("/dev/shm").length - shmBefore);
        rss = Math.max(rss, process.memoryUsage().rss - rssBefore);
        for (const o of objects) o.close();
    };
    let samples: number[];
    if (n > 100_000) {
      // A million at a time: one warm-up pass and one timed pass per round (timeOps wants three).
      once();
      const t0 = performance.now();
      once();
      samples = [((performance.now() - t0) * 1e6) / n];
    } else {
      samples = await timeOps(once, { batch: n, iterations: 5, time: 200, warmupIterations: 1, warmupTime: 0 });
    }
    return { samples, note: `${n} x new ${kind}: +${entries} /dev/shm entries, +${(rss / 2 ** 20).toFixed(0)} MiB RSS at most` };
  };
}

export default {
  title: "create small shared objects (time per object)",
  issue: 21,
  metric: { kind: "time" },
  multiproc: {
    "Value x10k": create("Value", 10_000),
    "Lock x10k": create("Lock", 10_000),
    "Event x10k": create("Event", 10_000),
    "Value x1M": create("Value", 1_000_000),
    "Lock x1M": create("Lock", 1_000_000),
    "Event x1M": create("Event", 1_000_000),
  },
  python: ["Value x10k", "Lock x10k", "Event x10k", "Value x1M", "Lock x1M", "Event x1M"],
  compare: {
    "Value x10k": ["CPython Value x10k"],
    "Lock x10k": ["CPython Lock x10k"],
    "Event x10k": ["CPython Event x10k"],
    "Value x1M": ["CPython Value x1M"],
    "Lock x1M": ["CPython Lock x1M"],
    "Event x1M": ["CPython Event x1M"],
  },
  goals: [
    { multiproc: "Value x10k", peer: "CPython Value x10k", ratio: 0.02 },
    { multiproc: "Lock x10k", peer: "CPython Lock x10k", ratio: 0.02 },
    { multiproc: "Event x10k", peer: "CPython Event x10k", ratio: 0.02 },
    { multiproc: "Value x1M", peer: "CPython Value x1M", ratio: 0.02 },
  ],
  rounds: 1,
} satisfies BenchSpec;
