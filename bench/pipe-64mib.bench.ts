// 64 MiB through a Pipe to a child and back (issue 3), MiB of payload per second:
//  - "sendBytes (copy)": raw bytes; each direction writes them once into a segment of their own,
//    through its file (src/shared/segment.ts createSegmentFrom), and the receiver maps it;
//  - "send Float64Array (copy)": the same data as an object (the typed array is handed over
//    through a segment by the serialiser, src/transport/binary.ts);
//  - "SharedMemory (shared)": the data lives in a SharedMemory block; only its name travels.
// Against CPython's Pipe send_bytes/recv_bytes of the same 64 MiB to an echoing child.
import { getContext, Pipe, SharedMemory } from "multiproc";
import { scaled, throughput, timeOps, type BenchSpec, type Measurement } from "./harness.js";
import { echoAsync, echoBytes, echoShared, PEER_TIMEOUT_MS } from "./fixtures/queues.js";

const MIB = 64;
const BYTES = MIB << 20;

function roundTrip(kind: "bytes" | "object" | "shared"): Measurement {
  return async () => {
    const [mine, theirs] = Pipe<unknown>();
    const target = kind === "bytes" ? echoBytes : kind === "object" ? echoAsync : echoShared;
    const child = new (getContext("process").Process)({ target, args: [theirs] });
    child.start();
    theirs.close();
    const shm = kind === "shared" ? new SharedMemory({ create: true, size: BYTES }) : undefined;
    try {
      let once: () => Promise<void>;
      if (kind === "bytes") {
        const payload = Buffer.alloc(BYTES, 7);
        once = async () => {
          await mine.sendBytes(payload);
          if ((await mine.recvBytes({ timeout: PEER_TIMEOUT_MS })).length !== BYTES) throw new Error("the payload came back wrong");
        };
      } else if (kind === "object") {
        const payload = new Float64Array(BYTES / 8).fill(1.5);
        once = async () => {
          await mine.send(payload);
          if (((await mine.recv({ timeout: PEER_TIMEOUT_MS })) as Float64Array).length !== payload.length) throw new Error("the payload came back wrong");
        };
      } else {
        once = async () => {
          await mine.send(shm);
          const back = (await mine.recv({ timeout: PEER_TIMEOUT_MS })) as SharedMemory;
          if (back.size !== BYTES) throw new Error("the block came back wrong");
          back.close();
        };
      }
      const samples = await timeOps(once, { iterations: scaled(8, 3), time: 500 });
      return { samples: throughput(samples, MIB) };
    } finally {
      mine.close();
      await child.join({ timeout: PEER_TIMEOUT_MS });
      if (child.exitCode === null) child.kill();
      shm?.unlink();
    }
  };
}

export default {
  title: `${MIB} MiB through a Pipe to an echoing child and back (MiB of payload per second, round trip)`,
  issue: 3,
  metric: { kind: "throughput", unit: "MiB/s" },
  multiproc: {
    "sendBytes (copy)": roundTrip("bytes"),
    "send Float64Array (copy)": roundTrip("object"),
    "SharedMemory (shared)": roundTrip("shared"),
  },
  python: ["Pipe bytes"],
  goals: [
    { multiproc: "sendBytes (copy)", peer: "CPython Pipe bytes", ratio: 2 },
    { multiproc: "SharedMemory (shared)", peer: "CPython Pipe bytes", ratio: 50 },
  ],
} satisfies BenchSpec;
