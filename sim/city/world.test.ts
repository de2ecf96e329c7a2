/**
 * The running city's logic that needs no server: where couriers start, the shopper's PIN, the
 * accelerated clock, and how a simulated courier answers offers and moves along a route.
 */
import { describe, expect, it } from "vitest";
import { PickupCode } from "../../protocol/actors/order.ts";
import { decideOffer, pointAlong } from "../courier.ts";
import type { OfferSituation } from "../courier.ts";
import { CITIES, Draw, flatMeters, placeCity, StoreRegistry } from "./cities.ts";
import { InvalidSpeedupError, simClock, todayAt } from "./clock.ts";
import { CityWorld, defaultVans, derivePin, pickupCodeFrom, placeCouriers } from "./world.ts";

const NOON = Date.parse("2026-03-10T12:00:00+08:00");

describe("placeCouriers", () => {
  const places = placeCity(CITIES.kunming, { seed: 1 });
  const open = new StoreRegistry(places.stores).openAt(NOON);
  const specs = placeCouriers(places, open, { couriers: 12, vans: 2, waiting: 6, seed: 1 });

  it("puts the vans' drivers at the cold warehouse and the rest on e-bikes", () => {
    expect(specs).toHaveLength(12);
    const warehouse = places.stores.find((s) => s.kind === "cold_warehouse")!;
    const vans = specs.filter((s) => s.mode === "van");
    expect(vans.map((v) => [v.courierId, v.vehicleId])).toEqual([
      ["c-km-v1", "van-km-1"],
      ["c-km-v2", "van-km-2"],
    ]);
    for (const v of vans) expect(flatMeters(v.start, warehouse.location)).toBeLessThan(60);
    expect(specs.filter((s) => s.mode === "ebike").map((s) => s.courierId)).toEqual(
      Array.from({ length: 10 }, (_, i) => `c-km-${String(i + 1).padStart(2, "0")}`),
    );
  });

  it("has the first e-bikes wait at different open shops across the districts", () => {
    const waiting = specs.filter((s) => s.waitsAt !== null);
    expect(waiting).toHaveLength(6);
    expect(new Set(waiting.map((s) => s.waitsAt!.storeId)).size).toBe(6);
    expect(new Set(waiting.map((s) => s.waitsAt!.district)).size).toBe(4);
    for (const s of waiting) {
      expect(open).toContain(s.waitsAt);
      expect(flatMeters(s.start, s.waitsAt!.location)).toBeLessThan(30);
    }
    // The rest wait near a shop, not on it.
    for (const s of specs.filter((x) => x.mode === "ebike" && x.waitsAt === null)) {
      const nearest = Math.min(...places.stores.map((st) => flatMeters(s.start, st.location)));
      expect(nearest).toBeLessThan(320);
    }
  });

  it("waits only at open shops (at 3 a.m., the convenience stores)", () => {
    const night = Date.parse("2026-03-10T03:00:00+08:00");
    const openAtNight = new StoreRegistry(places.stores).openAt(night);
    const atNight = placeCouriers(places, openAtNight, {
      couriers: 12,
      vans: 2,
      waiting: 6,
      seed: 1,
    });
    const waiting = atNight.filter((s) => s.waitsAt !== null);
    expect(waiting.length).toBeGreaterThan(0);
    for (const s of waiting) expect(s.waitsAt!.kind).toBe("convenience");
  });

  it("gives a small fleet fewer vans", () => {
    expect(defaultVans(12)).toBe(2);
    expect(defaultVans(5)).toBe(1);
    expect(defaultVans(3)).toBe(0);
  });
});

describe("the shopper's PIN and the pickup code", () => {
  it("derives the same 4-digit PIN from the seed and code, on every run", () => {
    expect(derivePin(1, "ABC234")).toBe(derivePin(1, "ABC234"));
    expect(derivePin(1, "ABC234")).toMatch(/^[1-9][0-9]{3}$/);
    const pins = new Set(Array.from({ length: 200 }, (_, i) => derivePin(1, `CODE${i}`)));
    expect(pins.size).toBeGreaterThan(150);
  });

  it("makes pickup codes the order schema takes", () => {
    const draw = new Draw(3);
    for (let i = 0; i < 50; i++)
      expect(PickupCode.safeParse(pickupCodeFrom(draw)).success).toBe(true);
  });
});

describe("simClock", () => {
  it("runs the wall clock at 1× and an accelerated one from a chosen time of day", () => {
    let wall = 1_000_000;
    const real = simClock({ wall: () => wall });
    const fast = simClock({ speedup: 30, startAt: todayAt("11:30", NOON), wall: () => wall });
    wall += 2_000;
    expect(real.now()).toBe(1_002_000);
    expect(fast.now()).toBe(Date.parse("2026-03-10T11:31:00+08:00"));
    // 40 simulated minutes are 80 wall seconds at 30×.
    expect(fast.wallMs(40 * 60_000)).toBe(80_000);
    expect(fast.wallAfter(40 * 60_000)).toBe(wall + 80_000);
    expect(() => simClock({ speedup: 0 })).toThrow(InvalidSpeedupError);
  });

  it("sleeps on the simulated clock and stops sleeping when told", async () => {
    const fast = simClock({ speedup: 1000 });
    const started = Date.now();
    await fast.sleep(5_000); // 5 ms of wall time
    expect(Date.now() - started).toBeLessThan(1_000);
    const abort = new AbortController();
    const long = fast.sleep(3_600_000_000, abort.signal);
    abort.abort();
    await expect(long).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("a simulated courier's answer to an offer", () => {
  const base: OfferSituation = {
    toStoreM: 600,
    carrying: 0,
    maxOrders: 3,
    mode: "ebike",
    temperatureClass: "ambient",
    acceptProbability: 0.85,
  };
  const share = (s: OfferSituation, n = 20_000) => {
    const draw = new Draw(17);
    const answers = Array.from({ length: n }, () => decideOffer(() => draw.next(), s));
    const reasons = new Map<string, number>();
    for (const a of answers) if (!a.accept) reasons.set(a.reason, (reasons.get(a.reason) ?? 0) + 1);
    return { accepted: answers.filter((a) => a.accept).length / n, reasons };
  };

  it("takes a near offer that fits 85 % of the time", () => {
    const { accepted, reasons } = share(base);
    expect(accepted).toBeCloseTo(0.85, 2);
    expect([...reasons.keys()].sort()).toEqual(["other", "too_far"]);
  });

  it("takes a far store, a full bag or frozen goods on an e-bike less often, and says why", () => {
    const far = share({ ...base, toStoreM: 3_500 });
    expect(far.accepted).toBeLessThan(0.7);
    expect([...far.reasons.keys()]).toEqual(["too_far"]);
    const busy = share({ ...base, carrying: 2 });
    expect(busy.accepted).toBeCloseTo(0.7, 1);
    expect([...busy.reasons.keys()]).toEqual(["busy"]);
    const frozen = share({ ...base, temperatureClass: "frozen" });
    expect(frozen.accepted).toBeCloseTo(0.75, 1);
    expect([...frozen.reasons.keys()]).toEqual(["vehicle_unsuitable"]);
    const van = share({ ...base, mode: "van", temperatureClass: "frozen", toStoreM: 3_500 });
    expect(van.accepted).toBeCloseTo(0.85, 1);
  });
});

describe("pointAlong", () => {
  it("walks a route leg by leg", () => {
    const path = [
      { lat: 25, lng: 102 },
      { lat: 25.001, lng: 102 },
      { lat: 25.001, lng: 102.001 },
    ];
    const legs = [100, 100];
    expect(pointAlong(path, legs, 0)).toEqual(path[0]);
    expect(pointAlong(path, legs, 50).lat).toBeCloseTo(25.0005, 9);
    expect(pointAlong(path, legs, 150)).toEqual({ lat: 25.001, lng: 102.0005 });
    expect(pointAlong(path, legs, 500)).toEqual(path[2]);
  });
});

describe("a load run's stores", () => {
  it("are all open at 3 a.m. with storesOpenAllDay, and most are shut without", () => {
    const threeAm = Date.parse("2026-03-10T03:00:00+08:00");
    const options = {
      city: CITIES.kunming,
      gateway: "http://127.0.0.1:9",
      tokens: async () => "t",
      admin: {
        configureMarket: async () => {},
        registerStore: async () => {},
        configureVehicle: async () => {},
      },
    };
    const allDay = new CityWorld({ ...options, storesOpenAllDay: true });
    expect(allDay.registry.openAt(threeAm)).toHaveLength(allDay.places.stores.length);
    const usual = new CityWorld(options);
    expect(usual.registry.openAt(threeAm).length).toBeLessThan(usual.places.stores.length / 2);
  });
});
