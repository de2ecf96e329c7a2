/**
 * The gateway on a real nats-server (and Redis for the rate limit), with a real actor host in
 * process for order and courier state, and real ws clients.
 */
import { randomBytes } from "node:crypto";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActorClient, ActorHost, allActorLogics } from "../../actors/index.ts";
import { connectRedis, createRateLimiter } from "../../db/redis/index.ts";
import type { RedisHandle } from "../../db/redis/index.ts";
import { toGcj02, toWgs84 } from "../../geo/index.ts";
import { AckedPublisher, ensureTopology } from "../../nats/index.ts";
import type { Topology } from "../../nats/index.ts";
import type { PushFrame, TokenClaims } from "../../protocol/index.ts";
import { cleanup, connectForTest, testTopology, waitFor } from "../../test/nats-helpers.ts";
import { createGateway, signToken } from "../index.ts";
import type { Gateway } from "../index.ts";
import { TestClient } from "./helpers.ts";

const SECRET = "test-secret-0123456789-abcdefghijklmnop";
const log = pino({ level: "silent" });
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const MIN = 60_000;
const STORE_AT = { lat: 31.2304, lng: 121.4737 };
const DOOR = { lat: 31.2243, lng: 121.4768 };

let nc: NatsConnection;
let topology: Topology;
let host: ActorHost;
let actors: ActorClient;
let gateway: Gateway;
let base: string;
let wsBase: string;
/** Added to the gateway's clock (tracking expiry without waiting two hours). */
let clockSkew = 0;
let publisher: AckedPublisher;

async function token(claims: Omit<TokenClaims, "exp">, ttlSeconds = 600): Promise<string> {
  return signToken({ ...claims, exp: Math.floor(Date.now() / 1000) + ttlSeconds }, SECRET);
}
const admin = () => token({ role: "admin", sub: "a-1" });
const dispatcher = (mkt = "m-1") => token({ role: "dispatcher", sub: "d-1", mkt });
const store = (sub = "s-1") => token({ role: "store", sub });
const courier = (sub = "c-1", mkt = "m-1") => token({ role: "courier", sub, mkt });
const shopper = (ord = "o-1") => token({ role: "shopper", sub: "u-1", ord });

async function createOrder(id: string, storeId: string, marketId: string): Promise<void> {
  const outcome = await actors.call(
    { type: "order", id },
    {
      type: "create",
      storeId,
      marketId,
      shopOrderId: `wx-${id}`,
      shopperId: "u-1",
      temperatureClass: "chilled",
      items: { summary: "2 × 草莓 500g", count: 2 },
      amounts: { goodsFen: 5600, deliveryFeeFen: 500, discountFen: 0, totalFen: 6100 },
      pickup: STORE_AT,
      dropoff: { kind: "door", location: DOOR },
      promisedAt: Date.now() + 60 * MIN,
      pickupCode: "AB12",
      deliveryPin: "4321",
    },
    { by: { role: "admin", id: "a-1" } },
  );
  expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
}

async function asAdmin(id: string, msg: { type: string } & Record<string, unknown>): Promise<void> {
  const outcome = await actors.call({ type: "order", id }, msg, {
    by: { role: "admin", id: "a-1" },
  });
  expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
}

/** Stores a push frame in PUSH on `channel`; resolves with its offset. */
async function push(channel: string, frame: PushFrame): Promise<number> {
  const [kind, id] = channel.split(":") as ["order" | "market" | "courier" | "vehicle", string];
  const ack = await publisher.publish(
    topology.subjects.push(kind, id),
    encoder.encode(JSON.stringify(frame)),
  );
  return ack.seq;
}

const status = (orderId: string, n: number): PushFrame => ({
  kind: "status",
  orderId,
  status: `s${n}`,
  at: Date.now(),
});

async function live(tokenValue: string, coord = "wgs84"): Promise<TestClient> {
  const client = new TestClient(`${wsBase}/ws/live?token=${tokenValue}&coord=${coord}`);
  await client.opened;
  await client.next("welcome");
  return client;
}

async function driver(tokenValue: string): Promise<TestClient> {
  const client = new TestClient(`${wsBase}/ws/driver?token=${tokenValue}`);
  await client.opened;
  await client.next("welcome");
  return client;
}

async function subscribed(client: TestClient, channel: string, offset?: number) {
  const before = client.of("subscribed").filter((f) => f.channel === channel).length;
  client.send({ type: "subscribe", channel, ...(offset !== undefined ? { offset } : {}) });
  return client.until(
    `subscribed to ${channel}`,
    () => client.of("subscribed").filter((f) => f.channel === channel)[before],
  );
}

/** A response body as the tests read it (its shape is what they check). */
type Body = { error: { code: string; message: string } } & Record<string, any>;
const json = (res: Response) => res.json() as Promise<Body>;

function request(path: string, init: { method?: string; token?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  return gateway.app.request(path, {
    method: init.method ?? "GET",
    headers,
    ...(init.body !== undefined
      ? { body: typeof init.body === "string" ? init.body : JSON.stringify(init.body) }
      : {}),
  });
}

beforeAll(async () => {
  nc = await connectForTest("gateway.test");
  topology = testTopology({ partitions: 4 });
  await ensureTopology(nc, topology);
  host = new ActorHost({
    nc,
    topology,
    logics: allActorLogics,
    log,
    renewMs: 200,
    leaseTtlMs: 600,
  });
  await host.start();
  await waitFor("all partitions held", () => host.partitions.length === 4);
  actors = new ActorClient({ nc, topology });
  publisher = new AckedPublisher(nc);
  gateway = createGateway({
    nc,
    topology,
    actors,
    auth: { secret: SECRET },
    log,
    clock: () => Date.now() + clockSkew,
    apps: {
      tracking: {
        html: "<html>tracking</html>",
        assets: { "app.js": { contentType: "text/javascript", body: "1" } },
      },
      driver: { html: async () => "<html>driver</html>", assets: async () => ({}) },
    },
  });
  const { port } = await gateway.listen(0, "127.0.0.1");
  base = `http://127.0.0.1:${port}`;
  wsBase = `ws://127.0.0.1:${port}`;
  await createOrder("o-1", "s-1", "m-1");
  await createOrder("o-2", "s-2", "m-2");
  await createOrder("o-3", "s-1", "m-1");
  // o-1 goes to courier c-1; o-3 is cancelled (its tracking link ends 2 h later).
  await asAdmin("o-1", { type: "accept", readyAt: Date.now() + 10 * MIN, readyAtSource: "stated" });
  await asAdmin("o-1", { type: "assign", courierId: "c-1" });
  await asAdmin("o-3", { type: "cancel", reason: "shopper_request" });
}, 30_000);

afterAll(async () => {
  await gateway?.close();
  publisher?.close();
  actors?.close();
  await host?.stop();
  await cleanup(nc, topology);
  await nc.close();
});

describe("HTTP", () => {
  it("answers health, readiness and metrics", async () => {
    expect((await request("/healthz")).status).toBe(200);
    await waitFor("ready", async () => (await request("/readyz")).status === 200);
    const metrics = await request("/metrics");
    expect(await metrics.text()).toContain("xianda_gateway_ws_connections");
    const res = await request("/healthz");
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("serves the apps it was given", async () => {
    const page = await request("/t/some.token.value");
    expect(await page.text()).toBe("<html>tracking</html>");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(await (await request("/t/app.js")).text()).toBe("1");
    expect(await (await request("/driver")).text()).toBe("<html>driver</html>");
    expect((await request("/console")).status).toBe(404);
  });

  it("answers bad bodies with a 4xx and the reason", async () => {
    const t = await admin();
    const notJson = await request("/v1/tokens", { method: "POST", token: t, body: "{nope" });
    expect(notJson.status).toBe(400);
    expect((await json(notJson)).error.code).toBe("invalid_json");

    const wrongType = await request("/v1/tokens", {
      method: "POST",
      token: t,
      body: { role: "courier", sub: "c-1", mkt: "m-1", ttlSeconds: "600" },
    });
    expect(wrongType.status).toBe(400);
    const body = await json(wrongType);
    expect(body.error.code).toBe("invalid_body");
    expect(body.error.message).toContain("ttlSeconds");

    const missingMarket = await request("/v1/tokens", {
      method: "POST",
      token: t,
      body: { role: "courier", sub: "c-1", ttlSeconds: 60 },
    });
    expect(missingMarket.status).toBe(400);
    expect((await json(missingMarket)).error.message).toContain("mkt");

    const tooLarge = await request("/v1/tokens", {
      method: "POST",
      token: t,
      body: { role: "admin", sub: "x".repeat(70_000), ttlSeconds: 60 },
    });
    expect(tooLarge.status).toBe(413);

    const shift = await request("/v1/couriers/me/shift", {
      method: "POST",
      token: await courier("c-8"),
      body: { on: "yes" },
    });
    expect(shift.status).toBe(400);
    expect((await json(shift)).error.message).toContain("on");
  });

  it("refuses missing, forged and expired tokens with 401 and the reason", async () => {
    const none = await request("/v1/orders/o-1/track");
    expect(none.status).toBe(401);
    expect((await json(none)).error.code).toBe("missing_token");
    const forged = await signToken(
      { role: "admin", sub: "a-1", exp: Math.floor(Date.now() / 1000) + 60 },
      "another-secret-0123456789-abcdefghijkl",
    );
    const bad = await request("/v1/orders/o-1/track", { token: forged });
    expect(bad.status).toBe(401);
    expect((await json(bad)).error.code).toBe("invalid_token");
    const expired = await request("/v1/orders/o-1/track", {
      token: await token({ role: "admin", sub: "a-1" }, -5),
    });
    expect(expired.status).toBe(401);
    expect((await json(expired)).error.code).toBe("token_expired");
  });

  it("allows and denies each role on each route as the table says", async () => {
    const tokens: Record<string, string> = {
      admin: await admin(),
      dispatcher: await dispatcher("m-1"),
      "dispatcher of m-2": await dispatcher("m-2"),
      store: await store("s-1"),
      "store s-2": await store("s-2"),
      courier: await courier("c-5"),
      shopper: await shopper("o-1"),
      "shopper of o-2": await shopper("o-2"),
    };
    const mint = { role: "courier", sub: "c-1", mkt: "m-1", ttlSeconds: 60 };
    const table: [string, string, string, unknown, Record<string, number>][] = [
      [
        "POST",
        "/v1/tokens",
        "",
        mint,
        {
          admin: 201,
          dispatcher: 403,
          store: 403,
          courier: 403,
          shopper: 403,
        },
      ],
      [
        "POST",
        "/v1/orders/o-1/tracking-token",
        "",
        undefined,
        {
          admin: 201,
          dispatcher: 201,
          "dispatcher of m-2": 403,
          store: 201,
          "store s-2": 403,
          courier: 403,
          shopper: 403,
        },
      ],
      [
        "GET",
        "/v1/orders/o-1/track",
        "",
        undefined,
        {
          admin: 200,
          dispatcher: 200,
          "dispatcher of m-2": 403,
          store: 403,
          courier: 403,
          shopper: 200,
          "shopper of o-2": 403,
        },
      ],
      [
        "POST",
        "/v1/couriers/me/shift",
        "",
        { on: false },
        {
          admin: 403,
          dispatcher: 403,
          store: 403,
          shopper: 403,
        },
      ],
    ];
    const got: string[] = [];
    const want: string[] = [];
    for (const [method, path, , body, expected] of table) {
      for (const [who, statusCode] of Object.entries(expected)) {
        const res = await request(path, { method, token: tokens[who]!, body });
        got.push(`${method} ${path} as ${who}: ${res.status}`);
        want.push(`${method} ${path} as ${who}: ${statusCode}`);
        if (res.status >= 400) {
          const error = (await json(res)).error;
          expect(error.code).toBeTruthy();
          expect(error.message.length).toBeGreaterThan(5);
        }
      }
    }
    expect(got).toEqual(want);
  });

  it("mints a tracking link a shopper can use for that order only", async () => {
    const res = await request("/v1/orders/o-1/tracking-token", {
      method: "POST",
      token: await store("s-1"),
    });
    const link = await json(res);
    expect(link.url).toBe(`/t/${link.token}`);
    expect(link.expiresAt).toBeGreaterThan(Date.now());
    const mine = await request("/v1/orders/o-1/track", { token: link.token });
    expect(mine.status).toBe(200);
    const snapshot = await json(mine);
    expect(snapshot).toMatchObject({ orderId: "o-1", status: "assigned", channel: "order:o-1" });
    expect(typeof snapshot.offset).toBe("number");
    const other = await request("/v1/orders/o-2/track", { token: link.token });
    expect(other.status).toBe(403);
  });

  it("puts a courier on and off shift and maps a refusal to 409", async () => {
    const t = await courier("c-7");
    const on = await request("/v1/couriers/me/shift", {
      method: "POST",
      token: t,
      body: { on: true },
    });
    expect(on.status).toBe(200);
    const { view } = await actors.state<{ shift: { marketId: string } | null }>({
      type: "courier",
      id: "c-7",
    });
    expect(view.shift?.marketId).toBe("m-1");
    const again = await request("/v1/couriers/me/shift", {
      method: "POST",
      token: t,
      body: { on: true },
    });
    expect(again.status).toBe(409);
    expect((await json(again)).error.code).toBe("invalid_transition");
    const off = await request("/v1/couriers/me/shift", {
      method: "POST",
      token: t,
      body: { on: false },
    });
    expect(off.status).toBe(200);
  });

  it("ends a shopper's tracking two hours after the order ended", async () => {
    const t = await token({ role: "shopper", sub: "u-1", ord: "o-3" }, 4 * 3600);
    expect((await request("/v1/orders/o-3/track", { token: t })).status).toBe(200);
    clockSkew = 2 * 60 * MIN + MIN;
    try {
      const late = await request("/v1/orders/o-3/track", { token: t });
      expect(late.status).toBe(403);
      expect((await json(late)).error.code).toBe("tracking_expired");
      const client = new TestClient(`${wsBase}/ws/live?token=${t}`);
      const closed = await client.waitClosed();
      expect(closed.code).toBe(4003);
      expect(client.of("error")[0]).toMatchObject({ code: "tracking_expired" });
    } finally {
      clockSkew = 0;
    }
  });
});

describe("live websocket", () => {
  it("resumes after a reconnect without losing or repeating a frame", async () => {
    const t = await admin();
    const first = await live(t);
    await subscribed(first, "order:o-2");
    const offsets: number[] = [];
    for (let n = 0; n < 20; n++) offsets.push(await push("order:o-2", status("o-2", n)));
    await first.until("8 frames", () => first.of("push").length >= 8);
    const kept = first.of("push").slice(0, 8);
    first.close();
    await first.waitClosed();
    for (let n = 20; n < 32; n++) offsets.push(await push("order:o-2", status("o-2", n)));

    const last = kept.at(-1)!.offset;
    const second = await live(t);
    const done = await subscribed(second, "order:o-2", last);
    for (let n = 32; n < 35; n++) offsets.push(await push("order:o-2", status("o-2", n)));
    await second.until("all frames", () => second.of("push").length >= 35 - 8);
    const resumed = second.of("push").map((f) => f.offset);
    expect(kept.map((f) => f.offset)).toEqual(offsets.slice(0, 8));
    expect(resumed).toEqual(offsets.slice(8));
    expect(second.of("push").map((f) => (f.frame as { status: string }).status)).toEqual(
      Array.from({ length: 27 }, (_, i) => `s${i + 8}`),
    );
    expect(done.offset).toBeGreaterThanOrEqual(offsets[31]!);
    // `subscribed` comes after the replayed frames and before the live ones.
    const at = second.frames.indexOf(done);
    const pushesBefore = second.frames.slice(0, at).filter((f) => f.type === "push").length;
    expect(pushesBefore).toBe(24);
    second.close();
  });

  it("sends the channel's latest frame on a subscribe without offset", async () => {
    const seq = await push("order:o-2", status("o-2", 99));
    const client = await live(await admin());
    const done = await subscribed(client, "order:o-2");
    expect(client.of("push").map((f) => f.offset)).toEqual([seq]);
    expect(done.offset).toBe(seq);
    client.close();
  });

  it("keeps other clients fast while one stalls, and bounds the stalled one's queue", async () => {
    const t = await dispatcher("m-1");
    const stalled = await live(t);
    const reader = await live(t);
    await subscribed(reader, "market:m-1");
    await subscribed(stalled, "market:m-1");
    stalled.ws.pause();
    const couriers = Array.from({ length: 20 }, (_, i) => ({
      courierId: `c-${i}`,
      lat: 31.2 + i / 1000,
      lng: 121.4,
      at: Date.now(),
    }));
    const N = 5_000;
    const pending: Promise<unknown>[] = [];
    for (let n = 0; n < N; n++) {
      const frame: PushFrame = { kind: "couriers", marketId: "m-1", couriers, at: Date.now() };
      pending.push(push("market:m-1", frame));
      if (n % 100 === 99) {
        await Promise.all(pending.splice(0));
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    await Promise.all(pending);
    await reader.until("all frames", () => reader.of("push").length >= N, 15_000);
    const latencies = reader.frames
      .map((f, i) => (f.type === "push" ? reader.receivedAt[i]! - f.frame.at : null))
      .filter((x): x is number => x !== null)
      .sort((a, b) => a - b);
    const p50 = latencies[Math.floor(latencies.length * 0.5)]!;
    const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
    console.log(
      `reader latency with a stalled client: p50 ${p50} ms, p99 ${p99} ms over ${N} frames`,
    );
    expect(p99).toBeLessThan(500);
    const stats = gateway.stats();
    expect(stats.maxQueued).toBeLessThanOrEqual(4);
    const metrics = await (await request("/metrics")).text();
    const conflations = Number(/xianda_gateway_conflations_total (\d+)/.exec(metrics)?.[1]);
    expect(conflations).toBeGreaterThan(0);

    // Unstalled, it catches up with the latest frame, never a queue of stale ones.
    stalled.ws.resume();
    const lastOffset = reader.of("push").at(-1)!.offset;
    await stalled.until(
      "the latest frame",
      () => stalled.of("push").some((f) => f.offset === lastOffset),
      10_000,
    );
    expect(stalled.of("push").length).toBeLessThan(N);
    const offsetsSeen = stalled.of("push").map((f) => f.offset);
    expect(offsetsSeen).toEqual([...offsetsSeen].sort((a, b) => a - b));
    expect(stalled.closed).toBeNull();
    stalled.close();
    reader.close();
  }, 30_000);

  it("lets a shopper token watch its own order only", async () => {
    const client = await live(await shopper("o-1"));
    await subscribed(client, "order:o-1");
    for (const channel of ["order:o-2", "market:m-1", "courier:c-1"]) {
      client.send({ type: "subscribe", channel });
      const error = await client.next("error", (f) => f.ref === channel);
      expect(error.code).toBe("forbidden");
    }
    await push("order:o-2", status("o-2", 1000));
    const seq = await push("order:o-1", status("o-1", 1));
    await client.next("push", (f) => f.offset === seq);
    expect(client.of("push").every((f) => f.channel === "order:o-1")).toBe(true);
    client.close();
  });

  it("lets a courier watch itself and the orders assigned to it, nothing else", async () => {
    const client = await live(await courier("c-1"));
    await subscribed(client, "courier:c-1");
    await subscribed(client, "order:o-1");
    for (const channel of ["order:o-2", "courier:c-2", "market:m-1"]) {
      client.send({ type: "subscribe", channel });
      expect((await client.next("error", (f) => f.ref === channel)).code).toBe("forbidden");
    }
    client.close();
  });

  it("shows a courier its pickup codes and blanks them for anyone else watching", async () => {
    const own = await live(await courier("c-1"));
    await subscribed(own, "courier:c-1");
    const watcher = await live(await admin());
    await subscribed(watcher, "courier:c-1");
    const seq = await push("courier:c-1", {
      kind: "work",
      courierId: "c-1",
      status: "busy",
      offers: [],
      jobs: [{ orderId: "o-1", temperatureClass: "ambient", pickedUp: false, pickupCode: "AB12" }],
      route: [],
      cause: "job_assigned",
      at: Date.now(),
    });
    const mine = (await own.next("push", (f) => f.offset === seq)).frame;
    const theirs = (await watcher.next("push", (f) => f.offset === seq)).frame;
    expect(mine).toMatchObject({ jobs: [{ orderId: "o-1", pickupCode: "AB12" }] });
    expect(theirs).toMatchObject({ jobs: [{ orderId: "o-1", pickupCode: null }] });
    own.close();
    watcher.close();
  });

  it("converts positions for a gcj02 client", async () => {
    const client = await live(await admin(), "gcj02");
    await subscribed(client, "courier:c-3");
    const at = Date.now();
    const seq = await push("courier:c-3", {
      kind: "courier",
      courierId: "c-3",
      lat: 31.23,
      lng: 121.47,
      at,
      coarse: false,
    });
    const frame = (await client.next("push", (f) => f.offset === seq)).frame;
    const expected = toGcj02({ lat: 31.23, lng: 121.47 });
    expect(frame).toMatchObject({ kind: "courier", lat: expected.lat, lng: expected.lng });
    client.close();
  });

  it("answers malformed frames with error frames and stays open", async () => {
    const client = await live(await admin());
    client.send("{not json");
    expect((await client.next("error", () => true)).code).toBe("invalid_frame");
    client.send({ type: "dance" });
    expect((await client.next("error", (f) => f.code === "unknown_type")).ref).toBe("dance");
    client.send({ type: "subscribe", channel: "nowhere" });
    const invalid = await client.next("error", (f) => f.message.includes("channel"));
    expect(invalid.code).toBe("invalid_frame");
    client.send({ type: "subscribe", channel: "order:o-1", offset: "3" });
    expect((await client.next("error", (f) => f.message.startsWith("offset"))).code).toBe(
      "invalid_frame",
    );
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await client.next("error", (f) => f.message.includes("text"));
    client.send({ type: "ping", id: "p1" });
    expect(await client.next("pong")).toMatchObject({ id: "p1" });
    expect(client.closed).toBeNull();
    client.send(JSON.stringify({ type: "ping", id: "x".repeat(20_000) }));
    expect((await client.waitClosed()).code).toBe(1009);
  });

  it("refuses a bad token with an error frame and 4001, a wrong role on /ws/driver with 4003", async () => {
    const expired = new TestClient(
      `${wsBase}/ws/live?token=${await token({ role: "admin", sub: "a" }, -5)}`,
    );
    expect((await expired.waitClosed()).code).toBe(4001);
    expect(expired.of("error")[0]).toMatchObject({ code: "token_expired" });
    const none = new TestClient(`${wsBase}/ws/live`);
    expect((await none.waitClosed()).code).toBe(4001);
    const wrongRole = new TestClient(`${wsBase}/ws/driver?token=${await dispatcher()}`);
    expect((await wrongRole.waitClosed()).code).toBe(4003);
  });
});

describe("driver websocket", () => {
  let locations: Subscription;
  const received: { subject: string; data: Record<string, unknown> }[] = [];

  beforeAll(() => {
    // Gateways publish the fixes of each loop turn as one batch (a JSON array).
    locations = nc.subscribe(topology.subjects.courierFixBatch(), {
      callback: (_err, msg) => {
        const batch = JSON.parse(decoder.decode(msg.data)) as Record<string, unknown>[];
        for (const data of batch) received.push({ subject: msg.subject, data });
      },
    });
  });
  afterAll(() => locations.unsubscribe());

  it("publishes a courier's fixes under its own id only, converted to WGS-84", async () => {
    const client = await driver(await courier("c-1"));
    const at = Date.now() - 100_000; // fixes up to 60 s later are still in the past
    client.send({ type: "location", fix: { lat: 31.23, lng: 121.47, at, accuracy: 5 } });
    const gcj = toGcj02({ lat: 31.231, lng: 121.471 });
    client.send({
      type: "location",
      coord: "gcj02",
      fix: { ...gcj, at: at + 30_000, accuracy: 5, speed: 3 },
    });
    await client.until(
      "two fixes acked",
      () => client.of("location_ack").reduce((n, a) => n + a.accepted, 0) >= 2,
    );
    await waitFor("two fixes published", () => received.length >= 2);
    expect(received.map((r) => r.data.courierId)).toEqual(["c-1", "c-1"]);
    expect(received[0]!.data).toMatchObject({
      courierId: "c-1",
      marketId: "m-1",
      lat: 31.23,
      lng: 121.47,
      at,
    });
    const back = toWgs84(gcj);
    expect(received[1]!.data.lat).toBeCloseTo(back.lat, 6);
    expect(received[1]!.data.lng).toBeCloseTo(back.lng, 6);
    expect(Math.abs((received[1]!.data.lat as number) - 31.231)).toBeLessThan(1e-5);

    // A frame cannot name a courier: there is no such field, and one is refused.
    client.send({
      type: "location",
      courierId: "c-2",
      fix: { lat: 31.23, lng: 121.47, at: at + 40_000 },
    });
    const forged = await client.next("error", (f) => f.message.includes("courierId"));
    expect(forged.code).toBe("invalid_frame");
    client.send({
      type: "locations",
      fixes: [{ lat: 31.23, lng: 121.47, at: at + 50_000, courierId: "c-2" }],
    });
    await client.next("error", (f) => f.message.includes("fixes.0.courierId"));
    // An impossible jump is acked as rejected, with its code.
    client.send({ type: "location", fix: { lat: 39.9, lng: 116.4, at: at + 60_000 } });
    const ack = await client.next("location_ack", (a) => a.rejected.length > 0);
    expect(ack.rejected).toEqual([{ at: at + 60_000, code: "impossible_jump" }]);
    expect(received.every((r) => r.data.courierId === "c-1")).toBe(true);
    expect(received).toHaveLength(2);
    client.close();
  });

  it("answers malformed driver frames with error frames", async () => {
    const client = await driver(await courier("c-4"));
    client.send("]");
    expect((await client.next("error")).code).toBe("invalid_frame");
    client.send({ type: "subscribe", channel: "order:o-1" });
    expect((await client.next("error", (f) => f.code === "unknown_type")).ref).toBe("subscribe");
    client.send({ type: "location", fix: { lat: "north", lng: 121, at: Date.now() } });
    expect((await client.next("error", (f) => f.message.startsWith("fix.lat"))).code).toBe(
      "invalid_frame",
    );
    client.send({ type: "ping" });
    await client.next("pong");
    client.close();
  });
});

describe("limits", () => {
  let redis: RedisHandle;
  let limited: Gateway;
  let limitedWs: string;
  const keyPrefix = `xianda_test_${randomBytes(6).toString("hex")}:`;

  beforeAll(async () => {
    redis = await connectRedis({ url: "redis://127.0.0.1:6379", keyPrefix });
    limited = createGateway({
      nc,
      topology,
      actors,
      auth: { secret: SECRET },
      log,
      rateLimiter: createRateLimiter(redis, { name: "loc", limit: 5, windowMs: 10_000 }),
      limits: { maxConnectionsPerIp: 3 },
    });
    const { port } = await limited.listen(0, "127.0.0.1");
    limitedWs = `ws://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await limited?.close();
    const keys: string[] = [];
    for await (const batch of redis.client.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 500 })) {
      keys.push(...batch);
    }
    if (keys.length > 0) await redis.client.unlink(keys);
    await redis?.close();
  });

  it("drops a courier's fixes over the rate limit (Redis) with rate_limited", async () => {
    const client = new TestClient(`${limitedWs}/ws/driver?token=${await courier("c-6")}`);
    await client.next("welcome");
    const at = Date.now();
    for (let i = 0; i < 8; i++) {
      client.send({
        type: "location",
        fix: { lat: 31.23 + i * 1e-5, lng: 121.47, at: at + i * 100 },
      });
    }
    await client.until("8 answers", () => {
      const accepted = client.of("location_ack").reduce((n, a) => n + a.accepted, 0);
      const limitedCount = client.of("error").filter((e) => e.code === "rate_limited").length;
      return accepted + limitedCount === 8 && accepted === 5;
    });
    expect(client.of("error").filter((e) => e.code === "rate_limited")).toHaveLength(3);
    client.close();
  });

  it("refuses a websocket over the per-address limit with 429", async () => {
    const t = await admin();
    const open = await Promise.all(
      [0, 1, 2].map(async () => {
        const c = new TestClient(`${limitedWs}/ws/live?token=${t}`);
        await c.next("welcome");
        return c;
      }),
    );
    const extra = new TestClient(`${limitedWs}/ws/live?token=${t}`);
    await expect(extra.opened).rejects.toThrow("429");
    for (const c of open) c.close();
  });
});
