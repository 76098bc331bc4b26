// A single-producer single-consumer byte ring in shared memory: the transport under Pipe, the
// Pool's task dispatch and the managers' local links. The layout, the frame format and the waits
// are in ring-base.ts; the two sides in ring-writer.ts and ring-reader.ts.
export { initRing, LARGE_MESSAGE, RING_HEADER_BYTES, ringSize, type PeerGone, type WaitOptions } from "./ring-base.js";
export { RingReader } from "./ring-reader.js";
export { RingWriter } from "./ring-writer.js";
