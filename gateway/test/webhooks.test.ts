/**
 * Webhooks end to end on the real nats-server: order actors in a real host emit events, the
 * service follows them with its durable consumer and POSTs them to local HTTP servers standing
 * in for shops' back ends.
 */
import { createServer } from "node:http";
import type { IncomingHttpHeaders, Server } from "node:http";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActorClient, ActorHost, allActorLogics } from "../../actors/index.ts";
import { ensureTopology } from "../../nats/index.ts";
import type { Topology } from "../../nats/index.ts";
import { cleanup, connectForTest, testTopology, waitFor } from "../../test/nats-helpers.ts";
import {
  deadLetterBucket,
  kvDeadLetters,
  verifyWebhookSignature,
  WebhookService,
} from "../index.ts";
import type { WebhookEndpoint, WebhookPayload, WebhookServiceOptions } from "../index.ts";

const log = pino({ level: "silent" });
const MIN = 60_000;
const SECRET = "whsec-0123456789abcdef";

let nc: NatsConnection;
let topology: Topology;
let host: ActorHost;
let actors: ActorClient;
const servers: Server[] = [];
const services: WebhookService[] = [];

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly payload: WebhookPayload;
  readonly answered: number;
}

/** A shop's back end: records every request and answers what `answer` says (default 200). */
async function shop(answer: (payload: WebhookPayload, n: number) => number = () => 200) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const payload = JSON.parse(body) as WebhookPayload;
      const status = answer(payload, received.length + 1);
      received.push({ headers: req.headers, body, payload, answered: status });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const endpoint: WebhookEndpoint = { url: `http://127.0.0.1:${port}/xianda`, secret: SECRET };
  /** What the shop took (2xx), in arrival order. */
  const accepted = () => received.filter((r) => r.answered < 300);
  return { endpoint, received, accepted };
}

async function service(
  endpoints: Record<string, WebhookEndpoint>,
  options: Partial<WebhookServiceOptions> & { consumerName: string },
): Promise<WebhookService> {
  const s = new WebhookService({
    nc,
    topology,
    actors,
    endpoints: new Map(Object.entries(endpoints)),
    log,
    retry: { baseDelayMs: 20, maxDelayMs: 100, maxAttempts: 10, timeoutMs: 2_000 },
    ...options,
  });
  services.push(s);
  await s.start();
  return s;
}

async function order(id: string, msg: { type: string } & Record<string, unknown>): Promise<void> {
  const outcome = await actors.call({ type: "order", id }, msg, {
    by: { role: "admin", id: "a-1" },
  });
  expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
}

const create = (id: string, storeId: string) =>
  order(id, {
    type: "create",
    storeId,
    marketId: "m-1",
    shopOrderId: `wx-${id}`,
    temperatureClass: "chilled",
    items: { summary: "2 × 草莓 500g", count: 2 },
    amounts: { goodsFen: 5600, deliveryFeeFen: 500, discountFen: 0, totalFen: 6100 },
    pickup: { lat: 25.0389, lng: 102.7183 },
    dropoff: { kind: "door", location: { lat: 25.0475, lng: 102.7065 } },
    promisedAt: Date.now() + 60 * MIN,
    pickupCode: "AB12",
  });
const accept = (id: string) =>
  order(id, { type: "accept", readyAt: Date.now() + 10 * MIN, readyAtSource: "stated" });

beforeAll(async () => {
  nc = await connectForTest("webhooks.test");
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
}, 30_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  actors?.close();
  await host?.stop();
  await new Kvm(nc)
    .open(deadLetterBucket(topology))
    .then((kv) => kv.destroy())
    .catch(() => {});
  await cleanup(nc, topology);
  await nc.close();
});

describe("webhooks", () => {
  it("sends each status change of a store's orders, in order, signed, with the status after it", async () => {
    const a = await shop();
    await service({ "s-a": a.endpoint }, { consumerName: "wh-order" });
    await create("o-a1", "s-a");
    await create("o-other", "s-nohook");
    await accept("o-a1");
    await order("o-a1", { type: "start_preparing" });
    await order("o-a1", { type: "mark_ready" });
    await order("o-other", { type: "cancel", reason: "shopper_request" });
    await waitFor("four deliveries", () => a.accepted().length >= 4);
    const got = a.accepted().map((r) => r.payload);
    expect(got.map((p) => [p.type, p.status])).toEqual([
      ["order.created", "created"],
      ["order.accepted", "accepted"],
      ["order.preparing", "preparing"],
      ["order.ready", "ready"],
    ]);
    for (const r of a.accepted()) {
      expect(r.payload).toMatchObject({ orderId: "o-a1", storeId: "s-a" });
      expect(r.payload.id).toMatch(/^order\.o-a1\.\d+\.\d+$/);
      expect(r.headers["x-xianda-delivery"]).toBe(r.payload.id);
      expect(
        verifyWebhookSignature(SECRET, String(r.headers["x-xianda-signature"]), r.body, Date.now()),
      ).toBe(true);
    }
    expect(got[1]!.data).toMatchObject({ readyAtSource: "stated" });
    // Nothing for a store without an endpoint.
    expect(a.received.some((r) => r.payload.orderId === "o-other")).toBe(false);
  });

  it("resumes after a restart where it stopped: nothing lost, nothing taken twice", async () => {
    const b = await shop();
    const first = await service({ "s-b": b.endpoint }, { consumerName: "wh-resume" });
    await create("o-b1", "s-b");
    await waitFor("the first delivery", () => b.accepted().length === 1);
    await first.stop();
    // While no service runs.
    await accept("o-b1");
    await order("o-b1", { type: "cancel", reason: "out_of_stock" });
    await create("o-b2", "s-b");
    await new Promise((r) => setTimeout(r, 300));
    expect(b.received).toHaveLength(1);
    await service({ "s-b": b.endpoint }, { consumerName: "wh-resume" });
    await waitFor("the deliveries missed while stopped", () => b.accepted().length >= 4);
    await new Promise((r) => setTimeout(r, 300));
    const got = b.accepted().map((r) => `${r.payload.orderId} ${r.payload.type}`);
    expect(got).toEqual([
      "o-b1 order.created",
      "o-b1 order.accepted",
      "o-b1 order.cancelled",
      "o-b2 order.created",
    ]);
    expect(new Set(b.accepted().map((r) => r.payload.id)).size).toBe(4);
  });

  it("keeps an endpoint's events in order through its failures, retrying with the same delivery id", async () => {
    // Fails the first three requests, whatever they carry.
    const c = await shop((_p, n) => (n <= 3 ? 503 : 200));
    await service({ "s-c": c.endpoint }, { consumerName: "wh-retry" });
    await create("o-c1", "s-c");
    await accept("o-c1");
    await order("o-c1", { type: "mark_ready" });
    await waitFor("three deliveries", () => c.accepted().length >= 3);
    expect(c.received.slice(0, 4).map((r) => r.payload.type)).toEqual(
      Array(4).fill("order.created"),
    );
    expect(new Set(c.received.slice(0, 4).map((r) => r.headers["x-xianda-delivery"])).size).toBe(1);
    expect(c.received.slice(0, 4).map((r) => r.headers["x-xianda-attempt"])).toEqual([
      "1",
      "2",
      "3",
      "4",
    ]);
    expect(c.accepted().map((r) => r.payload.type)).toEqual([
      "order.created",
      "order.accepted",
      "order.ready",
    ]);
  });

  it("gives a delivery up after the attempt limit into a dead letter, and goes on with the next", async () => {
    const d = await shop((p) => (p.type === "order.created" ? 500 : 200));
    const deadLetters = kvDeadLetters(nc, deadLetterBucket(topology));
    const s = await service(
      { "s-d": d.endpoint },
      { consumerName: "wh-dead", retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20 } },
    );
    await create("o-d1", "s-d");
    await accept("o-d1");
    await waitFor("the accepted event delivered", () => d.accepted().length === 1);
    expect(d.received.map((r) => r.payload.type)).toEqual([
      "order.created",
      "order.created",
      "order.created",
      "order.accepted",
    ]);
    const letters = (await deadLetters.list()).filter((l) => l.storeId === "s-d");
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      storeId: "s-d",
      url: d.endpoint.url,
      attempts: 3,
      lastError: "HTTP 500",
      payload: { type: "order.created", orderId: "o-d1" },
    });
    expect(letters[0]!.deliveryId).toBe(d.received[0]!.payload.id);
    expect(s.stats()).toMatchObject({ deadLettered: 1, delivered: 1 });
  });
});
