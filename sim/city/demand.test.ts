/** The day's demand curve and the orders drawn from it: shape, totals, mix. No servers. */
import { describe, expect, it } from "vitest";
import { CreateOrderBody } from "../../protocol/http.ts";
import { CITIES, Draw, flatMeters, placeCity } from "./cities.ts";
import {
  arrivals,
  DAY_SHAPE,
  drawOrder,
  expectedOrders,
  ordersPerMinute,
  WEATHER,
  weatherByName,
  UnknownWeatherError,
} from "./demand.ts";
import type { PlannedOrder } from "./demand.ts";

const DAY = Date.parse("2026-03-10T00:00:00+08:00");
const at = (hhmm: string) => Date.parse(`2026-03-10T${hhmm}:00+08:00`);
const curve = (o = { dailyOrders: 3000 }) =>
  Array.from({ length: 1440 }, (_, m) => ordersPerMinute(m, o));

/** Minutes where the curve is higher than an hour either side: its peaks. */
function peaks(values: readonly number[]): number[] {
  const out: number[] = [];
  for (let m = 0; m < values.length; m++) {
    let top = true;
    for (let d = -60; d <= 60 && top; d++) {
      if (d !== 0 && values[(m + d + 1440) % 1440]! > values[m]!) top = false;
    }
    if (top) out.push(m);
  }
  return out;
}

describe("the day's demand curve", () => {
  it("integrates to the daily total", () => {
    expect(DAY_SHAPE.reduce((s, y) => s + y, 0)).toBeCloseTo(1, 9);
    const sum = curve().reduce((s, y) => s + y, 0);
    expect(sum).toBeCloseTo(3000, 6);
    expect(expectedOrders(DAY, DAY + 86_400_000, { dailyOrders: 3000 })).toBeCloseTo(3000, 6);
    // Any stretch of the day: the minutes' sum.
    const lunch = expectedOrders(at("11:00"), at("14:00"), { dailyOrders: 3000 });
    expect(lunch).toBeCloseTo(
      curve()
        .slice(660, 840)
        .reduce((s, y) => s + y, 0),
      6,
    );
  });

  it("peaks at breakfast (~07:30), lunch (~12:00) and dinner (~18:30), dinner the highest", () => {
    const values = curve();
    const found = peaks(values);
    expect(found).toHaveLength(3);
    const [breakfast, lunch, dinner] = found as [number, number, number];
    expect(Math.abs(breakfast - 450)).toBeLessThanOrEqual(15);
    expect(Math.abs(lunch - 720)).toBeLessThanOrEqual(15);
    expect(Math.abs(dinner - 1110)).toBeLessThanOrEqual(15);
    expect(values[dinner]!).toBeGreaterThan(values[lunch]!);
    expect(values[lunch]!).toBeGreaterThan(values[breakfast]!);
    // The lunch and dinner rushes carry about half the day between them.
    const rushes =
      expectedOrders(at("11:00"), at("13:00"), { dailyOrders: 1 }) +
      expectedOrders(at("17:00"), at("20:00"), { dailyOrders: 1 });
    expect(rushes).toBeGreaterThan(0.45);
    expect(rushes).toBeLessThan(0.7);
  });

  it("has its trough in the small hours, a few per cent of the dinner peak", () => {
    const values = curve();
    const low = values.indexOf(Math.min(...values));
    expect(low).toBeGreaterThanOrEqual(60);
    expect(low).toBeLessThanOrEqual(300);
    expect(values[low]! / Math.max(...values)).toBeLessThan(0.05);
    expect(values[180]! / Math.max(...values)).toBeLessThan(0.05);
  });

  it("brings ~30 % more orders in rain, and rain slows couriers by ~20 %", () => {
    const dry = ordersPerMinute(720, { dailyOrders: 1000 });
    const wet = ordersPerMinute(720, { dailyOrders: 1000, weather: "rain" });
    expect(wet / dry).toBeCloseTo(1.3, 9);
    expect(WEATHER.rain.speed).toBeCloseTo(0.8, 9);
    expect(WEATHER.heavy_rain.demand).toBeGreaterThan(WEATHER.rain.demand);
    expect(WEATHER.heavy_rain.speed).toBeLessThan(WEATHER.rain.speed);
    expect(weatherByName("Rain")).toBe("rain");
    expect(weatherByName("暴雨")).toBe("heavy_rain");
    expect(() => weatherByName("snow")).toThrow(UnknownWeatherError);
  });

  it("keeps a floor for a demo at night", () => {
    expect(ordersPerMinute(180, { dailyOrders: 300, minPerMinute: 0.3 })).toBe(0.3);
    expect(ordersPerMinute(720, { dailyOrders: 300, minPerMinute: 0.3 })).toBeGreaterThan(0.3);
  });

  it("draws a day of arrivals that follows the curve (Poisson, seeded)", () => {
    const draw = new Draw(42);
    const times: number[] = [];
    // A tick a minute, as the world's clock would step.
    for (let t = DAY; t < DAY + 86_400_000; t += 60_000) {
      times.push(...arrivals(draw, t, t + 60_000, { dailyOrders: 3000 }));
    }
    // 3000 ± 4σ (σ = √3000 ≈ 55).
    expect(Math.abs(times.length - 3000)).toBeLessThan(220);
    const inHour = (h: number) =>
      times.filter((t) => t >= DAY + h * 3_600_000 && t < DAY + (h + 1) * 3_600_000).length;
    expect(inHour(12)).toBeGreaterThan(5 * inHour(3));
    expect(inHour(18)).toBeGreaterThan(inHour(15));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});

describe("drawOrder", () => {
  const places = placeCity(CITIES.kunming, { seed: 1 });
  const ctx = { city: CITIES.kunming, stores: places.stores, pickupPoints: places.pickupPoints };

  function many(n: number, seed = 5, o: Partial<typeof ctx> & { weather?: "rain" } = {}) {
    const draw = new Draw(seed);
    const out: PlannedOrder[] = [];
    for (let i = 0; i < n; i++) out.push(drawOrder(draw, { ...ctx, ...o })!);
    return out;
  }

  it("makes orders the store API takes", () => {
    for (const [i, o] of many(300).entries()) {
      const body = {
        shopOrderId: `wx-${i}`,
        temperatureClass: o.temperatureClass,
        items: o.items,
        amounts: o.amounts,
        dropoff: o.dropoff,
        promisedAt: DAY + o.promiseMinutes * 60_000,
        pickupCode: "ABC234",
        deliveryPin: "1234",
      };
      const parsed = CreateOrderBody.safeParse(body);
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
      expect(o.amounts.totalFen).toBe(
        o.amounts.goodsFen + o.amounts.deliveryFeeFen - o.amounts.discountFen,
      );
    }
  });

  it("mixes classes by store kind: fruit shops no frozen, the cold warehouse mostly cold", () => {
    const byKind = (kind: string) => {
      const stores = places.stores.filter((s) => s.kind === kind);
      return many(1500, 9, { stores });
    };
    const fruit = byKind("fruit");
    expect(fruit.some((o) => o.temperatureClass === "frozen")).toBe(false);
    expect(fruit.filter((o) => o.temperatureClass === "ambient").length / 1500).toBeCloseTo(
      0.85,
      1,
    );
    const warehouse = byKind("cold_warehouse");
    const share = (cls: string) =>
      warehouse.filter((o) => o.temperatureClass === cls).length / warehouse.length;
    expect(share("chilled")).toBeCloseTo(0.45, 1);
    expect(share("frozen")).toBeCloseTo(0.25, 1);
    // Community pickup points: ~40 % of the warehouse's orders, none of a convenience store's.
    const points = warehouse.filter((o) => o.dropoff.kind === "pickup_point").length;
    expect(points / warehouse.length).toBeCloseTo(0.4, 1);
    const convenience = byKind("convenience");
    expect(convenience.every((o) => o.dropoff.kind === "door")).toBe(true);
  });

  it("sends shoppers 250 m-4 km from the store, to the pickup point nearest the door", () => {
    const orders = many(1000, 11);
    const distances = orders
      .filter((o) => o.dropoff.kind === "door")
      .map((o) =>
        flatMeters(
          places.stores.find((s) => s.storeId === o.storeId)!.location,
          o.dropoff.location,
        ),
      )
      .sort((a, b) => a - b);
    expect(distances[0]!).toBeGreaterThan(150); // 250 m, less where the extent clamps
    expect(distances.at(-1)!).toBeLessThanOrEqual(4_001);
    const median = distances[Math.floor(distances.length / 2)]!;
    expect(median).toBeGreaterThan(900);
    expect(median).toBeLessThan(1_500);
    for (const o of orders) {
      if (o.dropoff.kind !== "pickup_point") continue;
      const id = o.dropoff.pickupPointId;
      expect(places.pickupPoints.some((p) => p.pickupPointId === id)).toBe(true);
    }
  });

  it("promises 30 min for a fruit shop, 30 more to a pickup point, 10 more in rain", () => {
    const fruit = places.stores.filter((s) => s.kind === "fruit");
    const dry = many(200, 3, { stores: fruit });
    for (const o of dry) expect(o.promiseMinutes).toBe(o.dropoff.kind === "door" ? 30 : 60);
    const wet = many(200, 3, { stores: fruit, weather: "rain" });
    for (const o of wet) expect(o.promiseMinutes).toBe(o.dropoff.kind === "door" ? 40 : 70);
  });

  it("fixes the store, distance, door and class for the first orders", () => {
    const store = places.stores[3]!;
    const o = drawOrder(new Draw(1), ctx, {
      store,
      distanceM: 150,
      door: true,
      temperatureClass: "ambient",
    })!;
    expect(o.storeId).toBe(store.storeId);
    expect(o.temperatureClass).toBe("ambient");
    expect(o.dropoff.kind).toBe("door");
    expect(flatMeters(store.location, o.dropoff.location)).toBeCloseTo(150, -1);
    expect(drawOrder(new Draw(1), { ...ctx, stores: [] })).toBeNull();
  });
});
