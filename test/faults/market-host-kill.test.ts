/**
 * Dispatch under SIGKILL: two `bin/host.ts` processes run a Kunming market whose engine offers
 * orders by itself; 40 orders arrive over a busy stretch while simulated drivers accept,
 * decline or ignore their offers; the host holding the market's partition is SIGKILLed in the
 * middle. Afterwards: no order is held by two couriers, no order is forgotten (each is either
 * with exactly one courier or waiting in the market), and every offer made to a driver who
 * never answers still ran out — also the ones whose timers the dead host had armed.
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActorClient } from "../../actors/index.ts";
import type { Principal } from "../../actors/index.ts";
import type { Topology } from "../../nats/index.ts";
import { ensureTopology, partitionOf } from "../../nats/index.ts";
import type { EventEnvelope } from "../../protocol/index.ts";
import { startHost } from "../hosts.ts";
import type { HostProcess } from "../hosts.ts";
import { cleanup, connectForTest, testTopology, waitFor } from "../nats-helpers.ts";

const PARTITIONS = 8;
const ORDERS = 40;
const COURIERS = 16;
/** Couriers who never answer: every offer to them must run out. */
const SILENT = new Set(["c0", "c1"]);
const OFFER_TIMEOUT_MS = 5_000;
const STORES = [
  { id: "s-nanping", at: { lat: 25.0389, lng: 102.7183 } },
  { id: "s-cuihu", at: { lat: 25.0475, lng: 102.7065 } },
];
const ALL_DAY = [{ open: "00:00", close: "24:00" }];
const admin: Principal = { role: "admin", id: "ops" };
const dispatcher: Principal = { role: "dispatcher", id: "d1" };

describe("dispatch when the market's host is SIGKILLed", () => {
  let nc: NatsConnection;
  let topology: Topology;
  let client: ActorClient;
  let sub: Subscription;
  const hosts: HostProcess[] = [];
  const events = new Map<string, EventEnvelope>();

  beforeAll(async () => {
    nc = await connectForTest("market-host-kill.test");
    topology = testTopology({ partitions: PARTITIONS });
    await ensureTopology(nc, topology);
    const env = {
      XIANDA_NAMESPACE: topology.options.namespace,
      XIANDA_PARTITIONS: String(PARTITIONS),
    };
    const started = await Promise.allSettled(["m1", "m2"].map((id) => startHost(id, env)));
    for (const s of started) if (s.status === "fulfilled") hosts.push(s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    client = new ActorClient({ nc, topology });
    // Every event, as published (a host that died may publish an event again: keep one per id).
    sub = nc.subscribe(topology.subjects.eventStream[0]!, {
      callback: (_e, m) => {
        const event = m.json<EventEnvelope>();
        events.set(event.id, event);
      },
    });
  });

  afterAll(async () => {
    sub?.unsubscribe();
    client?.close();
    for (const h of hosts) h.kill("SIGTERM");
    await Promise.all(hosts.map((h) => h.exited));
    await cleanup(nc, topology);
    await nc.close();
  });

  const call = async (
    type: string,
    id: string,
    msg: Record<string, unknown> & { type: string },
    by: Principal,
  ) => {
    const outcome = await client.call({ type, id }, msg, { by, timeoutMs: 15_000 });
    if (!outcome.ok) throw new Error(`${type}/${id} ${msg.type}: ${outcome.refusal.code}`);
  };

  async function holderOf(partition: number): Promise<string | null> {
    const { leases } = await ensureTopology(nc, topology);
    const entry = await leases.get(topology.subjects.partitionLeaseKey(partition));
    return entry?.operation === "PUT" ? entry.json<{ holder: string | null }>().holder : null;
  }

  it("assigns no order twice, forgets none, and still expires pending offers", async () => {
    const marketPartition = partitionOf({ type: "market", id: "km" }, PARTITIONS);
    await waitFor(
      "both hosts holding partitions",
      async () => {
        const holders = new Set<string | null>();
        for (let p = 0; p < PARTITIONS; p++) holders.add(await holderOf(p));
        return !holders.has(null) && holders.size === 2;
      },
      20_000,
      100,
    );
    await call(
      "market",
      "km",
      {
        type: "configure",
        name: "五华区",
        city: "昆明",
        offerTimeoutMs: OFFER_TIMEOUT_MS,
        tickIntervalMs: 500,
      },
      dispatcher,
    );
    for (const s of STORES) {
      const openHours = Object.fromEntries(
        ["1", "2", "3", "4", "5", "6", "7"].map((d) => [d, ALL_DAY]),
      );
      await call(
        "store",
        s.id,
        { type: "register", name: s.id, marketId: "km", location: s.at, openHours },
        admin,
      );
    }
    const couriers = Array.from({ length: COURIERS }, (_, i) => `c${i}`);
    await Promise.all(
      couriers.map(async (id, i) => {
        const by: Principal = { role: "courier", id };
        await call(
          "courier",
          id,
          {
            type: "go_on_shift",
            marketId: "km",
            vehicle: { mode: "ebike" },
            capacity: { maxOrders: 2 },
          },
          by,
        );
        const at = STORES[i % 2]!.at;
        await call(
          "courier",
          id,
          {
            type: "location",
            lat: at.lat + ((i % 5) - 2) * 0.002,
            lng: at.lng + ((i % 3) - 1) * 0.002,
            at: Date.now(),
          },
          by,
        );
      }),
    );

    // Drivers: answer each offer as it arrives (silent ones never do), from the events.
    const answered = new Set<string>();
    let driving = true;
    const drivers = (async () => {
      let n = 0;
      while (driving) {
        for (const e of [...events.values()]) {
          if (e.actor.type !== "courier" || e.name !== "offer_received" || answered.has(e.id)) {
            continue;
          }
          answered.add(e.id);
          const courierId = e.actor.id;
          if (SILENT.has(courierId)) continue;
          const { orderId } = e.data as { orderId: string };
          const by: Principal = { role: "courier", id: courierId };
          // Most accept; every fifth answer is a decline.
          const msg =
            ++n % 5 === 0
              ? { type: "decline_offer", orderId, reason: "busy" }
              : { type: "accept_offer", orderId };
          void client.call({ type: "courier", id: courierId }, msg, { by }).catch(() => {});
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    // The busy stretch: an order every 150 ms; the market's host dies half-way.
    const victimId = await holderOf(marketPartition);
    const victim = hosts.find((h) => h.id === victimId)!;
    expect(victim).toBeDefined();
    const orderIds: string[] = [];
    for (let i = 0; i < ORDERS; i++) {
      const orderId = `o${i}`;
      const store = STORES[i % 2]!;
      await call(
        "order",
        orderId,
        {
          type: "create",
          storeId: store.id,
          marketId: "km",
          shopOrderId: `wx-${i}`,
          shopperId: `u${i}`,
          temperatureClass: "ambient",
          items: { summary: "鲜花饼 × 2", count: 2 },
          amounts: { goodsFen: 3000, deliveryFeeFen: 500, discountFen: 0, totalFen: 3500 },
          pickup: store.at,
          dropoff: {
            kind: "door",
            location: { lat: 25.03 + (i % 7) * 0.004, lng: 102.7 + (i % 5) * 0.005 },
          },
          promisedAt: Date.now() + 45 * 60_000,
          pickupCode: `P${1000 + i}`,
          deliveryPin: "2468",
        },
        { role: "system", id: "shop" },
      );
      const staff: Principal = { role: "store", id: store.id };
      await call("store", store.id, { type: "accept_order", orderId }, staff);
      await call("store", store.id, { type: "mark_ready", orderId }, staff);
      orderIds.push(orderId);
      if (i === ORDERS / 2) victim.kill("SIGKILL");
      await new Promise((r) => setTimeout(r, 150));
    }
    await victim.exited;

    // Offers to silent couriers made up to now, the kill's included, must all run out.
    const silentOffers = () =>
      [...events.values()].filter(
        (e) => e.actor.type === "courier" && e.name === "offer_received" && SILENT.has(e.actor.id),
      );
    expect(silentOffers().length).toBeGreaterThan(0);

    // Quiet: every order with a courier, or (if none was free) waiting in the market.
    type OrderView = { status: string; courierId: string | null };
    type CourierView = { jobs: Record<string, unknown>; offers: Record<string, unknown> };
    type MarketView = { orders: Record<string, unknown>; offers: Record<string, unknown> };
    const settled = await waitFor(
      "every order with a courier or waiting in the market",
      async () => {
        const orders = await Promise.all(
          orderIds.map((id) => client.state<OrderView>({ type: "order", id })),
        );
        const market = (await client.state<MarketView>({ type: "market", id: "km" })).view;
        const waiting = orders.filter((o) => o.view.status !== "assigned");
        const allKnown = orderIds.every((id, i) => {
          const o = orders[i]!.view;
          return o.status === "assigned" || id in market.orders;
        });
        return allKnown && waiting.every((o) => o.view.status !== "offered") ? orders : null;
      },
      60_000,
      500,
    );
    driving = false;
    await drivers;

    // No order held by two couriers; each assigned order is with the courier it names.
    const courierViews = await Promise.all(
      couriers.map((id) => client.state<CourierView>({ type: "courier", id })),
    );
    const holders = new Map<string, string[]>();
    couriers.forEach((id, i) => {
      for (const orderId of Object.keys(courierViews[i]!.view.jobs)) {
        holders.set(orderId, [...(holders.get(orderId) ?? []), id]);
      }
    });
    orderIds.forEach((id, i) => {
      const o = settled[i]!.view;
      const held = holders.get(id) ?? [];
      expect(held.length, `order ${id} held by ${held.join(", ")}`).toBeLessThanOrEqual(1);
      if (o.status === "assigned") expect(held).toEqual([o.courierId]);
      else expect(held).toEqual([]);
    });
    expect(settled.filter((o) => o.view.status === "assigned").length).toBeGreaterThan(ORDERS / 2);

    // Every offer a silent courier received has ended: expired (or withdrawn), never left open.
    for (const offer of silentOffers()) {
      const { orderId } = offer.data as { orderId: string };
      const ended = [...events.values()].some(
        (e) =>
          e.actor.type === "courier" &&
          e.actor.id === offer.actor.id &&
          (e.name === "offer_expired" || e.name === "offer_withdrawn") &&
          (e.data as { orderId: string }).orderId === orderId &&
          e.at >= offer.at,
      );
      expect(ended, `offer of ${orderId} to ${offer.actor.id} never ended`).toBe(true);
    }
    for (const id of SILENT) {
      const view = courierViews[couriers.indexOf(id)]!.view;
      expect(Object.keys(view.offers)).toEqual([]);
    }
    // The market moved to the surviving host.
    expect(await holderOf(marketPartition)).not.toBe(victim.id);
    console.log(
      `market host kill: ${settled.filter((o) => o.view.status === "assigned").length}/${ORDERS} assigned, ` +
        `${silentOffers().length} unanswered offers all expired, ` +
        `${[...events.values()].filter((e) => e.name === "dispatch_offered").length} engine offers`,
    );
  }, 150_000);
});
