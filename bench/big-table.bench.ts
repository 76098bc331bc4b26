// A 1M-row table given to 2 running worker processes, each summing a column (time per hand-out,
// compute included): multiproc's SharedTable placed in shared memory once and read in place by
// the workers (seed 000's "serve the DataFrame" pattern), the same with the table copied into
// shared memory at every hand-out, and Arrow IPC bytes copied to each worker; against CPython
// putting an
// equivalent numpy table (a dict of columns) in a Manager Namespace that each worker reads (one
// pickled copy per reader).
import { tableFromArrays, tableToIPC, type Table } from "apache-arrow";
import { SharedTable } from "multiproc/arrow";
import { scaled, timeOps, type BenchSpec, type Measurement } from "./harness.js";
import { withServer } from "./big-data.bench.js";

const ROWS = 1_000_000;

function makeTable(): Table {
  const x = new Float64Array(ROWS).map((_, i) => i * 0.5);
  const y = new Float64Array(ROWS).map((_, i) => i % 97);
  const id = new Int32Array(ROWS).map((_, i) => i);
  return tableFromArrays({ x, y, id });
}

function handOut(mode: "placed once" | "shared" | "copied"): Measurement {
  return () =>
    withServer((a) =>
      withServer(async (b) => {
        const table = makeTable();
        const expected = (ROWS * (ROWS - 1)) / 4;
        const placed = mode === "placed once" ? SharedTable.from(table) : undefined;
        try {
          const samples = await timeOps(
            async () => {
              const payload = placed ?? (mode === "shared" ? SharedTable.from(table) : tableToIPC(table));
              const sums = await Promise.all([a({ kind: "sum", table: payload, column: "x" }), b({ kind: "sum", table: payload, column: "x" })]);
              if (payload instanceof SharedTable && payload !== placed) payload.release();
              if (sums.some((s) => s !== expected)) throw new Error(`wrong sums ${String(sums)}`);
            },
            { iterations: scaled(8, 3), time: 500 },
          );
          return { samples };
        } finally {
          placed?.release();
        }
      }),
    );
}

export default {
  title: `a ${ROWS / 1e6}M-row table (3 columns) handed to 2 running workers that each sum a column (time per hand-out)`,
  issue: 7,
  metric: { kind: "time" },
  multiproc: {
    "SharedTable placed once": handOut("placed once"),
    "SharedTable.from each time": handOut("shared"),
    "IPC bytes copied": handOut("copied"),
  },
  python: ["Manager Namespace"],
} satisfies BenchSpec;
