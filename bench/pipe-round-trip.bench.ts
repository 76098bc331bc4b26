// A Pipe round trip (issue 3): the parent sends a small int to a child that sends it back, with
// the async calls on both sides (the event loop stays free) or the blocking calls of worker code
// on both sides. Against CPython's Pipe send/recv to an echoing child. Both ends spin ~20 us
// before sleeping (src/native/spin.ts), which is what makes the async round trip cheap. Issue 15
// adds a record `{ id, name: "item-<i>", score, tags: ["a", "b"] }` instead of the int, async.
import { getContext, Pipe } from "multiproc";
import { timeOps, type BenchSpec, type Measurement } from "./harness.js";
import { echoAsync, echoSync, PEER_TIMEOUT_MS, record } from "./fixtures/queues.js";

const BATCH = 500;

function roundTrip(mode: "async" | "sync", message: (i: number) => unknown = (i) => i): Measurement {
  return async () => {
    const [mine, theirs] = Pipe();
    const child = new (getContext("process").Process)({ target: mode === "async" ? echoAsync : echoSync, args: [theirs] });
    child.start();
    theirs.close();
    try {
      await mine.send(-1);
      await mine.recv({ timeout: PEER_TIMEOUT_MS }); // the child is up
      const samples = await timeOps(
        mode === "async"
          ? async () => {
              for (let i = 0; i < BATCH; i++) {
                await mine.send(message(i));
                await mine.recv({ timeout: PEER_TIMEOUT_MS });
              }
            }
          : () => {
              for (let i = 0; i < BATCH; i++) {
                mine.sendSync(i);
                mine.recvSync({ timeout: PEER_TIMEOUT_MS });
              }
            },
        { batch: BATCH, iterations: 20, time: 300 },
      );
      return { samples };
    } finally {
      mine.close();
      await child.join({ timeout: PEER_TIMEOUT_MS });
      if (child.exitCode === null) child.kill();
    }
  };
}

export default {
  title: "Pipe round trip of a small int (or a record) to an echoing child (time per round trip)",
  issue: 3,
  metric: { kind: "time" },
  multiproc: {
    "async on both ends": roundTrip("async"),
    "sync on both ends": roundTrip("sync"),
    "record, async on both ends": roundTrip("async", record),
  },
  python: ["Pipe", "Pipe record"],
  compare: { "async on both ends": ["CPython Pipe"], "sync on both ends": ["CPython Pipe"], "record, async on both ends": ["CPython Pipe record"] },
  rounds: 5,
} satisfies BenchSpec;
