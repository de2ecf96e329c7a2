import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EtaModel, haversineMeters, OsrmClient, SpeedTable } from "./index.ts";
import type { LatLng, TravelTimeSource } from "./index.ts";
import { offset, seededRandom } from "./test-support.ts";

const STORE: LatLng = { lat: 25.0406, lng: 102.7123 };
const DOOR: LatLng = offset(STORE, 1800, 1200);
const T = Date.parse("2024-03-04T18:00:00+08:00"); // Monday evening rush

function fixtureFetch(name: string, status = 200): typeof fetch {
  const body = readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
  return async () => new Response(body, { status });
}

describe("EtaModel", () => {
  it("without OSRM, estimates straight distance × detour ÷ the mode's speed", () => {
    const model = new EtaModel();
    const eta = model.estimateStraight(STORE, DOOR, "ebike", T);
    const straight = haversineMeters(STORE, DOOR);
    expect(eta.source).toBe("model");
    expect(eta.meters).toBeCloseTo(straight * 1.3, 6);
    expect(eta.seconds).toBeCloseTo((straight * 1.3) / 4.5, 6);
    expect(eta.p50).toBeCloseTo(T + eta.seconds * 1000, 3);
    expect(eta.startAt).toBe(T);
  });

  it("returns a window with p90 after p50", async () => {
    const eta = await new EtaModel().estimate([{ from: STORE, to: DOOR }], "ebike", T);
    expect(eta.p90).toBeGreaterThan(eta.p50);
    expect((eta.p90 - T) / (eta.p50 - T)).toBeCloseTo(1.35, 6);
  });

  it("rides slower on foot and faster by car", () => {
    const model = new EtaModel();
    const foot = model.estimateStraight(STORE, DOOR, "foot", T).seconds;
    const ebike = model.estimateStraight(STORE, DOOR, "ebike", T).seconds;
    const car = model.estimateStraight(STORE, DOOR, "car", T).seconds;
    expect(foot).toBeGreaterThan(ebike);
    expect(ebike).toBeGreaterThan(car);
  });

  it("adds service time at each stop and sums the legs", async () => {
    const model = new EtaModel();
    const second = offset(DOOR, 500, 0);
    const legs = [
      { from: STORE, to: DOOR },
      { from: DOOR, to: second },
    ];
    const eta = await model.estimate(legs, "ebike", T, [120]);
    const travel =
      model.estimateStraight(STORE, DOOR, "ebike", T).seconds +
      model.estimateStraight(DOOR, second, "ebike", T).seconds;
    expect(eta.seconds).toBeCloseTo(travel + 120, 6);
  });

  it("takes travel times from OSRM when it answers", async () => {
    const source = new OsrmClient({
      baseUrl: "http://osrm.local",
      fetch: fixtureFetch("route-ok.json"),
    });
    const eta = await new EtaModel({ source }).estimate(
      [{ from: STORE, to: DOOR }],
      "bike",
      T,
      [60],
    );
    expect(eta).toMatchObject({ source: "osrm", meters: 2431.6 });
    expect(eta.seconds).toBeCloseTo(598.7 + 60, 6);
  });

  it("falls back to the model when OSRM finds no route", async () => {
    const source = new OsrmClient({
      baseUrl: "http://osrm.local",
      fetch: fixtureFetch("route-noroute.json", 400),
    });
    const model = new EtaModel({ source });
    const eta = await model.estimate([{ from: STORE, to: DOOR }], "ebike", T);
    expect(eta.source).toBe("model");
    expect(eta.seconds).toBeCloseTo(model.estimateStraight(STORE, DOOR, "ebike", T).seconds, 6);
  });

  it("falls back per leg when a source throws instead of returning null", async () => {
    let calls = 0;
    const flaky: TravelTimeSource = {
      route: async () => {
        calls++;
        if (calls === 2) throw new Error("socket hang up");
        return { seconds: 100, meters: 500 };
      },
    };
    const eta = await new EtaModel({ source: flaky }).estimate(
      [
        { from: STORE, to: DOOR },
        { from: DOOR, to: STORE },
      ],
      "car",
      T,
    );
    expect(eta.source).toBe("model");
    expect(eta.seconds).toBeGreaterThan(100);
  });

  it("uses speeds learned along the straight line once a cell has enough samples", () => {
    const speeds = new SpeedTable();
    const model = new EtaModel({ speeds });
    const before = model.estimateStraight(STORE, DOOR, "ebike", T).seconds;
    // Couriers crawl at 2 m/s along this line at this hour on Mondays.
    const random = seededRandom(2);
    for (let i = 0; i < 400; i++) {
      const t = random();
      const from = {
        lat: STORE.lat + (DOOR.lat - STORE.lat) * t,
        lng: STORE.lng + (DOOR.lng - STORE.lng) * t,
        at: T + Math.floor(random() * 1_800_000),
      };
      speeds.observe(from, { ...offset(from, 30, 0), at: from.at + 15_000 });
    }
    const after = model.estimateStraight(STORE, DOOR, "ebike", T).seconds;
    const meters = haversineMeters(STORE, DOOR) * 1.3;
    expect(after).toBeCloseTo(meters / 2, -1);
    expect(after).toBeGreaterThan(before * 2);
    // A week-day morning has no samples: back to the default speed.
    const morning = model.estimateStraight(STORE, DOOR, "ebike", T - 10 * 3_600_000).seconds;
    expect(morning).toBeCloseTo(before, 6);
  });

  it("ignores learned speeds that have too few samples", () => {
    const speeds = new SpeedTable();
    speeds.observe({ ...STORE, at: T }, { ...offset(STORE, 30, 0), at: T + 15_000 });
    const model = new EtaModel({ speeds, minSamples: 5 });
    expect(model.estimateStraight(STORE, DOOR, "ebike", T).seconds).toBeCloseTo(
      new EtaModel().estimateStraight(STORE, DOOR, "ebike", T).seconds,
      6,
    );
  });

  it("learns the p90 spread from outcomes so that about 90 % arrive inside the window", () => {
    const model = new EtaModel();
    const random = seededRandom(4);
    // Actual/predicted ratio: log-normal, median 1.1, sigma 0.3 → 90th percentile ≈ 1.62.
    const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const outcome = () => Math.exp(Math.log(1.1) + 0.3 * gauss());
    for (let i = 0; i < 3000; i++) {
      const eta = model.estimateStraight(STORE, DOOR, "ebike", T + i * 60_000);
      model.recordOutcome(eta, eta.startAt + (eta.p50 - eta.startAt) * outcome());
    }
    const calibration = model.calibration("model");
    expect(calibration.samples).toBe(3000);
    expect(calibration.p90).toBeGreaterThan(1.45);
    expect(calibration.p90).toBeLessThan(1.8);
    expect(calibration.median).toBeGreaterThan(1.0);
    expect(calibration.median).toBeLessThan(1.2);
    let inside = 0;
    for (let i = 0; i < 2000; i++) {
      const eta = model.estimateStraight(STORE, DOOR, "ebike", T);
      if (eta.startAt + (eta.p50 - eta.startAt) * outcome() <= eta.p90) inside++;
    }
    expect(inside / 2000).toBeGreaterThan(0.85);
    expect(inside / 2000).toBeLessThan(0.95);
    // OSRM's calibration is its own.
    expect(model.calibration("osrm").samples).toBe(0);
  });

  it("keeps its calibration across a restart", () => {
    const model = new EtaModel();
    const eta = model.estimateStraight(STORE, DOOR, "ebike", T);
    for (let i = 0; i < 50; i++)
      model.recordOutcome(eta, eta.startAt + (eta.p50 - eta.startAt) * 2);
    const restored = new EtaModel({
      calibration: JSON.parse(JSON.stringify(model.calibrationToJSON())),
    });
    expect(restored.calibration()).toEqual(model.calibration());
    expect(restored.estimateStraight(STORE, DOOR, "ebike", T).p90).toBeGreaterThan(eta.p90);
  });

  it("ignores outcomes that cannot be real", () => {
    const model = new EtaModel();
    const eta = model.estimateStraight(STORE, DOOR, "ebike", T);
    model.recordOutcome(eta, T - 1000);
    model.recordOutcome({ p50: T, p90: T, startAt: T }, T + 1000);
    expect(model.calibration().samples).toBe(0);
  });
});
