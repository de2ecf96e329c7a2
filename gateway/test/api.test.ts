/**
 * The store, courier and dispatcher API through `app.request()`, on a real nats-server with a
 * real actor host: every answer here is what the actors decided.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActorClient, ActorHost, allActorLogics } from "../../actors/index.ts";
import type { Principal } from "../../actors/index.ts";
import { ensureTopology } from "../../nats/index.ts";
import type { Topology } from "../../nats/index.ts";
import type { Role, TokenClaims } from "../../protocol/index.ts";
import { cleanup, connectForTest, testTopology, waitFor } from "../../test/nats-helpers.ts";
import { API_ROUTES } from "../http/documented.ts";
import { orderIdFor } from "../http/stores.ts";
import { createFileProofStore, createGateway, signToken } from "../index.ts";
import type { Gateway } from "../index.ts";

const SECRET = "test-secret-0123456789-abcdefghijklmnop";
const log = pino({ level: "silent" });
const MIN = 60_000;
const STORE_AT = { lat: 25.0389, lng: 102.7183 };
const DOOR = { lat: 25.0475, lng: 102.7065 };
const ALL_DAY = [{ open: "00:00", close: "24:00" }];
const PNG = new Uint8Array([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 1, 2, 3,
]);
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46]);

let nc: NatsConnection;
let topology: Topology;
let host: ActorHost;
let actors: ActorClient;
let gateway: Gateway;
let proofDir: string;

async function token(claims: Omit<TokenClaims, "exp">): Promise<string> {
  return signToken({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 }, SECRET);
}
const admin = () => token({ role: "admin", sub: "a-1" });
const dispatcher = (mkt = "m-1") => token({ role: "dispatcher", sub: "d-1", mkt });
const store = (sub = "s-1") => token({ role: "store", sub });
const courier = (sub = "c-1", mkt = "m-1") => token({ role: "courier", sub, mkt });
const shopper = (ord = "o-1") => token({ role: "shopper", sub: "u-1", ord });
const tokenFor = (role: Role): Promise<string> =>
  ({ admin, dispatcher, store, courier, shopper })[role]();

/** A response body as the tests read it (its shape is what they check). */
type Body = { error: { code: string; message: string } } & Record<string, any>;

async function call(
  method: string,
  path: string,
  init: {
    token?: string;
    body?: unknown;
    raw?: Uint8Array<ArrayBuffer> | string;
    type?: string;
    key?: string;
  } = {},
): Promise<{ status: number; body: Body; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.key) headers["idempotency-key"] = init.key;
  let body: string | Uint8Array<ArrayBuffer> | undefined;
  if (init.raw !== undefined) {
    body = typeof init.raw === "string" ? init.raw : new Uint8Array(init.raw);
    if (init.type) headers["content-type"] = init.type;
  } else if (init.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(init.body);
  }
  const res = await gateway.app.request(path, { method, headers, ...(body ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Body, headers: res.headers };
}

const post = (path: string, init: Parameters<typeof call>[2] = {}) => call("POST", path, init);
const get = (path: string, t: string) => call("GET", path, { token: t });

async function setup(type: string, id: string, msg: { type: string } & Record<string, unknown>) {
  const by: Principal = type === "courier" ? { role: "courier", id } : { role: "admin", id: "a-1" };
  const outcome = await actors.call({ type, id }, msg, { by });
  expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
}

const orderView = async (id: string) =>
  (await actors.state<Record<string, any>>({ type: "order", id })).view;

function orderBody(shopOrderId: string, extra: Record<string, unknown> = {}) {
  return {
    shopOrderId,
    shopperId: "u-1",
    temperatureClass: "ambient",
    items: { summary: "2 × 草莓 500g, 1 × 鲜牛奶", count: 3 },
    amounts: { goodsFen: 5600, deliveryFeeFen: 500, discountFen: 0, totalFen: 6100 },
    dropoff: { kind: "door", location: DOOR },
    promisedAt: Date.now() + 60 * MIN,
    deliveryPin: "4321",
    ...extra,
  };
}

/** An order placed by store `storeId` through the API and accepted there. */
async function acceptedOrder(shopOrderId: string, storeId = "s-1"): Promise<string> {
  const t = await store(storeId);
  const created = await post(`/v1/stores/${storeId}/orders`, {
    token: t,
    body: orderBody(shopOrderId),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const orderId = created.body.orderId as string;
  await waitFor("the store to hold the order", async () => {
    const s = await actors.state<{ incoming: { orderId: string }[] }>({
      type: "store",
      id: storeId,
    });
    return s.view.incoming.some((o) => o.orderId === orderId);
  });
  const accepted = await post(`/v1/stores/${storeId}/orders/${orderId}/accept`, { token: t });
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
  await waitFor("the order accepted", async () => (await orderView(orderId)).acceptedAt !== null);
  return orderId;
}

beforeAll(async () => {
  nc = await connectForTest("api.test");
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
  proofDir = await mkdtemp(join(tmpdir(), "xianda-proofs-"));
  gateway = createGateway({
    nc,
    topology,
    actors,
    auth: { secret: SECRET },
    log,
    proofs: createFileProofStore(proofDir),
    limits: { maxPhotoBytes: 4096 },
  });
  const openHours = Object.fromEntries(
    ["1", "2", "3", "4", "5", "6", "7"].map((d) => [d, ALL_DAY]),
  );
  for (const [m, name] of [
    ["m-1", "五华区"],
    ["m-flow", "盘龙区"],
  ] as const) {
    await setup("market", m, { type: "configure", name, city: "昆明" });
  }
  for (const [s, m] of [
    ["s-1", "m-1"],
    ["s-2", "m-1"],
    ["s-flow", "m-flow"],
  ] as const) {
    await setup("store", s, {
      type: "register",
      name: "鲜果铺",
      marketId: m,
      location: STORE_AT,
      openHours,
    });
  }
  for (const [c, m] of [
    ["c-1", "m-1"],
    ["c-2", "m-1"],
    ["c-flow", "m-flow"],
  ] as const) {
    await setup("courier", c, {
      type: "go_on_shift",
      marketId: m,
      vehicle: { mode: "ebike" },
      capacity: { maxOrders: 3 },
    });
  }
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  actors?.close();
  await host?.stop();
  await cleanup(nc, topology);
  await nc.close();
  if (proofDir) await rm(proofDir, { recursive: true, force: true });
});

describe("store orders", () => {
  it("creates an order once per shop order id: the same body again is 200, another is 409", async () => {
    const body = orderBody("wx-1001");
    const first = await post("/v1/stores/s-1/orders", { token: await store(), body });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({
      orderId: orderIdFor("s-1", "wx-1001"),
      shopOrderId: "wx-1001",
      storeId: "s-1",
      marketId: "m-1",
      status: "created",
    });
    expect(first.headers.get("location")).toBe(`/v1/stores/s-1/orders/${first.body.orderId}`);

    const again = await post("/v1/stores/s-1/orders", { token: await store(), body });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.orderId).toBe(first.body.orderId);
    expect(again.body.placedAt).toBe(first.body.placedAt);

    const changed = await post("/v1/stores/s-1/orders", {
      token: await store(),
      body: { ...body, amounts: { ...body.amounts, goodsFen: 100, totalFen: 600 } },
    });
    expect(changed.status).toBe(409);
    expect(changed.body.error.code).toBe("idempotency_conflict");
    // A different pickup code is a different order too, though the order's view hides it.
    const code = await post("/v1/stores/s-1/orders", {
      token: await store(),
      body: { ...body, pickupCode: "ZZ99" },
    });
    expect(code.status).toBe(409);

    // The same shop order number at another store is another order.
    const other = await post("/v1/stores/s-2/orders", { token: await store("s-2"), body });
    expect(other.status).toBe(201);
    expect(other.body.orderId).not.toBe(first.body.orderId);

    const view = await orderView(first.body.orderId);
    expect(view).toMatchObject({ pickup: STORE_AT, marketId: "m-1", hasDeliveryPin: true });
  });

  it("takes the shopper's door in GCJ-02 when told, and stores WGS-84", async () => {
    const res = await post("/v1/stores/s-1/orders", {
      token: await store(),
      body: orderBody("wx-gcj", { coord: "gcj02" }),
    });
    expect(res.status).toBe(201);
    const view = await orderView(res.body.orderId);
    expect(view.dropoff.location.lat).not.toBe(DOOR.lat);
    expect(Math.abs(view.dropoff.location.lat - DOOR.lat)).toBeLessThan(0.01);
  });

  it("refuses another store's token, an unregistered store and bad bodies, with the reason", async () => {
    const body = orderBody("wx-2001");
    const wrongStore = await post("/v1/stores/s-1/orders", { token: await store("s-2"), body });
    expect(wrongStore.status).toBe(403);
    expect(wrongStore.body.error.code).toBe("forbidden");
    const unknown = await post("/v1/stores/s-9/orders", { token: await admin(), body });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("unknown_store");

    const { items: _items, ...noItems } = body;
    const missing = await post("/v1/stores/s-1/orders", { token: await store(), body: noItems });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe("invalid_body");
    expect(missing.body.error.message).toMatch(/^items: /);
    const deep = await post("/v1/stores/s-1/orders", {
      token: await store(),
      body: { ...body, dropoff: { kind: "door", location: { lat: 95, lng: 0 } } },
    });
    expect(deep.status).toBe(400);
    expect(deep.body.error.message).toMatch(/^dropoff\.location\.lat: /);
    const extra = await post("/v1/stores/s-1/orders", {
      token: await store(),
      body: { ...body, courierId: "c-1" },
    });
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toContain("courierId");
    const notJson = await post("/v1/stores/s-1/orders", { token: await store(), body: "{" });
    expect(notJson.status).toBe(400);
    const garbled = await call("POST", "/v1/stores/s-1/orders", {
      token: await store(),
      raw: "{not json",
      type: "application/json",
    });
    expect(garbled.body.error.code).toBe("invalid_json");
    // The order actor's own checks come back as a 409 with its refusal code.
    const sums = await post("/v1/stores/s-1/orders", {
      token: await store(),
      body: { ...body, amounts: { ...body.amounts, totalFen: 1 } },
    });
    expect(sums.status).toBe(409);
    expect(sums.body.error.code).toBe("invalid_amounts");
  });

  it("lets a store read its own orders only", async () => {
    const orderId = await acceptedOrder("wx-3001");
    const mine = await get(`/v1/stores/s-1/orders/${orderId}`, await store());
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ id: orderId, status: "accepted", storeId: "s-1" });
    expect(mine.body.pickupCode).toBeUndefined();
    expect((await get(`/v1/stores/s-2/orders/${orderId}`, await store("s-2"))).status).toBe(404);
    expect((await get(`/v1/stores/s-1/orders/${orderId}`, await store("s-2"))).status).toBe(403);
    const list = await get("/v1/stores/s-1/orders", await store());
    expect(list.status).toBe(200);
    expect(list.body.pending.map((o: { orderId: string }) => o.orderId)).toContain(orderId);
    expect(JSON.stringify(list.body)).not.toContain("pickupCode");
  });

  it("answers a wrong state with the actor's refusal code (409)", async () => {
    const t = await store();
    const created = await post("/v1/stores/s-1/orders", { token: t, body: orderBody("wx-4001") });
    const orderId = created.body.orderId as string;
    await waitFor("the store to hold the order", async () => {
      const s = await actors.state<{ incoming: { orderId: string }[] }>({
        type: "store",
        id: "s-1",
      });
      return s.view.incoming.some((o) => o.orderId === orderId);
    });
    const early = await post(`/v1/stores/s-1/orders/${orderId}/ready`, { token: t });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe("not_accepted");
    expect((await post(`/v1/stores/s-1/orders/${orderId}/accept`, { token: t })).status).toBe(202);
    const noCourier = await post(`/v1/stores/s-1/orders/${orderId}/hand-off`, {
      token: t,
      body: { pickupCode: "AB12" },
    });
    expect(noCourier.status).toBe(409);
    expect(noCourier.body.error.code).toBe("no_courier_assigned");
    const delay = await post(`/v1/stores/s-1/orders/${orderId}/problems`, {
      token: t,
      body: { kind: "delay" },
    });
    expect(delay.status).toBe(409);
    expect(delay.body.error.code).toBe("delay_minutes_required");
    const late = await post(`/v1/stores/s-1/orders/${orderId}/problems`, {
      token: t,
      body: { kind: "delay", delayMinutes: 15 },
    });
    expect(late.status).toBe(202);
    expect(late.body.forwardedTo).toEqual({ type: "order", id: orderId });
    const stock = await post(`/v1/stores/s-1/orders/${orderId}/problems`, {
      token: t,
      body: { kind: "out_of_stock", note: "草莓 sold out" },
    });
    // Recorded at the store; nothing for the order.
    expect(stock.status).toBe(200);
    expect(stock.body.forwardedTo).toBeUndefined();
    const unknown = await post(`/v1/stores/s-1/orders/o-nothing/ready`, { token: t });
    expect(unknown.status).toBe(409);
    expect(unknown.body.error.code).toBe("unknown_order");
  });

  it("applies a retry with the same Idempotency-Key once", async () => {
    const orderId = await acceptedOrder("wx-5001");
    const t = await store();
    const problem = { kind: "other", note: "packaging torn" };
    const first = await post(`/v1/stores/s-1/orders/${orderId}/problems`, {
      token: t,
      body: problem,
      key: "problem-1",
    });
    const retry = await post(`/v1/stores/s-1/orders/${orderId}/problems`, {
      token: t,
      body: problem,
      key: "problem-1",
    });
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.body.commandId).toBe(first.body.commandId);
    const problems = async () => {
      const s = await actors.state<{ problems: { orderId: string; list: unknown[] }[] }>({
        type: "store",
        id: "s-1",
      });
      return s.view.problems.find((p) => p.orderId === orderId)?.list.length ?? 0;
    };
    expect(await problems()).toBe(1);
    const another = await post(`/v1/stores/s-1/orders/${orderId}/problems`, {
      token: t,
      body: problem,
    });
    expect(another.body.commandId).not.toBe(first.body.commandId);
    expect(await problems()).toBe(2);
    const badKey = await post(`/v1/stores/s-1/orders/${orderId}/problems`, {
      token: t,
      body: problem,
      key: "no spaces allowed",
    });
    expect(badKey.status).toBe(400);
    expect(badKey.body.error.code).toBe("invalid_idempotency_key");
  });
});

describe("an order from the shop to the shopper's door, through the API", () => {
  it("store creates and readies, dispatcher offers, courier accepts, store hands off, courier delivers with PIN and photo", async () => {
    const st = await store("s-flow");
    const me = await courier("c-flow", "m-flow");
    const other = await courier("c-2", "m-1");
    const orderId = await acceptedOrder("wx-flow-1", "s-flow");
    const base = `/v1/stores/s-flow/orders/${orderId}`;
    expect((await post(`${base}/preparing`, { token: st })).status).toBe(202);
    expect((await post(`${base}/ready`, { token: st })).status).toBe(202);
    await waitFor("the market to list the order", async () => {
      const m = await actors.state<{ orders: Record<string, unknown> }>({
        type: "market",
        id: "m-flow",
      });
      return orderId in m.view.orders;
    });
    const twice = await post(`${base}/ready`, { token: st });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe("already_ready");

    const offer = await post(`/v1/markets/m-flow/orders/${orderId}/offer`, {
      token: await dispatcher("m-flow"),
      body: { courierId: "c-flow", reason: "nearest courier, by hand" },
    });
    // Dispatch may have offered it to the only courier first; either way c-flow holds an offer.
    if (offer.status !== 202) expect(offer.body.error.code).toBe("offer_pending");
    await waitFor("the courier to hold the offer", async () => {
      const mine = await get("/v1/couriers/me", me);
      return orderId in mine.body.offers;
    });
    const notMine = await post(`/v1/couriers/me/offers/${orderId}/accept`, { token: other });
    expect(notMine.status).toBe(409);
    expect(notMine.body.error.code).toBe("offer_not_found");
    const accepted = await post(`/v1/couriers/me/offers/${orderId}/accept`, { token: me });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({
      ok: true,
      actor: { type: "courier", id: "c-flow" },
      forwardedTo: { type: "order", id: orderId },
    });
    await waitFor(
      "the order assigned",
      async () => (await orderView(orderId)).status === "assigned",
    );
    const { body: state } = await get("/v1/couriers/me", me);
    const pickupCode = state.jobs[orderId].pickupCode as string;
    expect(pickupCode).toMatch(/^[A-Z0-9]{6}$/);

    const intruder = await post(`/v1/couriers/me/orders/${orderId}/arrived-at-store`, {
      token: other,
    });
    expect(intruder.status).toBe(403);
    expect(intruder.body.error.code).toBe("not_assigned_courier");
    expect(
      (await post(`/v1/couriers/me/orders/${orderId}/arrived-at-store`, { token: me })).status,
    ).toBe(200);
    const wrongCode = await post(`${base}/hand-off`, {
      token: st,
      body: { pickupCode: pickupCode === "AAAA22" ? "BBBB22" : "AAAA22" },
    });
    expect(wrongCode.status).toBe(409);
    expect(wrongCode.body.error.code).toBe("wrong_pickup_code");
    const handOff = await post(`${base}/hand-off`, {
      token: st,
      body: { pickupCode, courierId: "c-flow" },
    });
    expect(handOff.status).toBe(202);
    await waitFor(
      "the order picked up",
      async () => (await orderView(orderId)).status === "picked_up",
    );

    const photoPath = `/v1/couriers/me/orders/${orderId}/photo`;
    const notAnImage = await post(photoPath, { token: me, raw: "hello", type: "image/png" });
    expect(notAnImage.status).toBe(415);
    const mislabelled = await post(photoPath, { token: me, raw: JPEG, type: "image/png" });
    expect(mislabelled.status).toBe(415);
    expect(mislabelled.body.error.message).toContain("image/jpeg");
    const json = await post(photoPath, { token: me, body: { photo: "…" } });
    expect(json.status).toBe(415);
    const big = new Uint8Array(5000);
    big.set(PNG);
    expect((await post(photoPath, { token: me, raw: big, type: "image/png" })).status).toBe(413);
    expect((await post(photoPath, { token: other, raw: PNG, type: "image/png" })).status).toBe(403);
    const photo = await post(photoPath, { token: me, raw: PNG, type: "image/png" });
    expect(photo.status).toBe(201);
    expect(photo.body).toMatchObject({ contentType: "image/png", bytes: PNG.length });
    expect(photo.body.photoRef).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await readdir(proofDir)).toEqual([photo.body.photoRef.slice("sha256:".length)]);

    expect(
      (await post(`/v1/couriers/me/orders/${orderId}/arrived-at-customer`, { token: me })).status,
    ).toBe(200);
    const deliver = `/v1/couriers/me/orders/${orderId}/deliver`;
    const noProof = await post(deliver, { token: me, body: {} });
    expect(noProof.status).toBe(400);
    expect(noProof.body.error.message).toContain("PIN or a photo");
    const wrongPin = await post(deliver, { token: me, body: { pin: "0000" } });
    expect(wrongPin.status).toBe(409);
    expect(wrongPin.body.error.code).toBe("wrong_delivery_pin");
    const ghost = await post(deliver, {
      token: me,
      body: { photoRef: `sha256:${"0".repeat(64)}` },
    });
    expect(ghost.status).toBe(400);
    expect(ghost.body.error.code).toBe("unknown_photo");
    const done = await post(deliver, {
      token: me,
      body: { pin: "4321", photoRef: photo.body.photoRef },
    });
    expect(done.status).toBe(200);
    expect(done.body.events).toContain("delivered");
    const view = await orderView(orderId);
    expect(view).toMatchObject({
      status: "delivered",
      proof: { photoRef: photo.body.photoRef, pinVerified: true },
    });
    const afterwards = await post(`/v1/couriers/me/orders/${orderId}/fail`, {
      token: me,
      body: { reason: "no_answer" },
    });
    expect(afterwards.status).toBe(409);
    expect(afterwards.body.error.code).toBe("invalid_transition");
  });

  it("checks a courier's bodies: decline reasons, failure reasons, empty actions", async () => {
    const me = await courier();
    const decline = await post("/v1/couriers/me/offers/o-x/decline", {
      token: me,
      body: { reason: "lazy" },
    });
    expect(decline.status).toBe(400);
    expect(decline.body.error.message).toMatch(/^reason: /);
    const fail = await post("/v1/couriers/me/orders/o-x/fail", { token: me, body: {} });
    expect(fail.status).toBe(400);
    expect(fail.body.error.message).toMatch(/^reason: /);
    const badId = await post("/v1/couriers/me/orders/o.x/arrived-at-store", { token: me });
    expect(badId.status).toBe(400);
    expect(badId.body.error.code).toBe("invalid_param");
    const noOffer = await post("/v1/couriers/me/offers/o-x/decline", {
      token: me,
      body: { reason: "too_far" },
    });
    expect(noOffer.status).toBe(409);
    expect(noOffer.body.error.code).toBe("offer_not_found");
    const huge = await post("/v1/couriers/me/offers/o-x/decline", {
      token: me,
      body: { reason: "other", note: "x".repeat(70_000) },
    });
    expect(huge.status).toBe(413);
  });
});

describe("dispatcher overrides", () => {
  it("holds, releases, force-assigns, locks and reassigns, each audited with its reason", async () => {
    const d = await dispatcher();
    const orderId = await acceptedOrder("wx-6001");
    const at = (action: string) => `/v1/markets/m-1/orders/${orderId}/${action}`;
    await waitFor("the market to list the order", async () => {
      const m = await actors.state<{ orders: Record<string, unknown> }>({
        type: "market",
        id: "m-1",
      });
      return orderId in m.view.orders;
    });

    const noReason = await post(at("hold"), { token: d, body: {} });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.message).toMatch(/^reason: /);
    const hold = await post(at("hold"), { token: d, body: { reason: "shopper asked to wait" } });
    expect(hold.status).toBe(202);
    await waitFor("the hold", async () => (await orderView(orderId)).hold !== null);
    const again = await post(at("hold"), { token: d, body: { reason: "twice" } });
    expect(again.status).toBe(409);
    const release = await post(at("release"), { token: d, body: { reason: "shopper is home" } });
    expect(release.status).toBe(202);
    await waitFor("the release", async () => (await orderView(orderId)).hold === null);

    const force = await post(at("force-assign"), {
      token: d,
      body: { courierId: "c-2", reason: "c-2 is at the store already" },
    });
    expect(force.status).toBe(202);
    await waitFor("the force", async () => (await orderView(orderId)).courierId === "c-2");
    const lock = await post(at("lock"), { token: d, body: { reason: "VIP shopper" } });
    expect(lock.status).toBe(200);
    expect((await orderView(orderId)).lock).toMatchObject({ by: "dispatcher:d-1" });
    const relock = await post(at("lock"), { token: d, body: { reason: "again" } });
    expect(relock.status).toBe(409);
    expect(relock.body.error.code).toBe("already_locked");
    const mismatch = await post(at("lock"), {
      token: d,
      body: { reason: "x", courierId: "c-1" },
    });
    expect(mismatch.status).toBe(409);
    expect((await post(at("unlock"), { token: d, body: { reason: "done" } })).status).toBe(200);

    const back = await post(at("reassign"), { token: d, body: { reason: "c-2's bike broke" } });
    expect(back.status).toBe(200);
    expect(back.body.events).toContain("reassigned");
    await waitFor("back in the pool", async () => (await orderView(orderId)).courierId === null);
    const waitingLock = await post(at("lock"), { token: d, body: { reason: "only c-1" } });
    expect(waitingLock.status).toBe(400);
    expect(waitingLock.body.error.message).toMatch(/^courierId: /);
    const marketLock = await post(at("lock"), {
      token: d,
      body: { reason: "only c-1", courierId: "c-1" },
    });
    expect(marketLock.status).toBe(200);
    expect(marketLock.body.actor).toEqual({ type: "market", id: "m-1" });
    expect((await post(at("unlock"), { token: d, body: { reason: "anyone" } })).status).toBe(200);
    const nothing = await post(at("unlock"), { token: d, body: { reason: "anyone" } });
    expect(nothing.status).toBe(409);
    expect(nothing.body.error.code).toBe("invalid_transition");

    const market = await get("/v1/markets/m-1", d);
    expect(market.status).toBe(200);
    const trail = (market.body.audit as { orderId: string; action: string; reason: string }[])
      .filter((e) => e.orderId === orderId)
      .map((e) => [e.action, e.reason]);
    expect(trail).toEqual([
      ["hold", "shopper asked to wait"],
      ["release", "shopper is home"],
      ["force", "c-2 is at the store already"],
      ["lock", "only c-1"],
      ["release", "anyone"],
    ]);
    expect(market.body.audit.find((e: { orderId: string }) => e.orderId === orderId).by).toEqual({
      role: "dispatcher",
      id: "d-1",
    });
  });

  it("reorders a courier's stops only as the route allows, in the dispatcher's market", async () => {
    const d = await dispatcher();
    const stops = [{ orderId: "o-none", kind: "pickup" }];
    const mismatch = await post("/v1/markets/m-1/couriers/c-1/stops", {
      token: d,
      body: { reason: "shorter", stops },
    });
    expect(mismatch.status).toBe(409);
    expect(mismatch.body.error.code).toBe("route_mismatch");
    const elsewhere = await post("/v1/markets/m-1/couriers/c-flow/stops", {
      token: d,
      body: { reason: "shorter", stops },
    });
    expect(elsewhere.status).toBe(404);
    const noReason = await post("/v1/markets/m-1/couriers/c-1/stops", {
      token: d,
      body: { stops },
    });
    expect(noReason.status).toBe(400);
  });

  it("keeps a dispatcher to its own market", async () => {
    const orderId = await acceptedOrder("wx-7001");
    const mine = await dispatcher("m-1");
    const theirs = await dispatcher("m-2");
    const res = await post(`/v1/markets/m-1/orders/${orderId}/hold`, {
      token: theirs,
      body: { reason: "not mine" },
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("forbidden");
    expect((await get("/v1/markets/m-1", theirs)).status).toBe(403);
    // An order of another market is not found under this one.
    const flowOrder = await acceptedOrder("wx-7002", "s-flow");
    const wrongMarket = await post(`/v1/markets/m-1/orders/${flowOrder}/hold`, {
      token: mine,
      body: { reason: "not here" },
    });
    expect(wrongMarket.status).toBe(404);
    // An admin may act in any market.
    const byAdmin = await post(`/v1/markets/m-1/orders/${orderId}/hold`, {
      token: await admin(),
      body: { reason: "audit check" },
    });
    expect(byAdmin.status).toBe(202);
  });
});

describe("role checks", () => {
  const ROLES: readonly Role[] = ["shopper", "courier", "store", "dispatcher", "admin"];
  const PARAMS: Record<string, string> = {
    storeId: "s-1",
    marketId: "m-1",
    courierId: "c-1",
    orderId: "o-1",
    id: "o-1",
  };

  it("refuses every route to a token of a role it is not for (403), and to no token (401)", async () => {
    let checked = 0;
    for (const route of API_ROUTES) {
      if (route.roles === null) continue;
      const path = route.path.replace(/:(\w+)/g, (_m, name: string) => PARAMS[name]!);
      const method = route.method.toUpperCase();
      for (const role of ROLES.filter((r) => !route.roles!.includes(r))) {
        const res = await call(method, path, { token: await tokenFor(role) });
        expect(res.status, `${method} ${route.path} as ${role}`).toBe(403);
        expect(res.body.error.code).toBe("forbidden");
        checked++;
      }
      const anonymous = await call(method, path);
      expect(anonymous.status, `${method} ${route.path} without a token`).toBe(401);
      expect(anonymous.body.error.code).toBe("missing_token");
    }
    expect(checked).toBeGreaterThan(80);
  });
});
