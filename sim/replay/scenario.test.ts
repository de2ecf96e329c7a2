import { describe, expect, it } from "vitest";
import { ScenarioError } from "./errors.ts";
import { parseScenario } from "./scenario.ts";
import { BASE_CONFIG } from "./testing.ts";

const texts = {
  config: JSON.stringify(BASE_CONFIG),
  stores: "id,lat,lng\nS,25.0,102.7\nT,25.01,102.71\n",
  couriers:
    "id,lat,lng,on_at,off_at\nc1,25.0,102.7,2026-03-10T11:00:00+08:00,2026-03-10T20:00:00+08:00\n",
  orders:
    "id,store_id,lat,lng,placed_at,ready_at\n" +
    "o1,S,24.99,102.7,2026-03-10T12:00:00+08:00,2026-03-10T12:10:00+08:00\n",
};

function errorOf(change: Partial<typeof texts>): ScenarioError {
  try {
    parseScenario({ ...texts, ...change });
  } catch (error) {
    if (error instanceof ScenarioError) return error;
    throw error;
  }
  throw new Error("the scenario was accepted");
}

describe("reading a scenario", () => {
  it("reads the documented files, with defaults for the optional columns", () => {
    const s = parseScenario(texts);
    expect(s.config.start).toBe(Date.parse("2026-03-10T03:00:00Z"));
    expect(s.config.utcOffsetMinutes).toBe(480);
    expect(s.couriers[0]).toMatchObject({ mode: "ebike", capacity: 3, slots: null });
    expect(s.orders[0]).toMatchObject({ storeId: "S", temperatureClass: "ambient" });
  });

  it("reads compartments and temperature classes when given", () => {
    const s = parseScenario({
      ...texts,
      couriers:
        "id,lat,lng,on_at,off_at,mode,capacity,ambient_slots,chilled_slots,frozen_slots\n" +
        "v1,25.0,102.7,2026-03-10T11:00:00+08:00,2026-03-10T20:00:00+08:00,van,12,8,6,4\n",
      orders:
        "id,store_id,lat,lng,placed_at,ready_at,temperature_class\n" +
        "o1,S,24.99,102.7,2026-03-10T12:00:00Z,2026-03-10T12:10:00Z,chilled\n",
    });
    expect(s.couriers[0]).toMatchObject({
      mode: "van",
      capacity: 12,
      slots: { ambient: 8, chilled: 6, frozen: 4 },
    });
    expect(s.orders[0]!.temperatureClass).toBe("chilled");
  });

  it("names the setting of scenario.json that is wrong", () => {
    const bad = { ...BASE_CONFIG, travel: { ...BASE_CONFIG.travel, metersPerMinute: -3 } };
    const e = errorOf({ config: JSON.stringify(bad) });
    expect(e.file).toBe("scenario.json");
    expect(e.line).toBeNull();
    expect(e.message).toMatch(/^scenario\.json: travel\.metersPerMinute: /);
  });

  it("refuses an unknown key in scenario.json rather than ignoring a misspelt rule", () => {
    const bad = { ...BASE_CONFIG, rules: { sameStoreBundleOnly: true } };
    expect(errorOf({ config: JSON.stringify(bad) }).message).toMatch(/rules/);
  });

  it("refuses a start without a UTC offset and text that is not JSON", () => {
    const local = { ...BASE_CONFIG, start: "2026-03-10T11:00:00" };
    expect(errorOf({ config: JSON.stringify(local) }).message).toMatch(/start/);
    expect(errorOf({ config: "{ nope" }).message).toMatch(/^scenario\.json: not JSON/);
  });

  it("names file and line of a bad CSV row", () => {
    const orders =
      texts.orders + "o2,X,24.99,102.7,2026-03-10T12:00:00+08:00,2026-03-10T12:10:00+08:00\n";
    const e = errorOf({ orders });
    expect(e.file).toBe("orders.csv");
    expect(e.line).toBe(3);
    expect(e.message).toBe('orders.csv:3: store_id "X" is not in stores.csv');
  });

  it.each([
    [
      "a time without an offset",
      "o2,S,24.99,102.7,2026-03-10 12:00,2026-03-10T12:10:00+08:00",
      /placed_at "2026-03-10 12:00" is not an ISO-8601 time with an offset/,
    ],
    [
      "ready before placed",
      "o2,S,24.99,102.7,2026-03-10T12:00:00+08:00,2026-03-10T11:10:00+08:00",
      /ready_at is before placed_at/,
    ],
    [
      "a missing field",
      "o2,S,24.99,102.7,2026-03-10T12:00:00+08:00",
      /5 fields where the header has 6/,
    ],
    [
      "a coordinate off the Earth",
      "o2,S,124.99,102.7,2026-03-10T12:00:00+08:00,2026-03-10T12:10:00+08:00",
      /not a WGS-84 coordinate/,
    ],
    [
      "an id used twice",
      "o1,S,24.99,102.7,2026-03-10T12:00:00+08:00,2026-03-10T12:10:00+08:00",
      /id "o1" already used on line 2/,
    ],
    [
      "31 February",
      "o2,S,24.99,102.7,2026-02-31T12:00:00+08:00,2026-03-10T12:10:00+08:00",
      /placed_at "2026-02-31T12:00:00\+08:00"/,
    ],
  ])("refuses %s in orders.csv", (_, row, message) => {
    const e = errorOf({ orders: texts.orders + row + "\n" });
    expect(e.line).toBe(3);
    expect(e.message).toMatch(message);
  });

  it("names the missing columns of a header", () => {
    const e = errorOf({ stores: "id,latitude,lng\nS,25,102.7\n" });
    expect(e.message).toBe('stores.csv:1: missing column "lat" (header: id,latitude,lng)');
  });

  it("refuses a shift that ends before it starts and a half-given compartment set", () => {
    const late =
      "id,lat,lng,on_at,off_at\nc1,25.0,102.7,2026-03-10T20:00:00+08:00,2026-03-10T11:00:00+08:00\n";
    expect(errorOf({ couriers: late }).message).toBe("couriers.csv:2: off_at is not after on_at");
    const half =
      "id,lat,lng,on_at,off_at,ambient_slots,chilled_slots,frozen_slots\n" +
      "c1,25.0,102.7,2026-03-10T11:00:00+08:00,2026-03-10T20:00:00+08:00,3,,\n";
    expect(errorOf({ couriers: half }).message).toMatch(/couriers\.csv:2: .*all or none/);
  });

  it("reads quoted fields and counts lines inside them", () => {
    const s = parseScenario({
      ...texts,
      stores: 'id,lat,lng\n"S",25.0,102.7\n"T, the ""second""",25.01,102.71\n',
    });
    expect(s.stores.map((x) => x.id)).toEqual(["S", 'T, the "second"']);
    const e = errorOf({ stores: 'id,lat,lng\n"S\nS",25.0,102.7\nT,x,102.7\n' });
    expect(e.message).toBe('stores.csv:4: lat "x" is not a number');
  });
});
