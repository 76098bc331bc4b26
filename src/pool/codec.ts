// The pool's binary frames: the format in codec-format.ts, the two sides in frame-writer.ts and
// frame-reader.ts.
export { FrameReader } from "./frame-reader.js";
export { FrameWriter } from "./frame-writer.js";
