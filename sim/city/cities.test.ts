/** The five cities and the places put in them: no servers, no clocks. */
import { describe, expect, it } from "vitest";
import { OpenHours } from "../../protocol/actors/store.ts";
import {
  CITIES,
  CITY_IDS,
  cityByName,
  flatMeters,
  inExtent,
  isOpen,
  localMinuteOfDay,
  placeCity,
  StoreRegistry,
  UnknownCityError,
} from "./cities.ts";

/** Epoch ms of a local time (Asia/Shanghai) on 2026-03-10, a Tuesday. */
const local = (hhmm: string) => Date.parse(`2026-03-10T${hhmm}:00+08:00`);

describe("cities", () => {
  it("has five cities whose centre and trading areas lie inside their urban extent", () => {
    expect(CITY_IDS).toEqual(["kunming", "zhaotong", "wenshan", "changsha", "nanjing"]);
    for (const city of Object.values(CITIES)) {
      expect(inExtent(city.centre, city.extent), city.id).toBe(true);
      for (const d of city.districts) {
        for (const a of d.areas)
          expect(inExtent(a, city.extent), `${city.id} ${a.name}`).toBe(true);
      }
      // An urban core: a few to a few tens of kilometres across.
      const width = flatMeters(
        { lat: city.centre.lat, lng: city.extent.west },
        { lat: city.centre.lat, lng: city.extent.east },
      );
      const height = flatMeters(
        { lat: city.extent.south, lng: city.centre.lng },
        { lat: city.extent.north, lng: city.centre.lng },
      );
      expect(width).toBeGreaterThan(5_000);
      expect(width).toBeLessThan(30_000);
      expect(height).toBeGreaterThan(5_000);
      expect(height).toBeLessThan(30_000);
    }
    expect(new Set(Object.values(CITIES).map((c) => c.marketId)).size).toBe(5);
    // Where they are: Yunnan's three round 23-27.5° N, 102-104.5° E; Changsha and Nanjing east.
    expect(CITIES.kunming.centre.lat).toBeCloseTo(25.04, 1);
    expect(CITIES.zhaotong.centre.lat).toBeCloseTo(27.34, 1);
    expect(CITIES.wenshan.centre.lat).toBeCloseTo(23.37, 1);
    expect(CITIES.changsha.centre.lng).toBeCloseTo(112.98, 1);
    expect(CITIES.nanjing.centre.lng).toBeCloseTo(118.78, 1);
  });

  it("finds a city by id, English or Chinese name, and names the choices for an unknown one", () => {
    expect(cityByName("Kunming").id).toBe("kunming");
    expect(cityByName(" NANJING ").id).toBe("nanjing");
    expect(cityByName("昭通").id).toBe("zhaotong");
    expect(cityByName("文山").marketId).toBe("ws");
    expect(() => cityByName("Dali")).toThrow(UnknownCityError);
    expect(() => cityByName("Dali")).toThrow(/Kunming \(昆明\)/);
  });
});

describe("placeCity", () => {
  it("places the same stores in the same places for a seed, and others for another seed", () => {
    const a = placeCity(CITIES.kunming, { seed: 7 });
    const b = placeCity(CITIES.kunming, { seed: 7 });
    const c = placeCity(CITIES.kunming, { seed: 8 });
    expect(a).toEqual(b);
    expect(a.stores.map((s) => s.location)).not.toEqual(c.stores.map((s) => s.location));
  });

  it.each(CITY_IDS)(
    "puts %s's stores and pickup points inside its extent, one cold warehouse, every kind",
    (id) => {
      const city = CITIES[id];
      const { stores, pickupPoints } = placeCity(city, { seed: 1 });
      expect(stores).toHaveLength(city.size.stores);
      expect(pickupPoints).toHaveLength(city.size.pickupPoints);
      for (const p of [...stores, ...pickupPoints]) {
        expect(inExtent(p.location, city.extent)).toBe(true);
      }
      expect(stores.filter((s) => s.kind === "cold_warehouse")).toHaveLength(1);
      for (const kind of ["fruit", "supermarket", "convenience"]) {
        expect(
          stores.some((s) => s.kind === kind),
          kind,
        ).toBe(true);
      }
      expect(new Set(stores.map((s) => s.storeId)).size).toBe(stores.length);
      expect(new Set(stores.map((s) => s.name)).size).toBe(stores.length);
      expect(new Set(pickupPoints.map((p) => p.pickupPointId)).size).toBe(pickupPoints.length);
      expect(stores[0]!.storeId).toBe(`s-${city.marketId}-01`);
      // Store names say the shop and the area: 鲜果铺（南屏街店）.
      for (const s of stores) expect(s.name).toMatch(/^\S+（\S+店）$/);
      // The store actor takes these open hours as they are.
      for (const s of stores) expect(OpenHours.safeParse(s.openHours).success).toBe(true);
    },
  );

  it("puts stores near their trading area (within ~1.5 km for shops)", () => {
    const { city, stores } = placeCity(CITIES.kunming, { seed: 3 });
    const areas = city.districts.flatMap((d) => d.areas);
    for (const s of stores.filter((x) => x.kind !== "cold_warehouse")) {
      const area = areas.find((a) => a.name === s.area)!;
      expect(flatMeters(area, s.location)).toBeLessThan(1_500);
    }
  });
});

describe("open hours", () => {
  const { stores } = placeCity(CITIES.kunming, { seed: 1 });
  const fruit = stores.find((s) => s.kind === "fruit")!;
  const convenience = stores.find((s) => s.kind === "convenience")!;

  it("reads local time in Asia/Shanghai", () => {
    expect(localMinuteOfDay(local("07:30"))).toBe(450);
    expect(localMinuteOfDay(local("00:00"))).toBe(0);
  });

  it("opens a fruit shop 08:30-22:30 and a convenience store round the clock", () => {
    expect(isOpen(fruit, local("08:00"))).toBe(false);
    expect(isOpen(fruit, local("08:30"))).toBe(true);
    expect(isOpen(fruit, local("22:29"))).toBe(true);
    expect(isOpen(fruit, local("22:30"))).toBe(false);
    expect(isOpen(convenience, local("03:00"))).toBe(true);
  });

  it("runs an interval past midnight into the next day", () => {
    const bar = { openHours: { ...fruit.openHours, "2": [{ open: "18:00", close: "02:00" }] } };
    expect(isOpen(bar, local("23:00"))).toBe(true);
    // Wednesday 01:00 is Tuesday night's interval.
    expect(isOpen(bar, Date.parse("2026-03-11T01:00:00+08:00"))).toBe(true);
    expect(isOpen(bar, Date.parse("2026-03-11T02:30:00+08:00"))).toBe(false);
  });

  it("has only the round-the-clock stores open at 3 a.m.", () => {
    const registry = new StoreRegistry(stores);
    const open = registry.openAt(local("03:00"));
    expect(open.length).toBeGreaterThan(0);
    expect(new Set(open.map((s) => s.kind))).toEqual(new Set(["convenience", "cold_warehouse"]));
    expect(registry.openAt(local("12:00"))).toHaveLength(stores.length);
    const near = registry.nearest(fruit.location);
    expect(near[0]).toBe(fruit);
    expect(registry.get(fruit.storeId)).toBe(fruit);
    expect(registry.get("s-nowhere")).toBeNull();
  });
});
