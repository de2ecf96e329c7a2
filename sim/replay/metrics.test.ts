import { describe, expect, it } from "vitest";
import { replay } from "./replay.ts";
import { fakeStopwatch, scenarioOf } from "./testing.ts";

/*
 * One store S, one courier c1, two orders; 100 m/min rounded up to whole minutes, pickup 4 min
 * (2 + 2), drop-off 2 min (1 + 1). Distances (haversine): c1 start → S 444.8 m (5 min),
 * S → D1 945.2 m (10 min), S → D2 4003 m (41 min).
 *
 * o1 placed 12:00, ready 12:10: c1 leaves at 12:00, reaches S 12:05, picks up at
 * max(12:10, 12:05 + 2) = 12:10, leaves 12:12, reaches D1 12:22, delivers 12:23, leaves 12:24.
 * o2 placed 13:00, ready 13:00: c1 leaves D1 at 13:00, reaches S 13:10, picks up 13:12, leaves
 * 13:14, reaches D2 13:55, delivers 13:56, leaves 13:57.
 */
const scenario = scenarioOf({
  stores: ["S,25.000000,102.700000"],
  couriers: ["c1,25.004000,102.700000,2026-03-10T11:00:00+08:00,2026-03-10T20:00:00+08:00"],
  orders: [
    "o1,S,24.991500,102.700000,2026-03-10T12:00:00+08:00,2026-03-10T12:10:00+08:00",
    "o2,S,25.036000,102.700000,2026-03-10T13:00:00+08:00,2026-03-10T13:00:00+08:00",
  ],
});

describe("replay metrics on a hand-computed day", () => {
  const out = replay(scenario, { stopwatch: fakeStopwatch() });

  it("times every pickup and drop-off by the rule", () => {
    expect(out.files["orders.csv"]).toBe(
      [
        "id,courier_id,placed_at,ready_at,assigned_at,picked_up_at,delivered_at",
        "o1,c1,2026-03-10T12:00:00+08:00,2026-03-10T12:10:00+08:00,2026-03-10T12:00:00+08:00,2026-03-10T12:10:00+08:00,2026-03-10T12:23:00+08:00",
        "o2,c1,2026-03-10T13:00:00+08:00,2026-03-10T13:00:00+08:00,2026-03-10T13:00:00+08:00,2026-03-10T13:12:00+08:00,2026-03-10T13:56:00+08:00",
        "",
      ].join("\n"),
    );
  });

  it("records each straight-line leg", () => {
    expect(out.files["moves.csv"]).toBe(
      [
        "courier_id,departed_at,from_lat,from_lng,to_lat,to_lng,arrived_at",
        "c1,2026-03-10T12:00:00+08:00,25.004000,102.700000,25.000000,102.700000,2026-03-10T12:05:00+08:00",
        "c1,2026-03-10T12:12:00+08:00,25.000000,102.700000,24.991500,102.700000,2026-03-10T12:22:00+08:00",
        "c1,2026-03-10T13:00:00+08:00,24.991500,102.700000,25.000000,102.700000,2026-03-10T13:10:00+08:00",
        "c1,2026-03-10T13:14:00+08:00,25.000000,102.700000,25.036000,102.700000,2026-03-10T13:55:00+08:00",
        "",
      ].join("\n"),
    );
  });

  it("scores click-to-door, overage, ready-to-pickup and ready-to-door", () => {
    const m = out.metrics;
    expect(m.orders).toEqual({
      total: 2,
      delivered: 2,
      undelivered: 0,
      deliveredPct: 100,
      undeliveredPct: 0,
      cancelled: 0,
    });
    // 23 and 56 minutes; nearest-rank p50 of two is the first, p90 the second.
    expect(m.clickToDoorMinutes).toEqual({ mean: 39.5, p50: 23, p90: 56, max: 56 });
    expect(m.overTarget).toEqual({
      targetMinutes: 40,
      meanOverageMinutes: 8,
      meanOverageOfLateMinutes: 16,
      latePct: 50,
      overMaxPct: 0,
    });
    expect(m.readyToPickupMinutes).toEqual({ mean: 6, p90: 12 });
    expect(m.readyToDoorMinutes).toEqual({ mean: 34.5 });
  });

  it("scores utilisation, trips, offers and the ETA the engine gave", () => {
    const m = out.metrics;
    // Busy: travel 5 + 10 + 10 + 41 = 66, service 4 + 2 + 4 + 2 = 12, of 540 min on duty.
    expect(m.courierUtilisationPct).toBe(14.44);
    // At S from 12:05 to 12:12 on the first visit: 7 min, of which 4 are the service.
    expect(m.courierWaitingPct).toBe(0.56);
    expect(m.ordersPerTrip).toBe(1);
    expect(m.offersPerOrder).toBe(1);
    // The engine predicts with the replay's own timing rule: to the minute.
    expect(m.eta).toEqual({
      meanAbsoluteErrorMinutes: 0,
      meanErrorMinutes: 0,
      insideP50P90Pct: 100,
      beforeP50Pct: 0,
      afterP90Pct: 0,
    });
    expect(m.engine.ticks).toBeGreaterThan(0);
    expect(m.engine.p50Ms).toBe(1);
    expect(m.engine.p99Ms).toBe(1);
  });

  it("bundles two orders of one store into one trip with one visit", () => {
    const two = scenarioOf({
      stores: ["S,25.000000,102.700000"],
      couriers: ["c1,25.000000,102.700000,2026-03-10T11:00:00+08:00,2026-03-10T20:00:00+08:00"],
      orders: [
        "o1,S,24.991500,102.700000,2026-03-10T12:00:00+08:00,2026-03-10T12:10:00+08:00",
        "o2,S,24.991500,102.700100,2026-03-10T12:00:00+08:00,2026-03-10T12:10:00+08:00",
      ],
    });
    const { record, metrics } = replay(two, { stopwatch: fakeStopwatch() });
    // Both picked up at 12:10 in one visit; the second drop-off 1 min after the first leave.
    expect(record.orders.map((o) => o.pickedUpAt)).toEqual([
      Date.parse("2026-03-10T12:10:00+08:00"),
      Date.parse("2026-03-10T12:10:00+08:00"),
    ]);
    expect(metrics.ordersPerTrip).toBe(2);
  });
});
