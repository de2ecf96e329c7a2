import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { haversine } from "../../geo/index.ts";
import { loadScenario } from "./io.ts";
import { replay } from "./replay.ts";
import { fakeStopwatch, scenarioOf } from "./testing.ts";
import type { LatLng } from "../../geo/index.ts";
import type { ReplayRecord, Scenario } from "./types.ts";

const scenarioDir = (name: string) =>
  fileURLToPath(new URL(`../scenarios/${name}`, import.meta.url));
const at = (hhmm: string) => Date.parse(`2026-03-10T${hhmm}:00+08:00`);
const same = (a: LatLng, b: LatLng) => a.lat === b.lat && a.lng === b.lng;

/** Assignments made while the courier was on its way to a store, and legs to a store cut short. */
function diversions(scenario: Scenario, record: ReplayRecord): string[] {
  const stores = scenario.stores.map((s) => s.at);
  const toStore = (p: LatLng) => stores.some((s) => same(s, p));
  const out: string[] = [];
  for (const m of record.moves) {
    if (toStore(m.towards) && !same(m.to, m.towards))
      out.push(`${m.courierId} turned at ${m.arrivedAt}`);
  }
  for (const o of record.orders) {
    if (o.assignedAt === null) continue;
    const t = o.assignedAt;
    const on = record.moves.find(
      (m) =>
        m.courierId === o.courierId && m.departedAt < t && t < m.arrivedAt && toStore(m.towards),
    );
    if (on !== undefined) out.push(`${o.id} given to ${o.courierId} on its way to a store`);
  }
  return out;
}

/** Pairs of orders one courier held at once that come from two stores. */
function mixedTrips(scenario: Scenario, record: ReplayRecord): string[] {
  const storeOf = new Map(scenario.orders.map((o) => [o.id, o.storeId]));
  const held = record.orders.filter((o) => o.assignedAt !== null && o.deliveredAt !== null);
  const out: string[] = [];
  for (const a of held) {
    for (const b of held) {
      if (a.id >= b.id || a.courierId !== b.courierId) continue;
      const overlap = a.assignedAt! < b.deliveredAt! && b.assignedAt! < a.deliveredAt!;
      if (overlap && storeOf.get(a.id) !== storeOf.get(b.id)) out.push(`${a.id}+${b.id}`);
    }
  }
  return out;
}

describe("noDiversion", () => {
  // c1 drives south to store A (≈ 4.4 km, 15 min) for o1 and passes store B, where o2 is
  // placed at 12:05, ready at once. It is the only courier.
  const parts = (noDiversion: boolean) =>
    scenarioOf({
      config: {
        travel: { model: "straight", metersPerMinute: 300, roundUpToMinute: true },
        rules: { sameStoreBundlesOnly: false, noDiversion },
      },
      stores: ["A,25.000000,102.700000", "B,25.020000,102.701000"],
      couriers: ["c1,25.040000,102.700000,2026-03-10T11:00:00+08:00,2026-03-10T20:00:00+08:00"],
      orders: [
        "o1,A,24.995000,102.700000,2026-03-10T12:00:00+08:00,2026-03-10T12:15:00+08:00",
        "o2,B,25.015000,102.702000,2026-03-10T12:05:00+08:00,2026-03-10T12:05:00+08:00",
      ],
    });

  it("gives a courier an order on its way to a store when the rule is off", () => {
    const s = parts(false);
    const { record } = replay(s, { stopwatch: fakeStopwatch() });
    expect(record.orders[1]!.assignedAt).toBe(at("12:05"));
    expect(diversions(s, record).length).toBeGreaterThan(0);
  });

  it("waits until the courier reaches the store when the rule is on", () => {
    const s = parts(true);
    const { record } = replay(s, { stopwatch: fakeStopwatch() });
    const reachedA = record.moves[0]!.arrivedAt;
    expect(record.moves[0]!.to).toEqual({ lat: 25, lng: 102.7 });
    expect(record.orders[1]!.assignedAt).toBeGreaterThanOrEqual(reachedA);
    expect(diversions(s, record)).toEqual([]);
    expect(record.orders.every((o) => o.deliveredAt !== null)).toBe(true);
  });

  it("holds over the rainy-evening scenario", async () => {
    const s = await loadScenario(scenarioDir("kunming-rainy-evening"));
    expect(s.config.rules.noDiversion).toBe(true);
    const { record } = replay(s, { stopwatch: fakeStopwatch() });
    expect(diversions(s, record)).toEqual([]);
  }, 120_000);
});

describe("sameStoreBundlesOnly", () => {
  // c1 waits at store A; o1 at A and o2 at B (1.1 km away) are placed together, ready at once.
  const parts = (sameStoreBundlesOnly: boolean) =>
    scenarioOf({
      config: { rules: { sameStoreBundlesOnly, noDiversion: false } },
      stores: ["A,25.000000,102.700000", "B,25.010000,102.700000"],
      couriers: ["c1,25.000000,102.700000,2026-03-10T11:00:00+08:00,2026-03-10T20:00:00+08:00"],
      orders: [
        "o1,A,24.996000,102.700000,2026-03-10T12:00:00+08:00,2026-03-10T12:00:00+08:00",
        "o2,B,25.014000,102.700000,2026-03-10T12:00:00+08:00,2026-03-10T12:00:00+08:00",
      ],
    });

  it("lets a trip pick up at two stores when the rule is off", () => {
    const s = parts(false);
    const { record } = replay(s, { stopwatch: fakeStopwatch() });
    expect(mixedTrips(s, record)).toEqual(["o1+o2"]);
  });

  it("finishes the trip of one store before the next store's order when the rule is on", () => {
    const s = parts(true);
    const { record } = replay(s, { stopwatch: fakeStopwatch() });
    const [o1, o2] = record.orders;
    expect(o1!.deliveredAt).not.toBeNull();
    expect(o2!.assignedAt).toBeGreaterThanOrEqual(o1!.deliveredAt!);
    expect(mixedTrips(s, record)).toEqual([]);
  });

  it("holds over the van scenario, with vans alone carrying chilled and frozen orders", async () => {
    const s = await loadScenario(scenarioDir("kunming-van-chilled"));
    expect(s.config.rules.sameStoreBundlesOnly).toBe(true);
    const { record } = replay(s, { stopwatch: fakeStopwatch() });
    expect(mixedTrips(s, record)).toEqual([]);
    const courier = new Map(s.couriers.map((c) => [c.id, c]));
    const cold = new Set(s.orders.filter((o) => o.temperatureClass !== "ambient").map((o) => o.id));
    for (const o of record.orders) {
      if (o.courierId === null || !cold.has(o.id)) continue;
      expect(courier.get(o.courierId)!.mode).toBe("van");
    }
  }, 120_000);
});

describe("couriers in the van scenario obey the timing rule", async () => {
  const s = await loadScenario(scenarioDir("kunming-van-chilled"));
  const { record } = replay(s, { stopwatch: fakeStopwatch() });
  const minute = 60_000;

  it("drive connected legs of the scenario's speed, rounded up to whole minutes", () => {
    const byCourier = new Map<string, typeof record.moves>();
    for (const m of record.moves)
      byCourier.set(m.courierId, [...(byCourier.get(m.courierId) ?? []), m]);
    for (const [id, moves] of byCourier) {
      const start = s.couriers.find((c) => c.id === id)!.start;
      expect(moves[0]!.from).toEqual(start);
      for (let k = 0; k < moves.length; k++) {
        const m = moves[k]!;
        if (k > 0) {
          expect(m.from).toEqual(moves[k - 1]!.to);
          expect(m.departedAt).toBeGreaterThanOrEqual(moves[k - 1]!.arrivedAt);
        }
        if (same(m.to, m.towards)) {
          const meters = haversine(m.from.lat, m.from.lng, m.to.lat, m.to.lng);
          expect(m.arrivedAt - m.departedAt).toBe(Math.ceil(meters / 300) * minute);
        }
      }
    }
  });

  it("pick up after ready and assignment, and deliver after a drop-off's half service", () => {
    const half = { pickup: 3 * minute, dropoff: 2.5 * minute };
    const spec = new Map(s.orders.map((o) => [o.id, o]));
    for (const o of record.orders) {
      if (o.deliveredAt === null) continue;
      const arrivals = record.moves.filter((m) => m.courierId === o.courierId);
      expect(o.pickedUpAt!).toBeGreaterThanOrEqual(Math.max(o.readyAt, o.assignedAt!));
      // Arrived at the door at least half a service before the drop-off moment.
      const door = spec.get(o.id)!.dropoff;
      const arrival = arrivals.filter((m) => same(m.to, door) && m.arrivedAt <= o.deliveredAt!);
      expect(arrival.length).toBeGreaterThan(0);
      expect(o.deliveredAt! - arrival.at(-1)!.arrivedAt).toBeGreaterThanOrEqual(half.dropoff);
    }
  });

  it("never hold more orders than their capacity", () => {
    const capacity = new Map(s.couriers.map((c) => [c.id, c.capacity]));
    const held = record.orders.filter((o) => o.assignedAt !== null && o.deliveredAt !== null);
    for (const o of held) {
      const t = o.assignedAt!;
      const load = held.filter(
        (x) => x.courierId === o.courierId && x.assignedAt! <= t && t < x.deliveredAt!,
      ).length;
      expect(load).toBeLessThanOrEqual(capacity.get(o.courierId!)!);
    }
  });
});
