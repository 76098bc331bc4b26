// Handing 10,000 Values to a child (issue 21): a Process started with them in its args, which
// reads each one; time per Value of the whole start+join, next to the same start+join with no
// Values (the difference is what the Values cost). CPython can only hand synchronized objects to
// a child through its args (inheritance), which is what its side does.
import { getContext, Value, type StartMethod } from "multiproc";
import { timeOps, type BenchSpec, type Measurement } from "./harness.js";
import { touchAll } from "./fixtures/hand-values.js";

const COUNT = 10_000;

function hand(kind: StartMethod, count: number): Measurement {
  return async () => {
    const values = Array.from({ length: count }, () => new Value("i", 1));
    try {
      const samples = await timeOps(
        async () => {
          const p = new (getContext(kind).Process)({ target: touchAll, args: [values] });
          p.start();
          await p.join();
          if (p.exitCode !== 0) throw new Error(`the child exited with ${p.exitCode}`);
          p.close();
        },
        { batch: COUNT, iterations: 5, time: 300, warmupIterations: 1 },
      );
      return { samples, note: `start+join of a child given ${count} Values, per ${COUNT}` };
    } finally {
      for (const v of values) v.close();
    }
  };
}

export default {
  title: "hand 10,000 Values to a child in its args (start+join time per Value)",
  issue: 21,
  metric: { kind: "time" },
  multiproc: {
    "10k Values, process": hand("process", COUNT),
    "10k Values, thread": hand("thread", COUNT),
    "1 Value, process": hand("process", 1),
  },
  python: ["10k Values", "1 Value"],
  compare: { "10k Values, process": ["CPython 10k Values"], "10k Values, thread": ["CPython 10k Values"], "1 Value, process": ["CPython 1 Value"] },
  rounds: 2,
} satisfies BenchSpec;
