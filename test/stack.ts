/**
 * The whole live stack in one process for integration and browser tests: an actor host, the
 * tracker and a gateway serving the apps, on the real nats-server, in a namespace of its own.
 * Also the few domain steps tests need to get an order to a courier (through the same actor
 * messages the apps and the store API send).
 */
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { Registry } from "prom-client";
import { ActorClient, ActorHost, allActorLogics } from "../actors/index.ts";
import type { Principal } from "../actors/index.ts";
import { buildConsoleApp } from "../console/build.ts";
import { buildTrackingPage } from "../customer-mini/h5/build.ts";
import { buildDriverApp } from "../driver-app/build.ts";
import { createGateway, createMemoryRateLimiter, signToken } from "../gateway/index.ts";
import { EtaModel } from "../geo/index.ts";
import { ensureTopology } from "../nats/index.ts";
import type { Topology } from "../nats/index.ts";
import { Tracker } from "../tracking/index.ts";
import { cleanup, connectForTest, testTopology, waitFor } from "./nats-helpers.ts";

export interface Stack {
  readonly url: string;
  readonly nc: NatsConnection;
  readonly topology: Topology;
  readonly actors: ActorClient;
  readonly tracker: Tracker;
  readonly tokens: {
    courier(id: string, market?: string): Promise<string>;
    dispatcher(market?: string): Promise<string>;
    shopper(orderId: string, ttlSeconds?: number): Promise<string>;
    store(storeId: string): Promise<string>;
    admin(): Promise<string>;
  };
  /** Market, store and an on-shift courier; then an order placed, ready and assigned to it. */
  assignedOrder(options: AssignedOrderOptions): Promise<{ pickupCode: string; pin: string }>;
  /** The store hands the order to its courier with the pickup code. */
  pickUp(orderId: string, storeId?: string): Promise<void>;
  /** The courier delivers with the shopper's PIN. */
  deliver(orderId: string, courierId: string): Promise<void>;
  stop(): Promise<void>;
}

export interface AssignedOrderOptions {
  orderId: string;
  courierId: string;
  marketId?: string;
  storeId?: string;
  store?: { lat: number; lng: number };
  door?: { lat: number; lng: number };
  temperatureClass?: "ambient" | "chilled" | "frozen";
}

/** Kunming: a store near 南屏街 and a door near 翠湖. */
export const KUNMING_STORE = { lat: 25.0389, lng: 102.7183 };
export const KUNMING_DOOR = { lat: 25.0475, lng: 102.7065 };

const SECRET = "test-secret-not-for-production-0123456789";
const ALL_DAY = [{ open: "00:00", close: "24:00" }];

export async function startStack(options: { partitions?: number } = {}): Promise<Stack> {
  const log = pino({ level: process.env.STACK_LOG_LEVEL ?? "silent" });
  const nc = await connectForTest("stack");
  const topology = testTopology({ partitions: options.partitions ?? 4 });
  const handles = await ensureTopology(nc, topology);
  const host = new ActorHost({
    nc,
    topology,
    logics: allActorLogics,
    log,
    renewMs: 200,
    leaseTtlMs: 600,
  });
  await host.start();
  await waitFor("partitions held", () => host.partitions.length === topology.partitions);
  const actors = new ActorClient({ nc, topology });
  const registry = new Registry();
  const tracker = new Tracker({
    nc,
    topology,
    positions: handles.positions,
    actors,
    eta: new EtaModel(),
    log,
    etaEveryMs: 1000,
  });
  await tracker.start();
  const gateway = createGateway({
    nc,
    topology,
    actors,
    auth: { secret: SECRET },
    rateLimiter: createMemoryRateLimiter({ limit: 1000, windowMs: 1000 }),
    log,
    metrics: registry,
    apps: {
      driver: await buildDriverApp(),
      console: await buildConsoleApp({ tileUrl: null }),
      tracking: await buildTrackingPage({ tileUrl: null }),
    },
  });
  const { port } = await gateway.listen(0, "127.0.0.1");
  const url = `http://127.0.0.1:${port}`;

  const token = (claims: { sub: string; role: string; mkt?: string; ord?: string }, ttl = 3600) =>
    signToken(
      { ...claims, exp: Math.floor(Date.now() / 1000) + ttl } as Parameters<typeof signToken>[0],
      SECRET,
    );
  const tokens: Stack["tokens"] = {
    courier: (id, market = "km") => token({ sub: id, role: "courier", mkt: market }),
    dispatcher: (market = "km") => token({ sub: "d-1", role: "dispatcher", mkt: market }),
    shopper: (orderId, ttl) =>
      token({ sub: `shopper-${orderId}`, role: "shopper", ord: orderId }, ttl),
    store: (storeId) => token({ sub: storeId, role: "store" }),
    admin: () => token({ sub: "admin", role: "admin" }),
  };

  const call = async (
    type: string,
    id: string,
    msg: { type: string } & Record<string, unknown>,
    by: Principal,
  ) => {
    const outcome = await actors.call({ type, id }, msg, { by });
    if (!outcome.ok) {
      throw new Error(
        `${type}/${id} refused ${msg.type}: ${outcome.refusal.code} ${outcome.refusal.message}`,
      );
    }
  };

  const pickupCodes = new Map<string, { code: string; pin: string; storeId: string }>();

  return {
    url,
    nc,
    topology,
    actors,
    tracker,
    tokens,
    async assignedOrder(o) {
      const marketId = o.marketId ?? "km";
      const storeId = o.storeId ?? "s-1";
      const dispatcher: Principal = { role: "dispatcher", id: "d-1" };
      const admin: Principal = { role: "admin", id: "admin" };
      const courier: Principal = { role: "courier", id: o.courierId };
      const storeAt = o.store ?? KUNMING_STORE;
      const door = o.door ?? KUNMING_DOOR;
      const market = await actors.state<{ status?: string; config?: unknown }>({
        type: "market",
        id: marketId,
      });
      if (!market.seq) {
        await call(
          "market",
          marketId,
          { type: "configure", name: "五华区", city: "昆明" },
          dispatcher,
        );
      }
      const store = await actors.state({ type: "store", id: storeId });
      if (!store.seq) {
        const openHours = Object.fromEntries(
          ["1", "2", "3", "4", "5", "6", "7"].map((d) => [d, ALL_DAY]),
        );
        await call(
          "store",
          storeId,
          { type: "register", name: "鲜果铺", marketId, location: storeAt, openHours },
          admin,
        );
      }
      const courierState = await actors.state<{ shift?: unknown }>({
        type: "courier",
        id: o.courierId,
      });
      if (!courierState.view.shift) {
        await call(
          "courier",
          o.courierId,
          { type: "go_on_shift", marketId, vehicle: { mode: "ebike" }, capacity: { maxOrders: 3 } },
          courier,
        );
      }
      const code = `P${Math.floor(Math.random() * 9000 + 1000)}`;
      const pin = String(Math.floor(Math.random() * 9000 + 1000));
      await call(
        "order",
        o.orderId,
        {
          type: "create",
          storeId,
          marketId,
          shopOrderId: `wx-${o.orderId}`,
          shopperId: `u-${o.orderId}`,
          temperatureClass: o.temperatureClass ?? "ambient",
          items: { summary: "2 × 草莓 500g, 1 × 鲜牛奶", count: 3 },
          amounts: { goodsFen: 5600, deliveryFeeFen: 500, discountFen: 0, totalFen: 6100 },
          pickup: storeAt,
          dropoff: { kind: "door", location: door },
          promisedAt: Date.now() + 45 * 60_000,
          pickupCode: code,
          deliveryPin: pin,
        },
        { role: "system", id: "shop-backend" },
      );
      const staff: Principal = { role: "store", id: storeId };
      await call("store", storeId, { type: "accept_order", orderId: o.orderId }, staff);
      await call("store", storeId, { type: "mark_ready", orderId: o.orderId }, staff);
      await waitFor("the market to list the order", async () => {
        const m = await actors.state<{ orders: Record<string, unknown> }>({
          type: "market",
          id: marketId,
        });
        return o.orderId in m.view.orders;
      });
      await call(
        "market",
        marketId,
        { type: "offer", orderId: o.orderId, courierId: o.courierId },
        dispatcher,
      );
      await waitFor("the courier to hold the offer", async () => {
        const c = await actors.state<{ offers: Record<string, unknown> }>({
          type: "courier",
          id: o.courierId,
        });
        return o.orderId in c.view.offers;
      });
      await call("courier", o.courierId, { type: "accept_offer", orderId: o.orderId }, courier);
      await waitFor("the order to be assigned", async () => {
        const s = await actors.state<{ status: string }>({ type: "order", id: o.orderId });
        return s.view.status === "assigned";
      });
      pickupCodes.set(o.orderId, { code, pin, storeId });
      return { pickupCode: code, pin };
    },
    async pickUp(orderId) {
      const known = pickupCodes.get(orderId);
      if (!known) throw new Error(`no pickup code known for ${orderId}`);
      const s = await actors.state<{ courierId: string }>({ type: "order", id: orderId });
      await call(
        "order",
        orderId,
        { type: "arrive_at_store", courierId: s.view.courierId },
        { role: "courier", id: s.view.courierId },
      );
      await call(
        "store",
        known.storeId,
        { type: "hand_off", orderId, pickupCode: known.code, courierId: s.view.courierId },
        { role: "store", id: known.storeId },
      );
      await waitFor("the order to be picked up", async () => {
        const v = await actors.state<{ status: string }>({ type: "order", id: orderId });
        return v.view.status === "picked_up";
      });
    },
    async deliver(orderId, courierId) {
      const known = pickupCodes.get(orderId);
      if (!known) throw new Error(`no PIN known for ${orderId}`);
      const by: Principal = { role: "courier", id: courierId };
      await call("order", orderId, { type: "arrive_at_customer", courierId }, by);
      await call("order", orderId, { type: "deliver", courierId, pin: known.pin }, by);
    },
    async stop() {
      await gateway.close();
      await tracker.stop();
      actors.close();
      await host.stop();
      await cleanup(nc, topology);
      await nc.close();
    },
  };
}
