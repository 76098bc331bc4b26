// Fuzzers for the byte parsers that run in-process on bytes another process wrote: the message
// format (transport/serialize.ts loads), the manager's request check after it (managers/messages.ts),
// CPython's connection framing (connection/framing.ts), and the Pool's frames (pool/protocol.ts,
// codec.ts). Each feeds mostly damaged valid encodings (fast-check, seeded) and some noise.
import fc from "fast-check";
import { ErrorCodes, ProcessError } from "multiproc";
import { FrameDecoder, frameHeader } from "#internal/connection/framing.js";
import { isRequest } from "#internal/managers/messages.js";
import { decodeFrame, encodeCall, encodeOk } from "#internal/managers/wire.js";
import { BatchWriter, decodeBatch, decodeReply, decodeValue, encodePayload, encodeReply, type FromWorker, type TaskMode } from "#internal/pool/protocol.js";
import { FrameWriter } from "#internal/pool/codec.js";
import { dumps, isCodec, loads } from "#internal/transport/serialize.js";
import { casesFor, draw, hex, malformed, plainValue, result, Verdicts, type FuzzOptions, type FuzzResult } from "./common.js";

// ---- messages (serialize.ts) ----

/** Values as they travel: plain data, Errors (a handle inside: flag 1), primitives (flag 2). */
const messageValue: fc.Arbitrary<unknown> = fc.oneof(
  plainValue,
  fc.string().map((m) => new RangeError(m)),
  fc.tuple(fc.string(), plainValue).map(([m, v]) => ({ error: new Error(m), v })),
  fc.oneof(fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null), fc.constant(undefined)),
);

export const validMessage: fc.Arbitrary<Uint8Array> = messageValue.map((v) => dumps(v, "socket"));

export function fuzzMessages(opts: FuzzOptions): Verdicts {
  const v = new Verdicts("messages", opts.seed);
  for (const bytes of draw(malformed(validMessage), opts.seed, casesFor(opts))) v.run(bytes, () => loads(bytes));
  return v;
}

// ---- the message codec (transport/codec-*.ts): records, shapes, references ----

const codecRecord = fc.record({ id: fc.integer(), name: fc.string(), score: fc.double(), tags: fc.array(fc.string(), { maxLength: 3 }) });

/** Values that take the codec: records (shapes defined then reused), Maps, typed arrays, shared parts. */
const codecValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.array(codecRecord, { maxLength: 6 }),
  fc.tuple(codecRecord, plainValue).map(([r, v]) => ({ r, v, again: r, list: [r, v] })),
  fc.dictionary(fc.string(), plainValue, { maxKeys: 40 }),
  plainValue,
);

/** Codec messages only (flags 4 and 5), damaged; plus a few random byte strings with a codec flag. */
export function fuzzCodec(opts: FuzzOptions): Verdicts {
  const v = new Verdicts("codec", opts.seed);
  const valid = codecValue.map((x) => dumps(x, "socket")).filter(isCodec);
  const noise = fc.tuple(fc.constantFrom(4, 5), fc.uint8Array({ maxLength: 64 })).map(([flag, rest]) => Uint8Array.of(flag, ...rest));
  for (const bytes of draw(fc.oneof(malformed(valid), noise), opts.seed, casesFor(opts))) v.run(bytes, () => loads(bytes));
  return v;
}

// ---- manager requests (loads + isRequest, what the server does with each frame) ----

const id = fc.integer({ min: 0, max: 2 ** 31 });
export const requestValue: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ kind: fc.constant("hello"), id, version: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant("create"), id, typeid: fc.constantFrom("dict", "list", "Queue", "Value", "nope"), args: fc.array(plainValue, { maxLength: 3 }) }),
  fc.record({ kind: fc.constant("call"), id, oid: fc.integer({ min: 0, max: 10 }), method: fc.constantFrom("get", "set", "keys", "_secret", "constructor", "__proto__", "toString"), args: fc.array(plainValue, { maxLength: 3 }) }),
  fc.record({ kind: fc.constant("incref"), oid: fc.integer({ min: 0, max: 10 }) }),
  fc.record({ kind: fc.constant("decref"), oid: fc.integer({ min: 0, max: 10 }), count: fc.oneof(fc.integer(), fc.double()) }),
);

const primitive = fc.oneof(fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null), fc.constant(undefined));

/** Compact frames (managers/wire.ts): calls with primitive arguments, and ok replies (refused by a server). */
const compactFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc
    .record({ id, oid: fc.integer({ min: 0, max: 10 }), method: fc.constantFrom("get", "set", "keys", "_secret", "é"), args: fc.array(primitive, { maxLength: 4 }) })
    .map((c) => encodeCall(c.id, c.oid, c.method, c.args) ?? dumps({ kind: "call", ...c }, "socket")),
  fc.tuple(id, primitive).map(([i, v]) => encodeOk(i, v) ?? dumps({ kind: "ok", id: i, value: v }, "socket")),
);

export const validRequest: fc.Arbitrary<Uint8Array> = fc.oneof(requestValue.map((r) => dumps(r, "socket")), compactFrame);

/** What the manager server does with a frame: a request it dispatches, or a refusal. */
export function parseRequest(bytes: Uint8Array): unknown {
  const m = decodeFrame(bytes);
  if (!isRequest(m)) throw new ProcessError("not a manager request", { code: ErrorCodes.PROTOCOL });
  return m;
}

export function fuzzManagerRequests(opts: FuzzOptions): Verdicts {
  const v = new Verdicts("manager-requests", opts.seed);
  for (const bytes of draw(malformed(validRequest), opts.seed, casesFor(opts))) v.run(bytes, () => parseRequest(bytes));
  return v;
}

// ---- CPython framing (framing.ts), fed in random chunks ----

const framedStream: fc.Arbitrary<Uint8Array> = fc
  .array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 4 })
  .map((bodies) => Uint8Array.from(Buffer.concat(bodies.flatMap((b) => [frameHeader(b.length), b]))));

const framingCase = fc.record({
  stream: malformed(framedStream, 64),
  limit: fc.constantFrom(256, 1024, 1 << 20),
  cuts: fc.array(fc.noBias(fc.nat(1000)).map((n) => n / 1000), { maxLength: 6 }),
});

/** Pushes a stream in chunks; checks the decoder's bounds (frame size, bytes held). */
function decodeStream(stream: Uint8Array, limit: number, cuts: number[]): number {
  const d = new FrameDecoder(limit);
  const at = [...new Set(cuts.map((c) => Math.floor(c * stream.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const to of [...at, stream.length]) {
    d.push(Buffer.from(stream.subarray(from, to)), out);
    // What an unauthenticated peer can make us hold: one header and at most `limit` body bytes.
    if (d.pending > limit + 12) throw new Error(`decoder holds ${d.pending} bytes with a ${limit}-byte limit`);
    from = to;
  }
  for (const f of out) if (f.length > limit) throw new Error(`decoder delivered a ${f.length}-byte frame with a ${limit}-byte limit`);
  return out.length;
}

export function fuzzFraming(opts: FuzzOptions): Verdicts {
  const v = new Verdicts("framing", opts.seed);
  for (const c of draw(framingCase, opts.seed, casesFor(opts))) {
    v.run(`${hex(c.stream)} limit ${c.limit} cuts ${c.cuts.join(",")}`, () => decodeStream(c.stream, c.limit, c.cuts));
  }
  return v;
}

// ---- pool frames (protocol.ts, codec.ts) ----

const descriptor = fc.record({ kind: fc.constant("export"), url: fc.webUrl(), name: fc.string({ maxLength: 12 }) });
const payloadValue = fc.oneof(plainValue, fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 8 }), fc.array(fc.double(), { maxLength: 8 }));

const batchMessage = fc.oneof(
  fc.record({ k: fc.constant("init" as const), d: fc.option(descriptor), f: fc.option(descriptor) }),
  fc.record({ k: fc.constant("target" as const), id, d: descriptor }),
  fc.record({ k: fc.constant("task" as const), id, target: id, mode: fc.constantFrom<TaskMode>("apply", "map", "starmap"), flags: fc.constantFrom(0, 0x20, 0x40, 0x80, 0xe0), value: payloadValue }),
  fc.record({ k: fc.constant("cancel" as const), id }),
  fc.record({ k: fc.constant("stop" as const) }),
);

const validBatch: fc.Arbitrary<Uint8Array> = fc.array(batchMessage, { minLength: 1, maxLength: 4 }).map((ms) => {
  const w = new BatchWriter();
  for (const m of ms) {
    if (m.k === "init") w.init(m.d, m.f);
    else if (m.k === "target") w.target(m.id, m.d);
    else if (m.k === "task") w.task(m.id, m.target, m.mode, m.flags, { encoded: encodePayload(m.value) });
    else if (m.k === "cancel") w.cancel(m.id);
    else w.stop();
  }
  return w.take()!.slice();
});

const replyMessage: fc.Arbitrary<FromWorker> = fc.oneof(
  fc.record({ kind: fc.constant("ready" as const), wake: fc.boolean() }),
  fc.record({ kind: fc.constant("init-failed" as const), error: fc.string().map((m) => new Error(m)) }),
  fc.record({ kind: fc.constant("started" as const), id, at: fc.double() }),
  fc.record({ kind: fc.constant("result" as const), id, busy: fc.double(), value: payloadValue }),
  fc.record({ kind: fc.constant("error" as const), id, busy: fc.double(), error: fc.string().map((m) => new TypeError(m)) }),
  fc.record({ kind: fc.constant("skipped" as const), id }),
);

const validReply: fc.Arbitrary<Uint8Array> = replyMessage.map((m) => encodeReply(new FrameWriter(64), m).slice());

/** A worker's view of a task frame: the batch, then each task's payload as it begins. */
function readBatch(frame: Uint8Array): void {
  for (const m of decodeBatch(frame)) if (m.kind === "task") decodeValue(m.payload);
}

export function fuzzPoolFrames(opts: FuzzOptions): Verdicts {
  const v = new Verdicts("pool-frames", opts.seed);
  const n = casesFor(opts);
  for (const frame of draw(malformed(validBatch), opts.seed, Math.ceil(n / 2))) v.run(frame, () => readBatch(frame));
  for (const frame of draw(malformed(validReply), opts.seed + 1, Math.floor(n / 2))) v.run(frame, () => decodeReply(frame));
  return v;
}

export function parsersResult(name: string, verdicts: Verdicts[]): FuzzResult {
  const figures: Record<string, number> = {};
  const mustBeZero: string[] = [];
  const notes: string[] = [];
  for (const v of verdicts) {
    Object.assign(figures, v.figures());
    mustBeZero.push(`${v.name}.crashes`);
    notes.push(...v.notes());
  }
  return result(name, figures, mustBeZero, notes);
}
