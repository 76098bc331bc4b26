// Managers against bad input (issue 6, "Bad input"): hostile or broken peers before and after the
// handshake, a handshake that never ends, 1,000 connections opened and dropped, and the compact
// frames' decoder. Each gets a clear error or a disconnection, and the server keeps serving
// everyone else, its bookkeeping back where it started.
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { describe, test } from "node:test";
import { Client, ErrorCodes, type Address } from "multiproc";
import { frameHeader } from "#internal/connection/framing.js";
import { PROTOCOL_VERSION } from "#internal/managers/messages.js";
import { decodeCompact, encodeCall, encodeOk } from "#internal/managers/wire.js";
import { REQUEST_RING_OFFSET, type LinkOffer } from "#internal/managers/link.js";
import { shmIdentity } from "#internal/managers/locality.js";
import { attachSegment } from "#internal/shared/segment.js";
import { RingWriter } from "#internal/transport/ring.js";
import { closeWake, openWake, ringWake } from "#internal/transport/wake.js";
import { eventually } from "./helpers.js";
import { ServedManager } from "./fixtures/manager-types.js";

const KEY = "bad-input-key";

async function served(options: { handshakeTimeout?: number; maxMessageSize?: number } = {}) {
  const manager = new ServedManager({ address: ["127.0.0.1", 0], authkey: KEY, ...options });
  const server = manager.getServer();
  const address = await server.listen();
  const d = await manager.dict<string, number>();
  return { manager, server, address, d };
}

/** A raw TCP socket to the server, for hostile tests. */
async function raw(address: Address): Promise<Socket> {
  assert.ok(typeof address !== "string");
  const s = connect({ host: address[0], port: address[1] });
  await once(s, "connect");
  s.resume(); // read (and ignore) the challenge, so that 'close' arrives
  return s;
}

describe("manager server: bad input", () => {
  test("garbage and an oversized frame before the handshake are refused; the others are served", async () => {
    const { manager, server, address, d } = await served();
    const before = server.connectionCount;
    const garbage = await raw(address);
    garbage.write(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    const huge = await raw(address);
    huge.write(frameHeader(1 << 30)); // announced, never sent: refused from its header
    await Promise.all([once(garbage, "close"), once(huge, "close")]);
    await d.set("k", 1);
    assert.equal(await d.get("k"), 1);
    assert.equal(server.connectionCount, before, "neither became a client");
    await manager.shutdown();
  });

  test("a client that never finishes the handshake is dropped after handshakeTimeout", async () => {
    const { manager, address, d } = await served({ handshakeTimeout: 200 });
    const started = Date.now();
    const silent = await raw(address);
    await d.set("meanwhile", 2); // served while the silent one waits
    await once(silent, "close");
    assert.ok(Date.now() - started >= 190, "dropped at the timeout, not before");
    assert.equal(await d.get("meanwhile"), 2);
    await manager.shutdown();
  });

  test("after the handshake: garbage, an oversized frame, a malformed compact frame, a reply sent as a request", async () => {
    const { manager, server, address, d } = await served({ maxMessageSize: 4096 });
    const bad = [
      Buffer.from("definitely not a request"),
      Buffer.alloc(10_000),
      Buffer.from([3, 1, 0, 0]), // a compact call cut short
      Buffer.concat([encodeCall(1, 1, "get", ["k"])!, Buffer.from([0])]), // a byte too many
      encodeOk(1, 5)!, // a reply is not a request
    ];
    for (const frame of bad) {
      const conn = await Client(address, { authkey: KEY });
      await conn.sendBytes(frame);
      await assert.rejects(conn.recvBytes(), { code: ErrorCodes.EOF });
      conn.close();
    }
    await d.set("ok", 1);
    assert.equal(await d.get("ok"), 1);
    assert.ok(await eventually(() => server.connectionCount === 1), "only the good client is left");
    await manager.shutdown();
  });

  test("a decref whose count is not a number gives nothing back: another client's object lives on", async () => {
    const { manager, address, d } = await served();
    await d.set("k", 1);
    const oid = (d as unknown as { _token: { oid: number } })._token.oid;
    for (const count of [Number.NaN, Number.POSITIVE_INFINITY, -1]) {
      const conn = await Client(address, { authkey: KEY });
      await conn.send({ kind: "incref", oid });
      await conn.send({ kind: "decref", oid, count });
      // Requests on one connection are handled in order: the hello's answer follows the decref.
      await conn.send({ kind: "hello", id: 1, version: PROTOCOL_VERSION });
      assert.equal(((await conn.recv()) as { kind: string }).kind, "ok");
      conn.close();
    }
    assert.equal(await d.get("k"), 1, "the dict must survive (a NaN count used to free it)");
    await manager.shutdown();
  });

  test("through a local link: a garbage request, then a damaged ring, each get that client dropped; the others are served", async () => {
    const { manager, server, address, d } = await served();
    for (const damage of ["garbage", "ring"] as const) {
      const conn = await Client(address, { authkey: KEY });
      await conn.send({ kind: "hello", id: 1, version: PROTOCOL_VERSION, shm: shmIdentity(), link: true });
      const offer = ((await conn.recv()) as { value: { link?: LinkOffer } }).value.link;
      assert.ok(offer !== undefined, "a local client is offered a link");
      const segment = attachSegment(offer.name);
      if (damage === "garbage") {
        assert.ok(new RingWriter(segment.buffer, REQUEST_RING_OFFSET).trySend(Buffer.from("definitely not a request")));
      } else {
        // TAIL (word 16 of the ring) claims 3 bytes published: no frame is 3 bytes long.
        Atomics.store(new Int32Array(segment.buffer, REQUEST_RING_OFFSET, 64), 16, 3);
      }
      const fd = openWake(offer.wake);
      assert.ok(fd >= 0);
      ringWake(fd);
      closeWake(offer.wake, fd);
      await assert.rejects(conn.recvBytes(), { code: ErrorCodes.EOF });
      conn.close();
    }
    await d.set("still", 1);
    assert.equal(await d.get("still"), 1);
    assert.ok(await eventually(() => server.connectionCount === 1 && server.linkCount === 1), "only the good client (and its link) is left");
    await manager.shutdown();
  });

  test("1,000 connections opened and dropped (half of them authenticated, each making a dict) leave nothing behind", async () => {
    const { manager, server, address, d } = await served();
    const objects = server.objectCount;
    const heap = process.memoryUsage().heapUsed;
    for (let round = 0; round < 20; round++) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          if (i % 2 === 0) {
            const s = await raw(address);
            s.destroy();
            return;
          }
          const conn = await Client(address, { authkey: KEY });
          await conn.send({ kind: "hello", id: 1, version: PROTOCOL_VERSION });
          await conn.send({ kind: "create", id: 2, typeid: "dict", args: [] });
          assert.equal(((await conn.recv()) as { kind: string }).kind, "ok");
          assert.equal(((await conn.recv()) as { kind: string }).kind, "proxy");
          conn.close();
        }),
      );
    }
    assert.ok(await eventually(() => server.connectionCount === 1 && server.objectCount === objects, 10_000), "every dropped client's connection and dict are gone");
    await d.set("after", 3);
    assert.equal(await d.get("after"), 3);
    // Bookkeeping is back at its start; the heap may move with the collector, but not by the
    // ~1,000 connections' worth of buffers it would hold if they leaked.
    assert.ok(process.memoryUsage().heapUsed - heap < 64 * 1024 * 1024);
    await manager.shutdown();
  });
});

describe("compact manager frames", () => {
  test("calls and replies round-trip every primitive", () => {
    const args = [undefined, null, true, false, 7, -2147483648, 0.5, -0, NaN, Infinity, "", "héllo", 2 ** 40];
    assert.deepEqual(decodeCompact(encodeCall(4_000_000_000, 12, "set", args)!), { kind: "call", id: 4_000_000_000, oid: 12, method: "set", args });
    for (const v of args) assert.deepEqual(decodeCompact(encodeOk(9, v)!), { kind: "ok", id: 9, value: v });
  });

  test("values without a compact form fall back to the general format", () => {
    assert.equal(encodeCall(1, 1, "set", [{}]), undefined);
    assert.equal(encodeCall(1, 1, "set", [1n]), undefined);
    assert.equal(encodeCall(1, 1, "set", ["\ud800"]), undefined, "a lone surrogate would not survive UTF-8");
    assert.equal(encodeCall(-1, 1, "get", []), undefined);
    assert.equal(encodeCall(1, 1, "x".repeat(256), []), undefined);
    assert.equal(encodeOk(1, [1]), undefined);
  });

  test("truncated, padded or unknown bytes are ERR_CORRUPT", () => {
    const good = encodeCall(1, 2, "get", ["key", 3.5])!;
    for (let n = 0; n < good.length; n++) assert.throws(() => decodeCompact(good.subarray(0, n)), { code: ErrorCodes.CORRUPT });
    assert.throws(() => decodeCompact(Buffer.concat([good, Buffer.from([0])])), { code: ErrorCodes.CORRUPT });
    assert.throws(() => decodeCompact(Buffer.from([3, 9, 0, 0, 0, 0])), { code: ErrorCodes.CORRUPT });
    assert.throws(() => decodeCompact(Buffer.from([3, 2, 0, 0, 0, 0, 77])), { code: ErrorCodes.CORRUPT });
    // A string that claims more bytes than the frame has.
    assert.throws(() => decodeCompact(Buffer.from([3, 2, 0, 0, 0, 0, 6, 255, 255, 255, 255, 65])), { code: ErrorCodes.CORRUPT });
  });
});
