import { describe, expect, it } from "vitest";
import { FixFilter, fixFilterDefaults, haversineMeters } from "./index.ts";
import type { AcceptedFix, FixVerdict, RawFix } from "./index.ts";
import { offset, seededRandom } from "./test-support.ts";

const NOW = Date.parse("2024-03-04T11:00:00+08:00");
const STORE = { lat: 25.0406, lng: 102.7123 };
const filter = new FixFilter();

function accepted(v: FixVerdict): AcceptedFix {
  if (!v.ok) throw new Error(`expected accepted, got ${v.code}: ${v.message}`);
  return v.fix;
}
function code(v: FixVerdict): string {
  return v.ok ? "ok" : v.code;
}

describe("FixFilter", () => {
  it("accepts a first good fix as it is, keeping the raw position", () => {
    const fix = accepted(filter.check(null, { ...STORE, at: NOW - 1000, accuracy: 8 }, NOW));
    expect(fix).toMatchObject({ ...STORE, at: NOW - 1000, accuracy: 8, raw: STORE });
  });

  it("refuses NaN and Infinity anywhere", () => {
    expect(code(filter.check(null, { lat: Number.NaN, lng: 102, at: NOW }, NOW))).toBe(
      "not_finite",
    );
    expect(code(filter.check(null, { ...STORE, at: Number.POSITIVE_INFINITY }, NOW))).toBe(
      "not_finite",
    );
    expect(code(filter.check(null, { ...STORE, at: NOW, speed: Number.NaN }, NOW))).toBe(
      "not_finite",
    );
  });

  it("refuses coordinates off the globe and the 0,0 of a device without a fix", () => {
    expect(code(filter.check(null, { lat: 91, lng: 102, at: NOW }, NOW))).toBe("out_of_range");
    expect(code(filter.check(null, { lat: 25, lng: -181, at: NOW }, NOW))).toBe("out_of_range");
    expect(code(filter.check(null, { lat: 0, lng: 0, at: NOW }, NOW))).toBe("out_of_range");
    expect(code(filter.check(null, { ...STORE, at: NOW, heading: 400 }, NOW))).toBe("out_of_range");
  });

  it("refuses a fix more than 30 s ahead of the server clock but allows small skew", () => {
    expect(code(filter.check(null, { ...STORE, at: NOW + 31_000 }, NOW))).toBe("future");
    expect(code(filter.check(null, { ...STORE, at: NOW + 29_000 }, NOW))).toBe("ok");
  });

  it("refuses a fix older than five minutes", () => {
    expect(code(filter.check(null, { ...STORE, at: NOW - 5 * 60_000 - 1 }, NOW))).toBe("stale");
    expect(code(filter.check(null, { ...STORE, at: NOW - 4 * 60_000 }, NOW))).toBe("ok");
  });

  it("refuses a fix not newer than the last accepted one", () => {
    const prev = accepted(filter.check(null, { ...STORE, at: NOW - 2000 }, NOW));
    expect(code(filter.check(prev, { ...STORE, at: NOW - 2000 }, NOW))).toBe("out_of_order");
    expect(code(filter.check(prev, { ...STORE, at: NOW - 3000 }, NOW))).toBe("out_of_order");
  });

  it("refuses a fix whose accuracy is worse than 500 m", () => {
    expect(code(filter.check(null, { ...STORE, at: NOW, accuracy: 800 }, NOW))).toBe(
      "low_accuracy",
    );
  });

  it("refuses a jump that implies more than 150 km/h", () => {
    const prev = accepted(filter.check(null, { ...STORE, at: NOW - 10_000, accuracy: 5 }, NOW));
    // 1 km in 10 s is 360 km/h.
    const far = { ...offset(STORE, 1000, 0), at: NOW, accuracy: 5 };
    expect(code(filter.check(prev, far, NOW))).toBe("impossible_jump");
  });

  it("accepts an e-bike riding at 40 km/h", () => {
    const prev = accepted(filter.check(null, { ...STORE, at: NOW - 3000, accuracy: 5 }, NOW));
    const next = { ...offset(STORE, 33, 0), at: NOW, accuracy: 5, speed: 11 };
    expect(code(filter.check(prev, next, NOW))).toBe("ok");
  });

  it("forgives a jittery short hop within both accuracy radii", () => {
    // 60 m in 1 s would be 216 km/h, but both fixes are only good to 35 m.
    const prev = accepted(filter.check(null, { ...STORE, at: NOW - 1000, accuracy: 35 }, NOW));
    const hop = { ...offset(STORE, 0, 60), at: NOW, accuracy: 35 };
    expect(code(filter.check(prev, hop, NOW))).toBe("ok");
  });

  it("recovers from a bad accepted fix once the implied speed becomes plausible", () => {
    const bad = accepted(filter.check(null, { ...offset(STORE, 3000, 0), at: NOW - 60_000 }, NOW));
    // 3 km from the bad fix: impossible after 10 s, plausible after 90 s.
    expect(code(filter.check(bad, { ...STORE, at: NOW - 50_000 }, NOW))).toBe("impossible_jump");
    expect(code(filter.check(bad, { ...STORE, at: NOW + 30_000 }, NOW + 30_000))).toBe("ok");
  });

  it("smooths the jitter of a courier standing still", () => {
    const random = seededRandom(7);
    let prev: AcceptedFix | null = null;
    let rawError = 0;
    let smoothError = 0;
    const n = 60;
    for (let i = 0; i < n; i++) {
      const at = NOW - (n - i) * 2000;
      // Gaussian jitter, 6 m per axis: most fixes within the reported 10 m accuracy.
      const gauss = () =>
        Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()) * 6;
      const raw = offset(STORE, gauss(), gauss());
      const fix = accepted(filter.check(prev, { ...raw, at, accuracy: 10 }, at));
      if (i >= 10) {
        rawError += haversineMeters(raw, STORE);
        smoothError += haversineMeters(fix, STORE);
      }
      expect(fix.raw).toEqual(raw);
      prev = fix;
    }
    expect(smoothError).toBeLessThan(rawError / 2);
  });

  it("does not lag behind a courier who is moving", () => {
    let prev: AcceptedFix | null = null;
    for (let i = 0; i < 20; i++) {
      const at = NOW - (20 - i) * 2000;
      // 5 m/s north, without a device speed.
      const raw = offset(STORE, i * 10, 0);
      const fix: AcceptedFix = accepted(filter.check(prev, { ...raw, at, accuracy: 4 }, at));
      expect(haversineMeters(fix, raw)).toBeLessThanOrEqual(4.01);
      prev = fix;
    }
  });

  it("lags a slow courier by no more than the fixes' accuracy", () => {
    let prev: AcceptedFix | null = null;
    for (let i = 0; i < 30; i++) {
      const at = NOW - (30 - i) * 2000;
      const raw = offset(STORE, i * 3, 0); // 1.5 m/s, fixes good to 15 m
      const fix: AcceptedFix = accepted(filter.check(prev, { ...raw, at, accuracy: 15 }, at));
      expect(haversineMeters(fix, raw)).toBeLessThanOrEqual(15.01);
      prev = fix;
    }
  });

  it("takes the raw position whenever the device reports moving", () => {
    const prev = accepted(filter.check(null, { ...STORE, at: NOW - 2000, accuracy: 20 }, NOW));
    const raw = offset(STORE, 4, 0);
    const fix = accepted(filter.check(prev, { ...raw, at: NOW, accuracy: 20, speed: 3 }, NOW));
    expect(fix.lat).toBe(raw.lat);
    expect(fix.speed).toBe(3);
  });

  it("reads every threshold from options with defaults in one place", () => {
    expect(fixFilterDefaults()).toMatchObject({
      maxFutureMs: 30_000,
      maxAgeMs: 300_000,
      maxSpeedKmh: 150,
      maxAccuracyMeters: 500,
    });
    const strict = new FixFilter({ maxAccuracyMeters: 50 });
    const fix: RawFix = { ...STORE, at: NOW, accuracy: 80 };
    expect(code(strict.check(null, fix, NOW))).toBe("low_accuracy");
    expect(code(filter.check(null, fix, NOW))).toBe("ok");
  });
});
