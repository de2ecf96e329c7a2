/**
 * A scheduled wave end to end on the real nats-server, in one process (test/stack.ts): 300
 * orders from 3 stores to 20 community pickup points are placed through the store API with a
 * wave, planned at the cut-off by the host's wave planner (a worker thread), checked here by an
 * independent replay of every route, driven by simulated vans whose drivers get their routes
 * live and whose arrivals the points' staff confirm through the API; every shopper's tracking
 * snapshot then says `at_pickup_point` with the pickup code, and the shopper's live channel had
 * the status frame.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WaveView } from "../actors/index.ts";
import { GatewayHttp, LiveSocket } from "../sim/city/api.ts";
import { SimWaveVan } from "../sim/wave-van.ts";
import type { WaveVanReport } from "../sim/wave-van.ts";
import { findOrder } from "../db/index.ts";
import { haversineMeters } from "../geo/index.ts";
import { launchChromium, screenshot } from "./browser.ts";
import { startStack } from "./stack.ts";
import type { Stack } from "./stack.ts";
import { waitFor } from "./nats-helpers.ts";

const MIN = 60_000;
const ORDERS = 300;
const POINTS = 20;
const VANS = 12;
const CENTRE = { lat: 25.04, lng: 102.71 };

let stack: Stack;
let http: GatewayHttp;

beforeAll(async () => {
  stack = await startStack({ wavePlanMs: 3000 });
  http = new GatewayHttp({ baseUrl: stack.url });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

/** Places spread around the centre, deterministic. */
function around(i: number, radiusKm: number): { lat: number; lng: number } {
  const angle = (i * 137.508 * Math.PI) / 180;
  const r = radiusKm * Math.sqrt(((i * 7919) % 97) / 97 + 0.05);
  return {
    lat: CENTRE.lat + (r / 111) * Math.cos(angle),
    lng: CENTRE.lng + (r / 101) * Math.sin(angle),
  };
}

/** An independent replay of one van's stops: the point windows and the order of the visits. */
function checkRoute(view: WaveView, vehicleId: string): string[] {
  const problems: string[] = [];
  const route = view.plan!.routes.find((r) => r.vehicleId === vehicleId)!;
  const travel = view.config!.travel;
  const seen = new Set<string>();
  let t = view.config!.departAt;
  let at = view.config!.depot;
  let service = 0;
  let load = 0;
  for (const stop of route.stops) {
    for (const orderId of stop.orderIds) {
      const dest = stop.location;
      const arrive =
        t + service + ((haversineMeters(at, dest) * travel.detour) / travel.metersPerMinute) * MIN;
      const order = view.orders[orderId]!;
      let ready = view.config!.departAt;
      let due = view.config!.horizonAt;
      if (stop.kind === "pickup") {
        seen.add(orderId);
        load += order.load.weightKg;
      } else {
        if (!seen.has(orderId)) problems.push(`${orderId} dropped before its pickup`);
        load -= order.load.weightKg;
        const d = order.destination;
        if (d.kind === "pickup_point") {
          ready = view.pickupPoints[d.pickupPointId]!.opensAt;
          due = view.pickupPoints[d.pickupPointId]!.closesAt;
        }
      }
      if (load > view.config!.fleet.capacity.weightKg + 1e-6)
        problems.push(`${vehicleId} over weight at ${stop.place}`);
      t = Math.max(arrive, ready);
      if (t > due + 1) problems.push(`${stop.place} reached after it closes`);
      service =
        (stop.kind === "pickup" ? travel.pickupServiceMinutes : travel.dropoffServiceMinutes) * MIN;
      at = dest;
    }
  }
  const back =
    t +
    service +
    ((haversineMeters(at, view.config!.depot) * travel.detour) / travel.metersPerMinute) * MIN;
  if (route.visits.length > 0 && back > view.config!.horizonAt + 1)
    problems.push(`${vehicleId} back after the shift`);
  return problems;
}

describe("a scheduled wave of 300 orders to 20 pickup points from 3 stores", () => {
  it("is planned at the cut-off, driven by the vans, and every shopper sees the goods at the point with the code", async () => {
    const dispatcher = await stack.tokens.dispatcher("km");
    const stores = ["ws-1", "ws-2", "ws-3"].map((id, i) => ({ id, at: around(i * 31 + 5, 3) }));
    const allDay = [{ open: "00:00", close: "24:00" }];
    for (const s of stores) {
      const outcome = await stack.actors.call(
        { type: "store", id: s.id },
        {
          type: "register",
          name: `仓${s.id}`,
          marketId: "km",
          location: s.at,
          openHours: Object.fromEntries(
            ["1", "2", "3", "4", "5", "6", "7"].map((d) => [d, allDay]),
          ),
        },
        { by: { role: "admin", id: "admin" } },
      );
      expect(outcome.ok).toBe(true);
    }
    const now = Date.now();
    const cutoffAt = now + 25_000;
    // The planner's construction alone takes ~11 s for these 300 requests on the 2-core machine
    // (it does not stop at the time budget): the vans leave 45 s after the cut-off.
    const departAt = cutoffAt + 45_000;
    const points = Array.from({ length: POINTS }, (_, i) => ({
      id: `pp-${i + 1}`,
      name: `自提点${i + 1}`,
      location: around(i + 100, 8),
      opensAt: departAt + (i % 3) * 30 * MIN,
      closesAt: departAt + 10 * 60 * MIN,
      capacity: 40,
      chilledShelf: i % 5 !== 4,
      staffIds: [`staff-pp-${i + 1}`],
    }));
    const vans = Array.from({ length: VANS }, (_, i) => ({
      vehicleId: `wv-${i + 1}`,
      courierId: `wc-${i + 1}`,
    }));
    const day = new Date(now + 8 * 3_600_000).toISOString().slice(0, 10).replaceAll("-", "");
    const opened = await http.post<{ waveId: string }>(
      "/v1/markets/km/waves",
      dispatcher,
      {
        day,
        slot: "pm",
        cutoffAt,
        departAt,
        horizonAt: departAt + 6 * 60 * MIN,
        depot: CENTRE,
        fleet: {
          vans,
          capacity: { weightKg: 400, volumeL: 3000 },
          compartments: { frozen: 400, chilled: 1200 },
        },
        pickupPoints: points,
      },
      "open-wave-pm",
    );
    expect(opened.status, JSON.stringify(opened.body)).toBe(200);
    const waveId = opened.body.waveId;
    expect(waveId).toBe(`km-${day}-pm`);

    // Bad input is refused with a reason.
    const bad = await http.post("/v1/markets/km/waves", dispatcher, { day: "2026", slot: "pm" });
    expect(bad.status).toBe(400);
    expect(bad.code).toBe("invalid_body");

    // Drivers watch their channels before anything departs.
    const drivers = await Promise.all(
      vans.map(async (v) => {
        const driver = new SimWaveVan({
          gateway: stack.url.replace("http", "ws"),
          http,
          courierId: v.courierId,
          courierToken: await stack.tokens.courier(v.courierId, "km"),
          staffToken: (pointId) => stack.tokens.store(`staff-${pointId}`),
          speedup: 2000,
        });
        await driver.start();
        return driver;
      }),
    );

    // 300 orders through the store API, each with the wave.
    const orderIds: string[] = [];
    const storeTokens = await Promise.all(stores.map((s) => stack.tokens.store(s.id)));
    const place = async (i: number) => {
      const point = points[i % POINTS]!;
      const cold =
        point.chilledShelf && i % 4 === 0 ? (i % 8 === 0 ? "frozen" : "chilled") : "ambient";
      const answer = await http.post<{ orderId: string }>(
        `/v1/stores/${stores[i % 3]!.id}/orders`,
        storeTokens[i % 3]!,
        {
          shopOrderId: `wave-${i}`,
          temperatureClass: cold,
          items: { summary: "1 × 社区团购套餐", count: 1 },
          amounts: { goodsFen: 2990, deliveryFeeFen: 0, discountFen: 0, totalFen: 2990 },
          dropoff: { kind: "pickup_point", pickupPointId: point.id, location: point.location },
          promisedAt: departAt + 8 * 60 * MIN,
          pickupCode: `W${String(10000 + i)}`,
          wave: { waveId, load: { weightKg: 4, volumeL: 12 } },
        },
      );
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      orderIds[i] = answer.body.orderId;
    };
    // An order for a point the wave does not have is refused at once, with the reason.
    const astray = await http.post(`/v1/stores/${stores[0]!.id}/orders`, storeTokens[0]!, {
      shopOrderId: "wave-astray",
      temperatureClass: "ambient",
      items: { summary: "1 × 社区团购套餐", count: 1 },
      amounts: { goodsFen: 2990, deliveryFeeFen: 0, discountFen: 0, totalFen: 2990 },
      dropoff: { kind: "pickup_point", pickupPointId: "pp-99", location: CENTRE },
      promisedAt: departAt + 8 * 60 * MIN,
      wave: { waveId, load: { weightKg: 4, volumeL: 12 } },
    });
    expect(astray.status).toBe(409);
    expect(astray.code).toBe("unknown_pickup_point");
    for (let i = 0; i < ORDERS; i += 25) {
      await Promise.all(Array.from({ length: Math.min(25, ORDERS - i) }, (_, k) => place(i + k)));
    }
    expect(Date.now()).toBeLessThan(cutoffAt);
    await waitFor(
      "every order in the wave",
      async () => {
        const { view } = await stack.actors.state<WaveView>({ type: "wave", id: waveId });
        return Object.keys(view.orders).length === ORDERS;
      },
      20_000,
    );

    // Planned at the cut-off, off the turn.
    await waitFor(
      "the plan",
      async () => {
        const { view } = await stack.actors.state<WaveView>({ type: "wave", id: waveId });
        return view.plan !== null && view.pending === null;
      },
      cutoffAt - Date.now() + 44_000,
    );
    const planned = await http.get<{ plan: WaveView["plan"] }>(
      `/v1/markets/km/waves/${waveId}`,
      dispatcher,
    );
    expect(planned.status).toBe(200);
    const { view: atPlan } = await stack.actors.state<WaveView>({ type: "wave", id: waveId });
    const plan = atPlan.plan!;
    expect(plan.unplanned).toEqual([]);
    expect(plan.vans).toBeGreaterThan(0);
    expect(plan.vans).toBeLessThanOrEqual(VANS);
    const carried = plan.routes.flatMap((r) =>
      r.visits.filter((v) => v.kind === "dropoff").map((v) => v.orderId),
    );
    expect(new Set(carried).size).toBe(ORDERS);
    expect(plan.routes.flatMap((r) => checkRoute(atPlan, r.vehicleId))).toEqual([]);

    // The routes check who asks and what they send.
    const base = `/v1/markets/km/waves/${waveId}`;
    expect((await http.get("/v1/markets/km/waves/not-a-wave", dispatcher)).code).toBe(
      "invalid_param",
    );
    const elsewhere = await http.get(base, await stack.tokens.dispatcher("zt"));
    expect(elsewhere.status).toBe(403);
    const stale = await http.post(`${base}/moves`, dispatcher, {
      planVersion: plan.version + 5,
      fromVehicleId: "wv-1",
      stopIndex: 0,
      toVehicleId: "wv-2",
    });
    expect([stale.status, stale.code]).toEqual([409, "stale_plan"]);
    const noVan = await http.get(`/v1/waves/${waveId}/route`, await stack.tokens.courier("c-none"));
    expect([noVan.status, noVan.code]).toEqual([404, "no_route"]);
    const driver = plan.routes.find((r) => r.visits.length > 0)!;
    const own = await http.get<{ vehicleId: string; stops: { place: string; done: boolean }[] }>(
      `/v1/waves/${waveId}/route`,
      await stack.tokens.courier(driver.courierId),
    );
    expect(own.status).toBe(200);
    expect(own.body.vehicleId).toBe(driver.vehicleId);
    expect(own.body.stops.map((s) => s.place)).toEqual(driver.stops.map((s) => s.place));
    expect(own.body.stops.every((s) => !s.done)).toBe(true);

    // Departure: each driver gets the route and the van drives it.
    const used = new Set(plan.routes.filter((r) => r.visits.length > 0).map((r) => r.courierId));
    const reports: WaveVanReport[] = await Promise.all(
      drivers
        .filter((_, i) => used.has(vans[i]!.courierId))
        .map((d) => d.run(departAt - Date.now() + 15_000)),
    );
    for (const d of drivers) d.close();
    expect(reports.flatMap((r) => r.problems)).toEqual([]);
    const confirmed = new Set(reports.flatMap((r) => r.arrivals));
    expect(confirmed.size).toBe(POINTS);

    // Every order is at its point, with its code on the shopper's snapshot (the H5 page's API).
    await waitFor(
      "every order at its point",
      async () => {
        const { view } = await stack.actors.state<WaveView>({ type: "wave", id: waveId });
        return Object.values(view.orders).every((o) => o.status === "at_pickup_point");
      },
      20_000,
    );
    const sample = [0, 1, 2, 57, 123, 299];
    for (const i of orderIds.keys()) {
      const orderId = orderIds[i]!;
      const track = await http.get<{
        status: string;
        collectCode: string | null;
        pickupPointId: string;
      }>(`/v1/orders/${orderId}/track`, await stack.tokens.shopper(orderId));
      expect(track.status).toBe(200);
      expect(track.body).toMatchObject({
        status: "at_pickup_point",
        collectCode: `W${String(10000 + i)}`,
        pickupPointId: points[i % POINTS]!.id,
      });
      if (!sample.includes(i)) continue;
      // The notification: the order's channel carried the status frame.
      const frames: string[] = [];
      const live = new LiveSocket({
        gateway: stack.url.replace("http", "ws"),
        token: await stack.tokens.shopper(orderId),
        channels: [`order:${orderId}`],
        onFrame: (_c, frame) => {
          if (frame.kind === "status") frames.push(frame.status);
        },
      });
      await live.open();
      live.close();
      expect(frames).toContain("at_pickup_point");
    }

    // The shopper's H5 page (Chromium) says so, with the code.
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ locale: "zh-CN", timezoneId: "Asia/Shanghai" });
      const page = await context.newPage();
      const shown = orderIds[7]!;
      await page.goto(`${stack.url}/t/${await stack.tokens.shopper(shown)}`);
      await page.waitForSelector("#collect-code:not([hidden])");
      expect(await page.textContent("#headline")).toBe("商品已到自提点，请凭取件码取货");
      expect(await page.textContent("#collect-code")).toBe("取件码 W10007");
      await screenshot(page, "wave-shopper-at-point");
    } finally {
      await browser.close();
    }

    // The shopper collects with the code at the point's counter.
    const first = orderIds[0]!;
    const staff = await stack.tokens.store("staff-pp-1");
    const wrong = await http.post(`/v1/waves/${waveId}/orders/${first}/collect`, staff, {
      pickupCode: "NOPE1",
    });
    expect(wrong.status).toBe(409);
    expect(wrong.code).toBe("wrong_pickup_code");
    const otherStaff = await stack.tokens.store("staff-pp-2");
    const notTheirs = await http.post(`/v1/waves/${waveId}/orders/${first}/collect`, otherStaff, {
      pickupCode: "W10000",
    });
    expect(notTheirs.status).toBe(403);
    const right = await http.post(`/v1/waves/${waveId}/orders/${first}/collect`, staff, {
      pickupCode: "W10000",
    });
    expect(right.status, JSON.stringify(right.body)).toBe(200);
    await waitFor("delivered", async () => {
      const t = await http.get<{ status: string }>(
        `/v1/orders/${first}/track`,
        await stack.tokens.shopper(first),
      );
      return t.body.status === "delivered";
    });
    // History: the projector's rows follow (a wave order on the shelf counts as picked up).
    await waitFor("the order rows", async () => {
      const [done, shelf] = await Promise.all([
        findOrder(stack.db, first),
        findOrder(stack.db, orderIds[1]!),
      ]);
      return done?.status === "delivered" && shelf?.status === "picked_up";
    });
  }, 240_000);
});
