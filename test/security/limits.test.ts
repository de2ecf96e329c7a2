/**
 * The gateway's limits, each at its edge, on a gateway with small limits over a real
 * `startStack()`: the body size (413 with the reason), the websocket frame size (1009), the
 * per-courier rate limits of fixes and readings, connections per client address (429 at the
 * upgrade), and a body that stalls (408 `body_timeout`, the connection closed). And what happens
 * when the rate limiter itself fails: an `error` frame, not a crashed process.
 */
import { connect as tcpConnect } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import {
  createFileProofStore,
  createGateway,
  createMemoryRateLimiter,
  signToken,
} from "../../gateway/index.ts";
import type { Gateway, GatewayRateLimiter } from "../../gateway/index.ts";
import { TestClient } from "../../gateway/test/helpers.ts";
import type { TokenClaims } from "../../protocol/index.ts";
import { A, B, KM2, startWorld } from "./world.ts";
import type { World } from "./world.ts";
import { waitFor } from "../nats-helpers.ts";

const SECRET = "limits-secret-not-for-production-0123456789";
const LIMITS = {
  maxBodyBytes: 1024,
  maxFrameBytes: 1024,
  maxPhotoBytes: 4096,
  maxConnectionsPerIp: 4,
  maxChannelsPerConnection: 3,
  bodyIdleMs: 300,
};
/** Fixes (and, apart, readings) per courier per window. */
const RATE = 5;
const PHOTO_ORDER = "o-P";
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

let world: World;
let gateway: Gateway;
let broken: Gateway;
let base: string;
let brokenBase: string;
let port: number;
let proofDir: string;
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);

const token = (claims: Omit<TokenClaims, "exp">) =>
  signToken({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 }, SECRET);
const courierToken = (sub: string) => token({ role: "courier", sub, mkt: A.market });

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  world = await startWorld();
  const { stack } = world;
  await stack.assignedOrder({
    orderId: PHOTO_ORDER,
    courierId: A.courier,
    marketId: A.market,
    storeId: A.store,
  });
  await stack.pickUp(PHOTO_ORDER);
  proofDir = await mkdtemp(join(tmpdir(), "xianda-limits-proofs-"));
  const shared = {
    nc: stack.nc,
    topology: stack.topology,
    actors: stack.actors,
    auth: { secret: SECRET },
    log: pino({ level: "silent" }),
    proofs: createFileProofStore(proofDir),
    limits: LIMITS,
  };
  // A window far longer than the test: the counts below do not depend on timing.
  gateway = createGateway({
    ...shared,
    rateLimiter: createMemoryRateLimiter({ limit: RATE, windowMs: 600_000 }),
  });
  ({ port } = await gateway.listen(0, "127.0.0.1"));
  base = `http://127.0.0.1:${port}`;
  const down: GatewayRateLimiter = {
    consume: () => Promise.reject(new Error("ECONNREFUSED 127.0.0.1:6379")),
  };
  broken = createGateway({ ...shared, rateLimiter: down });
  brokenBase = `http://127.0.0.1:${(await broken.listen(0, "127.0.0.1")).port}`;
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await broken?.close();
  await world?.stop();
  if (proofDir) await rm(proofDir, { recursive: true, force: true });
  process.off("unhandledRejection", onUnhandled);
});

const orderSeq = async (id: string) => (await world.stack.actors.state({ type: "order", id })).seq;

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

/**
 * An HTTP/1.1 request written by hand: `head` (request line and headers), then `parts` with
 * `gapMs` between them, then nothing. Resolves with what came back and when the server closed.
 */
function rawRequest(
  head: string,
  parts: readonly (string | Uint8Array)[],
  gapMs = 0,
): Promise<{ response: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = tcpConnect(port, "127.0.0.1");
    let response = "";
    socket.on("data", (d) => (response += d.toString("utf8")));
    socket.on("error", reject);
    socket.on("close", () => resolve({ response, closedAfterMs: Date.now() - started }));
    socket.write(`${head}\r\n`);
    parts.forEach((part, i) => {
      setTimeout(() => !socket.destroyed && socket.write(part), i * gapMs);
    });
    // A client that never gives up would hold the test: give up well after the time-out.
    setTimeout(() => socket.destroy(), 10_000).unref();
  });
}

const bodyOf = (response: string) => response.slice(response.indexOf("\r\n\r\n") + 4);

describe("the body size limit", () => {
  it("refuses a JSON body over the limit with 413 and the limit in the reason", async () => {
    const before = await orderSeq(A.order);
    const storeToken = await token({ role: "store", sub: A.store });
    const big = JSON.stringify({ reason: "other", note: "x".repeat(LIMITS.maxBodyBytes) });
    const url = `${base}/v1/stores/${A.store}/orders/${A.order}/cancel`;
    const headers = { authorization: `Bearer ${storeToken}`, "content-type": "application/json" };
    // Announced with Content-Length, and streamed without one.
    const sized = await fetch(url, { method: "POST", headers, body: big });
    expect(sized.status).toBe(413);
    expect(await errorOf(sized)).toEqual({
      code: "too_large",
      message: `the body is over ${LIMITS.maxBodyBytes} bytes`,
    });
    const chunks = [big.slice(0, 600), big.slice(600)];
    const streamed = await fetch(url, {
      method: "POST",
      headers,
      body: new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(next));
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect((await errorOf(streamed)).code).toBe("too_large");
    // Even without a token: the size is checked first.
    const anonymous = await fetch(url, { method: "POST", body: big });
    expect(anonymous.status).toBe(413);
    expect(await orderSeq(A.order)).toBe(before);
  });

  it("refuses a photo over its own limit, and takes one at the limit", async () => {
    const headers = {
      authorization: `Bearer ${await courierToken(A.courier)}`,
      "content-type": "image/png",
    };
    const url = `${base}/v1/couriers/me/orders/${PHOTO_ORDER}/photo`;
    const photo = (size: number) => {
      const bytes = new Uint8Array(size).fill(7);
      bytes.set(PNG);
      return bytes;
    };
    const over = await fetch(url, {
      method: "POST",
      headers,
      body: photo(LIMITS.maxPhotoBytes + 1),
    });
    expect(over.status).toBe(413);
    expect(await errorOf(over)).toEqual({
      code: "too_large",
      message: `a photo may be ${LIMITS.maxPhotoBytes} bytes at most`,
    });
    const at = await fetch(url, { method: "POST", headers, body: photo(LIMITS.maxPhotoBytes) });
    expect(at.status).toBe(201);
    expect(((await at.json()) as { bytes: number }).bytes).toBe(LIMITS.maxPhotoBytes);
  });
});

describe("the websocket frame size limit", () => {
  it("closes the socket with 1009 for a frame over the limit, on both endpoints", async () => {
    const wsBase = base.replace("http", "ws");
    const admin = await token({ role: "admin", sub: "a-1" });
    for (const url of [
      `${wsBase}/ws/driver?token=${await courierToken(KM2.courier)}`,
      `${wsBase}/ws/live?token=${admin}`,
    ]) {
      const client = new TestClient(url);
      await client.next("welcome");
      // Exactly at the limit: read and answered.
      const id = "p".repeat(LIMITS.maxFrameBytes - JSON.stringify({ type: "ping", id: "" }).length);
      client.send({ type: "ping", id });
      const error = await client.next("error");
      expect(error.code).toBe("invalid_frame"); // an id of 64 characters at most
      client.send({ type: "ping", id: `${id}x` });
      expect((await client.waitClosed()).code).toBe(1009);
    }
  });
});

describe("the rate limits", () => {
  const fix = (at: number, i: number) => ({ lat: 25.04 + i * 1e-5, lng: 102.71, at, accuracy: 5 });
  /** Fixes acknowledged on a connection, accepted or not (a refused frame is not among them). */
  const taken = (c: TestClient) =>
    c.of("location_ack").reduce((n, a) => n + a.accepted + a.rejected.length, 0);

  it("limits a courier's fixes across its connections, a batch of ten costing one", async () => {
    const t = await courierToken(A.courier);
    const wsBase = base.replace("http", "ws");
    const first = new TestClient(`${wsBase}/ws/driver?token=${t}`);
    const second = new TestClient(`${wsBase}/ws/driver?token=${t}`);
    await first.next("welcome");
    await second.next("welcome");
    const now = Date.now() - 60_000;
    // 3 + 2 = 5 units: all taken. Then one more: refused, with the reason.
    for (let i = 0; i < 3; i++) first.send({ type: "location", fix: fix(now + i * 1000, i) });
    for (let i = 3; i < 5; i++) second.send({ type: "location", fix: fix(now + i * 1000, i) });
    await first.until("five fixes taken", () => (taken(first) + taken(second) === 5 ? true : null));
    expect([...first.of("error"), ...second.of("error")]).toEqual([]);
    second.send({ type: "location", fix: fix(now + 6000, 6) });
    const refused = await second.next("error");
    expect(refused).toMatchObject({ code: "rate_limited", ref: "location" });
    expect(refused.message).toMatch(/^too many fixes; 1 dropped, try again in \d+ ms$/);
    first.close();
    second.close();

    // Another courier has a budget of its own; a batch costs one unit per ten fixes.
    const other = new TestClient(`${wsBase}/ws/driver?token=${await courierToken(B.courier)}`);
    await other.next("welcome");
    const batch = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => fix(now + (from + i) * 1000, from + i));
    // Five frames of ten fixes: five units, all taken (frames stay under the 1 KiB limit).
    for (let i = 0; i < 5; i++) other.send({ type: "locations", fixes: batch(i * 10, 10) });
    other.send({ type: "locations", fixes: batch(50, 1) }); // one more unit: refused
    const dropped = await other.next("error");
    expect(dropped).toMatchObject({ code: "rate_limited", ref: "locations" });
    expect(dropped.message).toContain("1 dropped");
    await other.until("50 fixes acknowledged", () => (taken(other) === 50 ? true : null));
    expect(other.of("error")).toHaveLength(1);
    other.close();
  });

  it("limits a courier's temperature readings apart from its fixes", async () => {
    const t = await courierToken(KM2.courier);
    const client = new TestClient(`${base.replace("http", "ws")}/ws/driver?token=${t}`);
    await client.next("welcome");
    for (let i = 0; i <= RATE; i++) {
      client.send({
        type: "temperature",
        id: `t${i}`,
        vehicleId: KM2.vehicle,
        readings: [{ compartmentId: "k-chill", celsius: 3, at: Date.now() - 10_000 + i }],
      });
    }
    const refused = await client.next("error");
    expect(refused).toMatchObject({ code: "rate_limited", ref: "temperature" });
    expect(refused.message).toMatch(/^too many temperature frames; try again in \d+ ms$/);
    await client.until("the readings stored", () =>
      client.of("temperature_ack").length === RATE ? true : null,
    );
    // Its fixes have their own budget.
    client.send({ type: "location", fix: fix(Date.now() - 1000, 0) });
    const ack = await client.next("location_ack");
    expect(ack.accepted + ack.rejected.length).toBe(1);
    client.close();
  });

  it("answers unavailable when the rate limiter cannot be asked, and keeps running", async () => {
    const t = await courierToken(KM2.courier);
    const client = new TestClient(`${brokenBase.replace("http", "ws")}/ws/driver?token=${t}`);
    await client.next("welcome");
    client.send({
      type: "temperature",
      id: "t",
      vehicleId: KM2.vehicle,
      readings: [{ compartmentId: "k-chill", celsius: 3, at: Date.now() - 1000 }],
    });
    client.send({ type: "location", fix: fix(Date.now() - 1000, 0) });
    await client.until("both refused", () => (client.of("error").length === 2 ? true : null));
    for (const error of client.of("error")) {
      expect(error.code).toBe("unavailable");
      expect(error.message).toContain("send them again");
    }
    client.send({ type: "ping", id: "still-there" });
    await client.next("pong", (f) => f.id === "still-there");
    client.close();
    expect(unhandled).toEqual([]);
  });
});

describe("connections per address", () => {
  it("refuses the upgrade with 429 over the limit, and counts a closed socket out", async () => {
    const admin = await token({ role: "admin", sub: "a-1" });
    const url = `${base.replace("http", "ws")}/ws/live?token=${admin}`;
    // The sockets of the tests before are gone.
    await waitFor("no sockets open", () => {
      const { driver, live } = gateway.stats().connections;
      return driver + live === 0;
    });
    await new Promise((r) => setTimeout(r, 100));
    const open: TestClient[] = [];
    for (let i = 0; i < LIMITS.maxConnectionsPerIp; i++) {
      const client = new TestClient(url);
      await client.next("welcome");
      open.push(client);
    }
    const refused = new TestClient(url);
    await expect(refused.opened).rejects.toThrow("HTTP 429");
    // A refused upgrade is not counted: still refused, not more.
    const again = new WebSocket(url);
    again.on("error", () => {});
    const status = await new Promise<number>((resolve) =>
      again.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
    );
    again.terminate();
    expect(status).toBe(429);
    open.pop()!.close();
    await new Promise((r) => setTimeout(r, 200));
    const replacement = new TestClient(url);
    await replacement.next("welcome");
    for (const client of [...open, replacement]) client.close();
  });
});

describe("channels per connection", () => {
  it("refuses a subscribe over the cap with too_many_channels, and takes one again after an unsubscribe", async () => {
    const admin = await token({ role: "admin", sub: "a-1" });
    // The sockets of the tests before are gone (this gateway allows few per address).
    await waitFor("no sockets open", () => {
      const { driver, live } = gateway.stats().connections;
      return driver + live === 0;
    });
    await new Promise((r) => setTimeout(r, 100));
    const client = new TestClient(`${base.replace("http", "ws")}/ws/live?token=${admin}`);
    await client.next("welcome");
    const subscribed = (channel: string) =>
      client.until(`subscribed to ${channel}`, () =>
        client.of("subscribed").find((f) => f.channel === channel),
      );
    for (const id of ["a", "b", "c"]) {
      client.send({ type: "subscribe", channel: `market:cap-${id}` });
      await subscribed(`market:cap-${id}`);
    }
    // The same channel again is a resubscribe, not one more.
    client.send({ type: "subscribe", channel: "market:cap-a" });
    client.send({ type: "subscribe", channel: "market:cap-d" });
    const refused = await client.until("the refusal", () =>
      client.of("error").find((f) => f.ref === "market:cap-d"),
    );
    expect(refused.code).toBe("too_many_channels");
    client.send({ type: "unsubscribe", channel: "market:cap-b" });
    client.send({ type: "subscribe", channel: "market:cap-d" });
    await subscribed("market:cap-d");
    client.close();
  });
});

describe("a body that stalls", () => {
  const courierHead = async (path: string, extra: string) =>
    `POST ${path} HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${await courierToken(A.courier)}\r\n${extra}`;

  it("cuts off a photo upload that sends a few bytes and stops, with 408 and the reason", async () => {
    const path = `/v1/couriers/me/orders/${PHOTO_ORDER}/photo`;
    for (const framing of ["Content-Length: 2000\r\n", "Transfer-Encoding: chunked\r\n"]) {
      const head = await courierHead(path, `Content-Type: image/png\r\n${framing}`);
      const first = Buffer.from(PNG);
      const part = framing.startsWith("Transfer")
        ? Buffer.concat([
            Buffer.from(`${first.length.toString(16)}\r\n`),
            first,
            Buffer.from("\r\n"),
          ])
        : first;
      const { response, closedAfterMs } = await rawRequest(head, [part]);
      expect(response, framing).toMatch(/^HTTP\/1\.1 408 /);
      expect(response.toLowerCase()).toContain("connection: close");
      expect(JSON.parse(bodyOf(response))).toEqual({
        error: {
          code: "body_timeout",
          message: `the body stalled: nothing came for ${LIMITS.bodyIdleMs} ms; send it again`,
        },
      });
      // Cut off after the time-out, not minutes later.
      expect(closedAfterMs).toBeGreaterThanOrEqual(LIMITS.bodyIdleMs);
      expect(closedAfterMs).toBeLessThan(5_000);
    }
  });

  it("cuts off a JSON body that stalls, and the command is not applied", async () => {
    const before = await orderSeq(A.order);
    const storeToken = await token({ role: "store", sub: A.store });
    const head = `POST /v1/stores/${A.store}/orders/${A.order}/cancel HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${storeToken}\r\nContent-Type: application/json\r\nContent-Length: 40\r\n`;
    const { response } = await rawRequest(head, ['{"reason":']);
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(bodyOf(response)).error.code).toBe("body_timeout");
    expect(await orderSeq(A.order)).toBe(before);
  });

  it("takes a slow upload whose bytes keep coming", async () => {
    const photo = new Uint8Array(2000).fill(9);
    photo.set(PNG);
    const parts = Array.from({ length: 8 }, (_, i) => photo.subarray(i * 250, (i + 1) * 250));
    const head = await courierHead(
      `/v1/couriers/me/orders/${PHOTO_ORDER}/photo`,
      `Content-Type: image/png\r\nContent-Length: ${photo.length}\r\nConnection: close\r\n`,
    );
    // 8 parts, 150 ms apart: 1 s in all, never 300 ms without a byte.
    const { response } = await rawRequest(head, parts, LIMITS.bodyIdleMs / 2);
    expect(response).toMatch(/^HTTP\/1\.1 201 /);
    expect(JSON.parse(bodyOf(response))).toMatchObject({ bytes: 2000, contentType: "image/png" });
  });
});
