// Big data between processes (issue 7). Two cases in one file would print as one table, so the
// 64 MiB hand-over lives here and the table case in big-table.bench.ts.
// A 64 MiB Float64Array to a running child and back, MiB/s of payload per round trip:
//  - "shared": the array lives in a SharedMemory segment; only its name travels (zero copy);
//  - "hand-over": a plain array; each direction copies it once into a segment the receiver adopts;
// against CPython sending the same 64 MiB as bytes through a Pipe, and pickling a numpy array.
import { getContext, SharedMemory } from "multiproc";
import { initRing, RingReader, RingWriter } from "#internal/transport/ring.js";
import { dumps, loadsAsync } from "#internal/transport/serialize.js";
import { scaled, throughput, timeOps, type BenchSpec, type Measurement } from "./harness.js";
import { CAPACITY, RING_B, serve, type Job } from "./fixtures/big-data.js";

const MIB = 64;

export async function withServer<T>(use: (call: (job: Job) => Promise<unknown>) => Promise<T>): Promise<T> {
  const rings = new SharedMemory({ create: true, size: 2 * RING_B });
  initRing(rings.buffer, 0, CAPACITY);
  initRing(rings.buffer, RING_B, CAPACITY);
  const child = new (getContext("process").Process)({ target: serve, args: [rings, process.pid] });
  child.start();
  const gone = () => child.exitCode !== null;
  const writer = new RingWriter(rings.buffer, 0, gone);
  const reader = new RingReader(rings.buffer, RING_B, gone);
  const call = async (job: Job) => {
    await writer.send(dumps(job));
    return loadsAsync(await reader.recv({ timeout: 60_000 }));
  };
  try {
    return await use(call);
  } finally {
    await writer.send(dumps(null));
    await child.join({ timeout: 10_000 });
    if (child.exitCode === null) child.kill();
    rings.unlink();
  }
}

function roundTrip(shared: boolean): Measurement {
  return () =>
    withServer(async (call) => {
      const bytes = MIB << 20;
      const segment = shared ? new SharedMemory({ create: true, size: bytes }) : undefined;
      const payload = segment !== undefined ? new Float64Array(segment.buffer) : new Float64Array(bytes / 8);
      payload[payload.length - 1] = 42;
      try {
        const samples = await timeOps(
          async () => {
            const back = (await call({ kind: "echo", payload })) as Float64Array;
            if (back.length !== payload.length || back[back.length - 1] !== 42) throw new Error("the payload came back wrong");
          },
          { iterations: scaled(8, 3), time: 500 },
        );
        return { samples: throughput(samples, MIB) };
      } finally {
        segment?.unlink();
      }
    });
}

export default {
  title: `a ${MIB} MiB Float64Array to a running child and back (MiB of payload per second, round trip)`,
  issue: 7,
  metric: { kind: "throughput", unit: "MiB/s" },
  multiproc: { shared: roundTrip(true), "hand-over": roundTrip(false) },
  python: ["Pipe bytes", "Pipe numpy"],
  goals: [{ multiproc: "shared", peer: "CPython Pipe bytes", ratio: 50 }],
} satisfies BenchSpec;
