/**
 * The shopper's contact through the gateway, on a real nats-server and actor host: validated on
 * creation, encrypted before it leaves the gateway (the order's state and events hold
 * ciphertext), masked by role, the address shown to a courier only while the order is theirs,
 * an admin's reveal recorded first, keys rotated, and tracking links that expire.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActorClient, ActorHost, allActorLogics } from "../../actors/index.ts";
import type { Principal } from "../../actors/index.ts";
import { ensureTopology } from "../../nats/index.ts";
import type { Topology } from "../../nats/index.ts";
import { newKeyringEntry, parseKeyring } from "../../pii/index.ts";
import type { PiiKeyring } from "../../pii/index.ts";
import type { TokenClaims } from "../../protocol/index.ts";
import { cleanup, connectForTest, testTopology, waitFor } from "../../test/nats-helpers.ts";
import { TRACKING_GRACE_MS } from "../options.ts";
import { orderIdFor } from "../http/stores.ts";
import { createGateway, signToken } from "../index.ts";
import type { Gateway } from "../index.ts";

const SECRET = "pii-test-secret-0123456789-abcdefghijklm";
const log = pino({ level: "silent" });
const MIN = 60_000;
const STORE_AT = { lat: 25.0389, lng: 102.7183 };
const DOOR = { lat: 25.0475, lng: 102.7065 };
const ALL_DAY = [{ open: "00:00", close: "24:00" }];
const CONTACT = {
  name: "张三丰",
  phone: "13812341234",
  address: "云南省昆明市五华区翠湖南路12号3栋502",
  doorNote: "放门口，别按门铃",
};
const PLAINTEXT = [CONTACT.name, CONTACT.phone, CONTACT.address, CONTACT.doorNote, "翠湖南路"];
const K1 = newKeyringEntry("k1");
const K2 = newKeyringEntry("k2");

let nc: NatsConnection;
let topology: Topology;
let host: ActorHost;
let actors: ActorClient;
/** The gateway's clock runs `skew` ms ahead of the wall clock (tracking-link expiry). */
let skew = 0;
const gateways: Gateway[] = [];
let gateway: Gateway;

function gatewayWith(pii: PiiKeyring | undefined): Gateway {
  const g = createGateway({
    nc,
    topology,
    actors,
    auth: { secret: SECRET },
    log,
    clock: () => Date.now() + skew,
    ...(pii ? { pii } : {}),
  });
  gateways.push(g);
  return g;
}

const token = (claims: Omit<TokenClaims, "exp">, ttl = 600) =>
  signToken({ ...claims, exp: Math.floor(Date.now() / 1000) + ttl }, SECRET);
const admin = () => token({ role: "admin", sub: "a-1" });
const dispatcher = () => token({ role: "dispatcher", sub: "d-1", mkt: "m-pii" });
const store = () => token({ role: "store", sub: "s-pii" });
const courier = (sub: string) => token({ role: "courier", sub, mkt: "m-pii" });

type Body = Record<string, any>;

async function call(
  g: Gateway,
  method: string,
  path: string,
  t: string,
  body?: unknown,
): Promise<{ status: number; body: Body; text: string }> {
  const res = await g.app.request(path, {
    method,
    headers: {
      authorization: `Bearer ${t}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Body) : {}, text };
}
const get = (path: string, t: string, g = gateway) => call(g, "GET", path, t);
const post = (path: string, t: string, body?: unknown, g = gateway) =>
  call(g, "POST", path, t, body);

function orderBody(shopOrderId: string, extra: Record<string, unknown> = {}) {
  return {
    shopOrderId,
    shopperId: "u-1",
    temperatureClass: "ambient",
    items: { summary: "1 × 鲜牛奶", count: 1 },
    amounts: { goodsFen: 1000, deliveryFeeFen: 500, discountFen: 0, totalFen: 1500 },
    dropoff: { kind: "door", location: DOOR },
    promisedAt: Date.now() + 60 * MIN,
    deliveryPin: "4321",
    contact: CONTACT,
    ...extra,
  };
}

const as = (p: Principal) => ({ by: p });
const ADMIN: Principal = { role: "admin", id: "a-setup" };

async function command(orderId: string, msg: { type: string } & Record<string, unknown>) {
  const outcome = await actors.call({ type: "order", id: orderId }, msg, as(ADMIN));
  expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
}

const orderView = async (id: string) =>
  (await actors.state<Record<string, any>>({ type: "order", id })).view;

/** Created through the API with the contact, and accepted by the store. */
async function placed(shopOrderId: string): Promise<string> {
  const created = await post("/v1/stores/s-pii/orders", await store(), orderBody(shopOrderId));
  expect(created.status, created.text).toBe(201);
  const orderId = created.body.orderId as string;
  await command(orderId, {
    type: "accept",
    readyAt: Date.now() + 10 * MIN,
    readyAtSource: "stated",
  });
  return orderId;
}

function expectNoPlaintext(what: string, text: string): void {
  for (const p of PLAINTEXT) expect(text, `${what} holds "${p}"`).not.toContain(p);
}

beforeAll(async () => {
  nc = await connectForTest("pii.test");
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
  gateway = gatewayWith(parseKeyring(K1));
  const setup = async (
    type: string,
    id: string,
    msg: { type: string } & Record<string, unknown>,
    by = ADMIN,
  ) => {
    const outcome = await actors.call({ type, id }, msg, { by });
    expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
  };
  await setup("market", "m-pii", {
    type: "configure",
    name: "五华区",
    city: "昆明",
    autoDispatch: false,
  });
  await setup("store", "s-pii", {
    type: "register",
    name: "鲜果铺",
    marketId: "m-pii",
    location: STORE_AT,
    openHours: Object.fromEntries(["1", "2", "3", "4", "5", "6", "7"].map((d) => [d, ALL_DAY])),
  });
  for (const c of ["c-1", "c-2"]) {
    await setup(
      "courier",
      c,
      {
        type: "go_on_shift",
        marketId: "m-pii",
        vehicle: { mode: "ebike" },
        capacity: { maxOrders: 3 },
      },
      { role: "courier", id: c },
    );
  }
}, 60_000);

afterAll(async () => {
  for (const g of gateways) await g.close();
  actors?.close();
  await host?.stop();
  await cleanup(nc, topology);
  await nc.close();
});

describe("the shopper's contact on order creation", () => {
  it("refuses a bad contact with the reason: phone, missing address, control characters, unknown fields", async () => {
    const t = await store();
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [
        { ...CONTACT, phone: "+86 138 1234 1234" },
        "invalid_body",
        /contact\.phone: a mainland China mobile/,
      ],
      [{ ...CONTACT, phone: "12812341234" }, "invalid_body", /contact\.phone/],
      [{ ...CONTACT, phone: 13812341234 }, "invalid_body", /contact\.phone/],
      [{ ...CONTACT, name: "" }, "invalid_body", /contact\.name/],
      [{ ...CONTACT, name: "张\u0000三" }, "invalid_body", /contact\.name: no control characters/],
      [{ ...CONTACT, address: "翠湖\u202e南路12号" }, "invalid_body", /contact\.address/],
      [{ ...CONTACT, address: "x".repeat(201) }, "invalid_body", /contact\.address: at most 200/],
      [{ ...CONTACT, idCard: "5301..." }, "invalid_body", /contact/],
      [
        { name: "张三", phone: "13812341234" },
        "address_required",
        /door drop-off needs the shopper's address/,
      ],
    ];
    let n = 0;
    for (const [contact, code, message] of cases) {
      const r = await post("/v1/stores/s-pii/orders", t, orderBody(`bad-${n++}`, { contact }));
      expect(r.status, JSON.stringify(contact)).toBe(400);
      expect(r.body.error.code).toBe(code);
      expect(r.body.error.message).toMatch(message);
      // The refusal never echoes the value it refused.
      if (typeof contact.phone === "string") expect(r.text).not.toContain(contact.phone);
    }
    // Nothing was created for any of them.
    for (let i = 0; i < n; i++) {
      expect((await orderView(orderIdFor("s-pii", `bad-${i}`))).status).toBe("none");
    }
  });

  it("takes a pickup-point order without an address", async () => {
    const r = await post(
      "/v1/stores/s-pii/orders",
      await store(),
      orderBody("pp-1", {
        dropoff: { kind: "pickup_point", pickupPointId: "pp-1", location: DOOR },
        contact: { name: "李四", phone: "15900001111" },
      }),
    );
    expect(r.status, r.text).toBe(201);
    const view = await orderView(r.body.orderId);
    expect(view.contact.address).toBeNull();
    expect(view.contact.doorNote).toBeNull();
  });

  it("encrypts before the order sees it: the order's record and events hold ciphertext only", async () => {
    const orderId = await placed("enc-1");
    const view = await orderView(orderId);
    expect(view.contact.phone).toMatch(/^v1\.k1\./);
    expectNoPlaintext("the order's view", JSON.stringify(view));
    // The KV record itself (what a host restores from).
    const bucket = await new Kvm(nc).open(topology.buckets.actors);
    const keys = await bucket.keys(`*.order.${orderId}`);
    const found: string[] = [];
    for await (const k of keys) found.push(k);
    expect(found).toHaveLength(1);
    const record = await bucket.get(found[0]!);
    expect(record?.string()).toContain("v1.k1.");
    expectNoPlaintext("the order's KV record", record!.string());
    // Every event of the order in the stream, and every command sent to it.
    const jsm = await jetstreamManager(nc);
    for (const [stream, subject] of [
      [topology.streams.events, topology.subjects.event({ type: "order", id: orderId }, "created")],
    ] as const) {
      const msg = await jsm.streams.getMessage(stream, { last_by_subj: subject });
      expect(msg!.string()).toContain("v1.k1.");
      expectNoPlaintext(`${subject}`, msg!.string());
    }
    const info = await jsm.streams.info(topology.streams.commands);
    const seen: string[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(topology.streams.commands, { seq }).catch(() => null);
      if (m) seen.push(m.string());
    }
    expect(seen.some((s) => s.includes(orderId))).toBe(true);
    expectNoPlaintext("the command stream", seen.join("\n"));
  });

  it("treats the same body again as a resubmission, another phone under the same number as a conflict", async () => {
    const t = await store();
    const body = orderBody("dup-1");
    expect((await post("/v1/stores/s-pii/orders", t, body)).status).toBe(201);
    const again = await post("/v1/stores/s-pii/orders", t, body);
    expect(again.status, again.text).toBe(200);
    const other = await post("/v1/stores/s-pii/orders", t, {
      ...body,
      contact: { ...CONTACT, phone: "13900000000" },
    });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("idempotency_conflict");
    // The command id carries a keyed digest of the contact, not a plain hash of it.
    const orderId = again.body.orderId as string;
    const { createHash } = await import("node:crypto");
    const events = await jetstreamManager(nc);
    const created = await events.streams.getMessage(topology.streams.events, {
      last_by_subj: topology.subjects.event({ type: "order", id: orderId }, "created"),
    });
    const commandId = (created!.json() as { commandId: string }).commandId;
    expect(commandId).toMatch(/^create\./);
    expect(commandId).not.toContain(
      createHash("sha256").update(CONTACT.phone).digest("hex").slice(0, 8),
    );
  });

  it("refuses a contact on a gateway without a personal-data key (503), and orders without one as before", async () => {
    const bare = gatewayWith(undefined);
    const t = await store();
    const r = await post("/v1/stores/s-pii/orders", t, orderBody("nokey-1"), bare);
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe("pii_not_configured");
    expect((await orderView(orderIdFor("s-pii", "nokey-1"))).status).toBe("none");
    const { contact: _none, ...plain } = orderBody("nokey-2");
    const ok = await post("/v1/stores/s-pii/orders", t, plain, bare);
    expect(ok.status, ok.text).toBe(201);
    expect((await orderView(ok.body.orderId)).contact).toBeNull();
    // A stored contact this gateway cannot open shows as unavailable, not as an error page.
    const withContact = await placed("nokey-3");
    const seen = await get(`/v1/stores/s-pii/orders/${withContact}`, t, bare);
    expect(seen.status).toBe(200);
    expect(seen.body.contact).toEqual({ unavailable: "pii_not_configured" });
    expect(seen.text).not.toContain("v1.k1.");
  });
});

describe("views mask the contact by role", () => {
  it("shows the store 张*, 138****1234 and the district, never the ciphertext or the door note", async () => {
    const orderId = await placed("store-view-1");
    const r = await get(`/v1/stores/s-pii/orders/${orderId}`, await store());
    expect(r.status).toBe(200);
    expect(r.body.contact).toEqual({
      name: "张**",
      phone: "138****1234",
      address: "云南省昆明市****",
      doorNote: null,
      masked: true,
      fullAddress: false,
    });
    expectNoPlaintext("the store's view", r.text);
    expect(r.text).not.toContain("v1.k1.");
  });

  it("shows the shopper its own contact (phone masked), dispatchers and admins a masked one", async () => {
    const orderId = await placed("track-1");
    const link = await post(`/v1/orders/${orderId}/tracking-token`, await store());
    expect(link.status).toBe(201);
    const mine = await get(`/v1/orders/${orderId}/track`, link.body.token);
    expect(mine.status).toBe(200);
    // Its own name, address and note; the phone masked even here (links get forwarded).
    expect(mine.body.contact).toEqual({
      ...CONTACT,
      phone: "138****1234",
      masked: true,
      fullAddress: true,
    });
    for (const t of [await dispatcher(), await admin()]) {
      const r = await get(`/v1/orders/${orderId}/track`, t);
      expect(r.status).toBe(200);
      expect(r.body.contact).toMatchObject({ name: "张**", phone: "138****1234", masked: true });
      expectNoPlaintext("an operator's snapshot", r.text);
      expect(r.text).not.toContain("v1.k1.");
    }
  });
});

describe("a courier sees the address only while the order is theirs", () => {
  const mine = (orderId: string, who = "c-1") =>
    courier(who).then((t) => get(`/v1/couriers/me/orders/${orderId}`, t));

  it("hides it on an offer, shows it from assignment to the door, hides it once delivered", async () => {
    const orderId = await placed("courier-1");
    // Not offered or assigned: not theirs at all.
    const before = await mine(orderId);
    expect(before.status).toBe(403);
    expect(before.body.error.code).toBe("not_assigned_courier");

    await command(orderId, { type: "offer", courierId: "c-1", expiresAt: Date.now() + 5 * MIN });
    const offered = await mine(orderId);
    expect(offered.status, offered.text).toBe(200);
    expect(offered.body).toMatchObject({ status: "offered", addressShown: false });
    expect(offered.body.contact).toEqual({
      name: "张**",
      phone: "138****1234",
      address: null,
      doorNote: null,
      masked: true,
      fullAddress: false,
    });
    expectNoPlaintext("an offer's view", offered.text);

    const c1 = await courier("c-1");
    await command(orderId, { type: "accept_offer", courierId: "c-1" });
    await waitFor("assigned", async () => (await orderView(orderId)).status === "assigned");
    for (const step of ["assigned", "picked_up", "at_customer"]) {
      if (step === "picked_up") await command(orderId, { type: "pick_up" });
      if (step === "at_customer") {
        const there = await post(`/v1/couriers/me/orders/${orderId}/arrived-at-customer`, c1);
        expect(there.status, there.text).toBe(200);
      }
      const r = await mine(orderId);
      expect(r.status).toBe(200);
      expect(r.body.status).toBe(step);
      expect(r.body.contact, step).toEqual({
        name: "张**",
        phone: "138****1234",
        address: CONTACT.address,
        doorNote: CONTACT.doorNote,
        masked: true,
        fullAddress: true,
      });
      // Another courier sees nothing of it.
      const other = await mine(orderId, "c-2");
      expect(other.status).toBe(403);
      expectNoPlaintext("another courier's answer", other.text);
    }

    const done = await post(`/v1/couriers/me/orders/${orderId}/deliver`, c1, { pin: "4321" });
    expect(done.status, done.text).toBe(200);
    const after = await mine(orderId);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ status: "delivered", addressShown: false });
    expect(after.body.contact).toMatchObject({
      address: null,
      doorNote: null,
      phone: "138****1234",
    });
    expectNoPlaintext("a delivered order's courier view", after.text);
  });

  it("hides it again after a cancellation and from a courier the order was taken from", async () => {
    const cancelled = await placed("courier-2");
    await command(cancelled, { type: "assign", courierId: "c-1" });
    expect((await mine(cancelled)).body.contact.address).toBe(CONTACT.address);
    await command(cancelled, { type: "cancel", reason: "shopper_request" });
    const gone = await mine(cancelled);
    expect(gone.body.status).toBe("cancelled");
    expect(gone.body.contact.address).toBeNull();

    const moved = await placed("courier-3");
    await command(moved, { type: "assign", courierId: "c-1" });
    expect((await mine(moved)).body.contact.address).toBe(CONTACT.address);
    await command(moved, { type: "reassign", reason: "nearer courier", courierId: "c-2" });
    const taken = await mine(moved);
    expect(taken.status).toBe(403);
    expect((await mine(moved, "c-2")).body.contact.address).toBe(CONTACT.address);
  });
});

describe("an admin's reveal", () => {
  it("records who and why in the order's events first, then answers the whole contact", async () => {
    const orderId = await placed("reveal-1");
    const noReason = await post(`/v1/orders/${orderId}/contact/reveal`, await admin(), {});
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.message).toMatch(/reason/);
    for (const t of [await dispatcher(), await store(), await courier("c-1")]) {
      const r = await post(`/v1/orders/${orderId}/contact/reveal`, t, { reason: "curious" });
      expect(r.status).toBe(403);
      expectNoPlaintext("a refused reveal", r.text);
    }
    const r = await post(`/v1/orders/${orderId}/contact/reveal`, await admin(), {
      reason: "配送失败，联系顾客改约",
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.contact).toEqual({ ...CONTACT, masked: false, fullAddress: true });
    expect(r.body.recorded.events).toEqual(["contact_revealed"]);
    const jsm = await jetstreamManager(nc);
    const event = await jsm.streams.getMessage(topology.streams.events, {
      last_by_subj: topology.subjects.event({ type: "order", id: orderId }, "contact_revealed"),
    });
    expect(event!.json()).toMatchObject({
      by: { role: "admin", id: "a-1" },
      data: {
        by: "admin:a-1",
        reason: "配送失败，联系顾客改约",
        fields: ["name", "phone", "address"],
      },
    });
    expectNoPlaintext("the reveal's event", event!.string());

    const { contact: _none, ...plain } = orderBody("reveal-2");
    const bare = await post("/v1/stores/s-pii/orders", await store(), plain);
    const none = await post(`/v1/orders/${bare.body.orderId}/contact/reveal`, await admin(), {
      reason: "check",
    });
    expect(none.status).toBe(409);
    expect(none.body.error.code).toBe("no_contact");
  });
});

describe("key rotation at the gateway", () => {
  it("reads contacts written under an older key while writing under the new one; a retired key is reported", async () => {
    const old = await placed("rotate-1");
    const rotated = gatewayWith(parseKeyring(`${K2},${K1}`));
    const t = await store();
    const seen = await get(`/v1/stores/s-pii/orders/${old}`, t, rotated);
    expect(seen.body.contact.phone).toBe("138****1234");
    const fresh = await post("/v1/stores/s-pii/orders", t, orderBody("rotate-2"), rotated);
    expect(fresh.status).toBe(201);
    expect((await orderView(fresh.body.orderId)).contact.phone).toMatch(/^v1\.k2\./);
    // The old gateway (k1 only) cannot open k2's; a gateway with k2 only cannot open k1's.
    const onlyNew = gatewayWith(parseKeyring(K2));
    expect((await get(`/v1/stores/s-pii/orders/${old}`, t, onlyNew)).body.contact).toEqual({
      unavailable: "pii_key_unknown",
    });
    const reveal = await post(
      `/v1/orders/${old}/contact/reveal`,
      await admin(),
      { reason: "x" },
      onlyNew,
    );
    expect(reveal.status).toBe(503);
    expect(reveal.body.error.code).toBe("pii_key_unknown");
  });
});

describe("tracking links expire", () => {
  it("answers a delivered order's link until two hours after delivery, then tracking_expired", async () => {
    const orderId = await placed("expiry-1");
    // The link goes to the shopper when the order is placed (a day's token).
    const link = await post(`/v1/orders/${orderId}/tracking-token`, await store());
    const t = link.body.token as string;
    await command(orderId, { type: "assign", courierId: "c-1" });
    await command(orderId, { type: "pick_up" });
    await command(orderId, { type: "deliver", pin: "4321" });
    const deliveredAt = (await orderView(orderId)).deliveredAt as number;
    try {
      skew = deliveredAt + TRACKING_GRACE_MS - MIN - Date.now();
      const inside = await get(`/v1/orders/${orderId}/track`, t);
      expect(inside.status).toBe(200);
      expect(inside.body.contact.address).toBe(CONTACT.address);
      skew = deliveredAt + TRACKING_GRACE_MS + MIN - Date.now();
      const late = await get(`/v1/orders/${orderId}/track`, t);
      expect(late.status).toBe(403);
      expect(late.body.error.code).toBe("tracking_expired");
      expectNoPlaintext("an expired link's answer", late.text);
      // Dispatchers still see the order (masked) after the shopper's link has expired.
      const longDispatcher = await token(
        { role: "dispatcher", sub: "d-1", mkt: "m-pii" },
        4 * 3600,
      );
      expect((await get(`/v1/orders/${orderId}/track`, longDispatcher)).status).toBe(200);
    } finally {
      skew = 0;
    }
  });

  it("mints a link for an ended order that expires with the grace period, and none after it", async () => {
    const orderId = await placed("expiry-5");
    await command(orderId, { type: "cancel", reason: "store_closed" });
    const at = (await orderView(orderId)).cancellation.at as number;
    const link = await post(`/v1/orders/${orderId}/tracking-token`, await store());
    expect(link.status).toBe(201);
    expect(link.body.expiresAt).toBe(Math.floor((at + TRACKING_GRACE_MS) / 1000) * 1000);
    // An open order's link lasts the token's lifetime (a day).
    const open = await placed("expiry-6");
    const openLink = await post(`/v1/orders/${open}/tracking-token`, await store());
    expect(openLink.body.expiresAt).toBeGreaterThan(Date.now() + 23 * 60 * MIN);
    const longStore = await token({ role: "store", sub: "s-pii" }, 4 * 3600);
    try {
      skew = at + TRACKING_GRACE_MS + MIN - Date.now();
      const late = await post(`/v1/orders/${orderId}/tracking-token`, longStore);
      expect(late.status).toBe(409);
      expect(late.body.error.code).toBe("tracking_expired");
      // The token minted before: expired by its own `exp` now.
      const used = await get(`/v1/orders/${orderId}/track`, link.body.token);
      expect(used.status).toBe(401);
      expect(used.body.error.code).toBe("token_expired");
    } finally {
      skew = 0;
    }
  });

  it("ends a cancelled order's link two hours after the cancellation", async () => {
    const orderId = await placed("expiry-3");
    const link = await post(`/v1/orders/${orderId}/tracking-token`, await store());
    await command(orderId, { type: "cancel", reason: "out_of_stock" });
    const at = (await orderView(orderId)).cancellation.at as number;
    try {
      skew = at + TRACKING_GRACE_MS - MIN - Date.now();
      expect((await get(`/v1/orders/${orderId}/track`, link.body.token)).status).toBe(200);
      skew = at + TRACKING_GRACE_MS + MIN - Date.now();
      const late = await get(`/v1/orders/${orderId}/track`, link.body.token);
      expect(late.status).toBe(403);
      expect(late.body.error.code).toBe("tracking_expired");
    } finally {
      skew = 0;
    }
  });

  it("refuses a tracking token past its own expiry (token_expired), before the order is read", async () => {
    const orderId = await placed("expiry-4");
    const t = await token({ role: "shopper", sub: "u-1", ord: orderId }, 60);
    expect((await get(`/v1/orders/${orderId}/track`, t)).status).toBe(200);
    skew = 2 * MIN;
    try {
      const r = await get(`/v1/orders/${orderId}/track`, t);
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe("token_expired");
    } finally {
      skew = 0;
    }
  });
});
