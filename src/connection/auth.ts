// CPython's mutual HMAC challenge (Lib/multiprocessing/connection.py, deliver_challenge /
// answer_challenge, 3.12+), byte for byte. Each side proves it knows the key without sending it;
// the listener challenges first, then the client does.
//
//      Listener (accept)                                   Client
//   1. send "#CHALLENGE#" + "{sha256}" + 40 random  ---->
//                                                    <---- 2. send "{sha256}" + HMAC-SHA256(key, "{sha256}"+random)
//                                                             (CPython <= 3.11: a raw 16-byte HMAC-MD5 of the same)
//   3. compare in constant time; send "#WELCOME#"   ---->     (or "#FAILURE#" and close)
//                                                    <---- 4. send "#CHALLENGE#" + "{sha256}" + 40 random
//   5. send "{sha256}" + HMAC-SHA256(key, ...)      ---->     (to a 20-byte legacy challenge: raw HMAC-MD5)
//                                                    <---- 6. compare; send "#WELCOME#" (or "#FAILURE#")
//
// The MAC covers the "{digest}" prefix, so a peer cannot downgrade a prefixed challenge. Legacy
// messages are recognised by length (a 20-byte challenge, a 16-byte reply), as CPython 3.12+ does;
// `allowLegacy: false` refuses them. Every frame read here is limited to 256 bytes and nothing is
// deserialised: the bytes are compared, never interpreted.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { AuthenticationError, ErrorCodes, ProcessError } from "../errors.js";
import { kStep, type SocketConnection } from "./socket-connection.js";

/**
 * Why two sides' keys differ, most of the time (issue #14): the default key is random per program.
 * Said in every wrong-digest error.
 */
const KEY_HINT =
  "Both sides must use the same authkey. The default one (currentProcess().authkey) is random per program and " +
  "inherited only by that program's children; to reach a listener or manager of another program, pass the same " +
  "{ authkey } to both (e.g. a secret read from an environment variable).";

export const CHALLENGE = Buffer.from("#CHALLENGE#");
export const WELCOME = Buffer.from("#WELCOME#");
export const FAILURE = Buffer.from("#FAILURE#");
const MESSAGE_LENGTH = 40;
const MD5ONLY_MESSAGE_LENGTH = 20;
const MD5_DIGEST_LENGTH = 16;
const MAX_AUTH_FRAME = 256;

/** CPython's allowed digest names and their node:crypto names. */
const DIGESTS: Record<string, string> = {
  md5: "md5",
  sha256: "sha256",
  sha384: "sha384",
  sha3_256: "sha3-256",
  sha3_384: "sha3-384",
};
const MAX_DIGEST_NAME = Math.max(...Object.keys(DIGESTS).map((d) => d.length));

export interface AuthOptions {
  authkey: Buffer;
  /** Accept and answer CPython <= 3.11's raw HMAC-MD5 exchange (default true, like CPython 3.12+). */
  allowLegacy: boolean;
}

/** The digest named by a message's "{name}" prefix and the payload after it; "" for legacy. */
function digestOf(message: Buffer, allowLegacy: boolean): { digest: string; payload: Buffer } {
  if (message.length === MD5ONLY_MESSAGE_LENGTH || message.length === MD5_DIGEST_LENGTH) {
    if (!allowLegacy) {
      throw new AuthenticationError("the peer uses the legacy HMAC-MD5 handshake (CPython <= 3.11), which this side refuses", {
        code: ErrorCodes.LEGACY_AUTH_REFUSED,
      });
    }
    return { digest: "", payload: message };
  }
  if (message[0] === 0x7b /* { */) {
    const close = message.indexOf(0x7d /* } */, 1);
    if (close > 0 && close <= MAX_DIGEST_NAME + 1) {
      const name = message.subarray(1, close).toString("latin1");
      if (Object.hasOwn(DIGESTS, name)) return { digest: name, payload: message.subarray(close + 1) };
    }
  }
  throw new AuthenticationError(`unsupported message length (${message.length} bytes), missing digest prefix, or unsupported digest`);
}

function hmac(key: Buffer, message: Buffer, digest: string): Buffer {
  return createHmac(DIGESTS[digest] ?? digest, key).update(message).digest();
}

/** Our answer to a challenge `message` (without the "#CHALLENGE#" tag). */
export function createResponse(key: Buffer, message: Buffer, allowLegacy: boolean): Buffer {
  const { digest } = digestOf(message, allowLegacy);
  if (digest === "") return hmac(key, message, "md5");
  return Buffer.concat([Buffer.from(`{${digest}}`, "latin1"), hmac(key, message, digest)]);
}

/** Checks the peer's `response` to our challenge `message`, in constant time. */
export function verifyResponse(key: Buffer, message: Buffer, response: Buffer, allowLegacy: boolean): void {
  const { digest, payload } = digestOf(response, allowLegacy);
  const expected = hmac(key, message, digest === "" ? "md5" : digest);
  if (expected.length !== payload.length || !timingSafeEqual(expected, payload)) {
    throw new AuthenticationError(`digest received was wrong: the client's authkey differs from this side's. ${KEY_HINT}`);
  }
}

async function recvSmall(conn: SocketConnection): Promise<Buffer> {
  try {
    return await conn.recvBytes({ maxLength: MAX_AUTH_FRAME });
  } catch (err) {
    if (err instanceof AuthenticationError) throw err;
    const detail = err instanceof ProcessError && err.code === ErrorCodes.BAD_MESSAGE_LENGTH ? "an oversized frame" : "the connection closed";
    throw new AuthenticationError(`handshake failed: ${detail}`, { cause: err });
  }
}

/** Steps 1–3 (the listener's side) or 4–6 (the client's). */
export async function deliverChallenge(conn: SocketConnection, options: AuthOptions): Promise<void> {
  const message = Buffer.concat([Buffer.from("{sha256}"), randomBytes(MESSAGE_LENGTH)]);
  await conn.sendBytes(Buffer.concat([CHALLENGE, message]));
  const response = await recvSmall(conn);
  try {
    verifyResponse(options.authkey, message, response, options.allowLegacy);
  } catch (err) {
    await conn.sendBytes(FAILURE).catch(() => undefined);
    throw err;
  }
  await conn.sendBytes(WELCOME);
}

/** Steps 1–3 seen from the client, or 4–6 seen from the listener. */
export async function answerChallenge(conn: SocketConnection, options: AuthOptions): Promise<void> {
  const framed = await recvSmall(conn);
  if (framed.length < CHALLENGE.length || !framed.subarray(0, CHALLENGE.length).equals(CHALLENGE)) {
    throw new AuthenticationError("protocol error: expected a challenge");
  }
  const message = framed.subarray(CHALLENGE.length);
  if (message.length < MD5ONLY_MESSAGE_LENGTH) throw new AuthenticationError(`challenge too short: ${message.length} bytes`);
  await conn.sendBytes(createResponse(options.authkey, message, options.allowLegacy));
  const verdict = await recvSmall(conn);
  if (!verdict.equals(WELCOME)) throw new AuthenticationError(`digest sent was rejected: the server's authkey differs from this side's. ${KEY_HINT}`);
}

/**
 * The whole handshake for one side, within `timeout` ms. On any failure the connection is
 * destroyed and the promise rejects with AuthenticationError (code ERR_HANDSHAKE_TIMEOUT when the
 * peer was too slow). On success the connection leaves step mode with its normal frame limit.
 */
export async function handshake(conn: SocketConnection, side: "listener" | "client", options: AuthOptions, timeout: number): Promise<void> {
  conn[kStep](true, MAX_AUTH_FRAME);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new AuthenticationError(`the peer did not complete the handshake within ${timeout} ms`, { code: ErrorCodes.HANDSHAKE_TIMEOUT }));
    }, timeout);
  });
  try {
    const steps = side === "listener"
      ? deliverChallenge(conn, options).then(() => answerChallenge(conn, options))
      : answerChallenge(conn, options).then(() => deliverChallenge(conn, options));
    steps.catch(() => undefined);
    await Promise.race([steps, expired]);
  } catch (err) {
    conn.close();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  conn[kStep](false);
}
