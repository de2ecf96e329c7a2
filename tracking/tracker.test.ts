import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActorClient, ActorHost, allActorLogics } from "../actors/index.ts";
import type { Principal } from "../actors/index.ts";
import { EtaModel } from "../geo/index.ts";
import { ensureTopology } from "../nats/index.ts";
import type { Topology, TopologyHandles } from "../nats/index.ts";
import type { PushFrame } from "../protocol/index.ts";
import { cleanup, connectForTest, testTopology, waitFor } from "../test/nats-helpers.ts";
import { Tracker } from "./index.ts";

const log = pino({ level: "silent" });
const STORE = { lat: 25.0389, lng: 102.7183 };
const DOOR = { lat: 25.0475, lng: 102.7065 };
const ALL_DAY = [{ open: "00:00", close: "24:00" }];

describe("the tracker", () => {
  let nc: NatsConnection;
  let topology: Topology;
  let handles: TopologyHandles;
  let host: ActorHost;
  let actors: ActorClient;
  let tracker: Tracker;
  const frames: { subject: string; frame: PushFrame }[] = [];
  let sub: Subscription;

  const newTracker = () =>
    new Tracker({
      nc,
      topology,
      positions: handles.positions,
      actors,
      eta: new EtaModel(),
      log,
      etaEveryMs: 0,
      marketFlushMs: 100,
      persistMs: 100,
      dispatchPositionsMs: 100,
    });

  beforeAll(async () => {
    nc = await connectForTest("tracker.test");
    topology = testTopology({ partitions: 2 });
    handles = await ensureTopology(nc, topology);
    host = new ActorHost({
      nc,
      topology,
      logics: allActorLogics,
      log,
      renewMs: 200,
      leaseTtlMs: 600,
    });
    await host.start();
    await waitFor("partitions", () => host.partitions.length === 2);
    actors = new ActorClient({ nc, topology });
    sub = nc.subscribe(`${topology.options.namespace}.push.>`, {
      callback: (_e, m) => {
        frames.push({ subject: m.subject, frame: m.json<PushFrame>() });
      },
    });
    tracker = newTracker();
    await tracker.start();
  });

  afterAll(async () => {
    sub?.unsubscribe();
    await tracker?.stop();
    actors?.close();
    await host?.stop();
    await cleanup(nc, topology);
    await nc.close();
  });

  const call = async (
    type: string,
    id: string,
    msg: Record<string, unknown> & { type: string },
    by: Principal,
  ) => {
    const outcome = await actors.call({ type, id }, msg, { by });
    expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
  };
  const fix = (courierId: string, lat: number, lng: number, at = Date.now()) =>
    nc.publish(
      topology.subjects.courierLocation(courierId),
      JSON.stringify({ courierId, marketId: "km", lat, lng, at, receivedAt: Date.now() }),
    );
  const framesFor = (subject: string, kind: string) =>
    frames.filter((f) => f.subject === subject && f.frame.kind === kind).map((f) => f.frame);

  it("indexes couriers by market and pushes the market's moved couriers", async () => {
    fix("c9", 25.04, 102.71);
    await waitFor("the fix in the index", () => tracker.index("km")?.get("c9"));
    expect(tracker.index("km")!.nearest(25.04, 102.71, 1)[0]).toMatchObject({ id: "c9" });
    const market = topology.subjects.push("market", "km");
    const pushed = await waitFor("a couriers frame", () => framesFor(market, "couriers").at(-1));
    expect(pushed).toMatchObject({
      kind: "couriers",
      couriers: [expect.objectContaining({ courierId: "c9" })],
    });
  });

  it("follows an order: coarse position and ETA before pickup, exact after, status frames", async () => {
    const dispatcher: Principal = { role: "dispatcher", id: "d1" };
    const courier: Principal = { role: "courier", id: "c1" };
    const staff: Principal = { role: "store", id: "s1" };
    await call("market", "km", { type: "configure", name: "五华区", city: "昆明" }, dispatcher);
    const openHours = Object.fromEntries(
      ["1", "2", "3", "4", "5", "6", "7"].map((d) => [d, ALL_DAY]),
    );
    await call(
      "store",
      "s1",
      { type: "register", name: "鲜果铺", marketId: "km", location: STORE, openHours },
      { role: "admin", id: "a" },
    );
    await call(
      "courier",
      "c1",
      {
        type: "go_on_shift",
        marketId: "km",
        vehicle: { mode: "ebike" },
        capacity: { maxOrders: 3 },
      },
      courier,
    );
    await call(
      "order",
      "o1",
      {
        type: "create",
        storeId: "s1",
        marketId: "km",
        shopOrderId: "wx-1",
        shopperId: "u1",
        temperatureClass: "ambient",
        items: { summary: "草莓", count: 1 },
        amounts: { goodsFen: 1000, deliveryFeeFen: 500, discountFen: 0, totalFen: 1500 },
        pickup: STORE,
        dropoff: { kind: "door", location: DOOR },
        promisedAt: Date.now() + 3600_000,
        pickupCode: "AB12",
        deliveryPin: "4321",
      },
      { role: "system", id: "shop" },
    );
    await call("store", "s1", { type: "accept_order", orderId: "o1" }, staff);
    await call("store", "s1", { type: "mark_ready", orderId: "o1" }, staff);
    await waitFor(
      "market lists o1",
      async () =>
        "o1" in (await actors.state<{ orders: object }>({ type: "market", id: "km" })).view.orders,
    );
    await call("market", "km", { type: "offer", orderId: "o1", courierId: "c1" }, dispatcher);
    await waitFor(
      "offer at courier",
      async () =>
        "o1" in (await actors.state<{ offers: object }>({ type: "courier", id: "c1" })).view.offers,
    );
    // The driver app's channel: the offer at once, then the courier's work after each change.
    const driver = topology.subjects.push("courier", "c1");
    const offer = await waitFor("an offer frame", () => framesFor(driver, "offer").at(-1));
    expect(offer).toMatchObject({
      kind: "offer",
      courierId: "c1",
      orderId: "o1",
      marketId: "km",
      storeId: "s1",
      pickup: STORE,
      dropoff: DOOR,
    });
    await call("courier", "c1", { type: "accept_offer", orderId: "o1" }, courier);
    const work = await waitFor("a work frame with the job", () =>
      framesFor(driver, "work").find(
        (f) => f.kind === "work" && f.jobs.some((j) => j.orderId === "o1" && j.pickupCode),
      ),
    );
    expect(work).toMatchObject({
      kind: "work",
      courierId: "c1",
      offers: [],
      jobs: [{ orderId: "o1", pickedUp: false, pickupCode: "AB12" }],
      route: [
        { orderId: "o1", kind: "pickup", location: STORE, storeId: "s1" },
        { orderId: "o1", kind: "dropoff", location: DOOR },
      ],
    });

    const channel = topology.subjects.push("order", "o1");
    await waitFor("status assigned", () =>
      framesFor(channel, "status").some((f) => f.kind === "status" && f.status === "assigned"),
    );

    const exact = { lat: 25.04123, lng: 102.71456 };
    await waitFor("a coarse courier frame and an ETA", async () => {
      fix("c1", exact.lat, exact.lng);
      await new Promise((r) => setTimeout(r, 50));
      return framesFor(channel, "courier").length > 0 && framesFor(channel, "eta").length > 0;
    });
    const coarse = framesFor(channel, "courier").at(-1)!;
    expect(coarse).toMatchObject({ kind: "courier", courierId: "c1", coarse: true });
    if (coarse.kind !== "courier") throw new Error("unreachable");
    expect(Math.abs(coarse.lat - exact.lat) + Math.abs(coarse.lng - exact.lng)).toBeGreaterThan(0);
    const eta = framesFor(channel, "eta").at(-1)!;
    expect(eta).toMatchObject({ kind: "eta", leg: "to_store" });
    if (eta.kind !== "eta") throw new Error("unreachable");
    expect(eta.p90).toBeGreaterThan(eta.p50);
    expect(eta.p50).toBeGreaterThan(Date.now());

    await call("order", "o1", { type: "arrive_at_store", courierId: "c1" }, courier);
    await call(
      "store",
      "s1",
      { type: "hand_off", orderId: "o1", pickupCode: "AB12", courierId: "c1" },
      staff,
    );
    await waitFor("status picked_up", () =>
      framesFor(channel, "status").some((f) => f.kind === "status" && f.status === "picked_up"),
    );
    await waitFor("an exact courier frame", async () => {
      fix("c1", exact.lat + 0.0001, exact.lng);
      await new Promise((r) => setTimeout(r, 50));
      const last = framesFor(channel, "courier").at(-1);
      return last?.kind === "courier" && !last.coarse && last.lat === exact.lat + 0.0001;
    });
    expect(framesFor(channel, "eta").at(-1)).toMatchObject({ leg: "to_customer" });

    // The market's channel heard of the order, first with where it goes, then of each change.
    const market = topology.subjects.push("market", "km");
    const orders = framesFor(market, "order");
    expect(orders[0]).toMatchObject({
      kind: "order",
      orderId: "o1",
      marketId: "km",
      status: "created",
      storeId: "s1",
      pickup: STORE,
      dropoff: DOOR,
    });
    expect(orders.map((f) => (f.kind === "order" ? f.status : null))).toEqual(
      expect.arrayContaining(["created", "accepted", "ready", "assigned", "picked_up"]),
    );
    const last = framesFor(market, "couriers").at(-1);
    expect(
      last?.kind === "couriers" && last.couriers.find((c) => c.courierId === "c1"),
    ).toMatchObject({
      status: "busy",
    });
  });

  it("gives the market actor its couriers' positions in batches, for dispatch", async () => {
    // c1 went on shift in km in the test above; c-unknown never did (the market ignores it).
    const at = Date.now();
    fix("c1", 25.0412, 102.7133, at);
    fix("c-unknown", 25.05, 102.72, at);
    type MarketView = {
      couriers: Record<string, { position: { lat: number; at: number } | null }>;
    };
    await waitFor("c1's position at the market", async () => {
      const view = (await actors.state<MarketView>({ type: "market", id: "km" })).view;
      return view.couriers.c1?.position?.at === at;
    });
    const view = (await actors.state<MarketView>({ type: "market", id: "km" })).view;
    expect(view.couriers.c1!.position).toMatchObject({ lat: 25.0412, at });
    expect(view.couriers["c-unknown"]).toBeUndefined();
  });

  it("turns the market's dispatch alerts and unanswered offers into alert frames", async () => {
    const js = jetstream(nc);
    const event = (name: string, data: unknown, seq: number) => ({
      id: `market.km.${seq}.0`,
      actor: { type: "market", id: "km" },
      name,
      seq,
      commandId: `c-${seq}`,
      at: Date.now(),
      data,
    });
    await js.publish(
      topology.subjects.event({ type: "market", id: "km" }, "dispatch_alert"),
      JSON.stringify(
        event("dispatch_alert", { orderId: "o9", code: "no_courier", message: "no courier" }, 901),
      ),
    );
    await js.publish(
      topology.subjects.event({ type: "market", id: "km" }, "offer_expired"),
      JSON.stringify(
        event("offer_expired", { orderId: "o9", courierId: "c3", reason: "expired" }, 902),
      ),
    );
    const market = topology.subjects.push("market", "km");
    const alerts = await waitFor("two alert frames", () => {
      const found = framesFor(market, "alert");
      return found.length >= 2 ? found : null;
    });
    expect(alerts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: "alert",
          code: "no_courier",
          severity: "critical",
          subject: "order:o9",
        }),
        expect.objectContaining({ kind: "alert", code: "offer_unanswered", subject: "order:o9" }),
      ]),
    );
  });

  it("keeps the last positions across a restart", async () => {
    fix("c7", 25.05, 102.72);
    await waitFor("c7 indexed", () => tracker.index("km")?.get("c7"));
    await tracker.stop();
    tracker = newTracker();
    await tracker.start();
    expect(tracker.courier("c7")).toMatchObject({ lat: 25.05, lng: 102.72, marketId: "km" });
    expect(tracker.index("km")!.get("c7")).not.toBeNull();
  });
});
