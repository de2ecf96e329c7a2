import { greatCircleDistance, UNITS } from "h3-js";
import { describe, expect, it } from "vitest";
import { haversineMeters, hourOfWeek, InvalidCoordinateError, toGcj02, toWgs84 } from "./index.ts";

// An independent implementation of the published GCJ-02 forward transform (the widely
// reproduced "eviltransform" formulas: Krasovsky 1940 ellipsoid), to check gcoord against.
function referenceGcj02(lat: number, lng: number): { lat: number; lng: number } {
  const a = 6378245.0;
  const ee = 0.00669342162296594323;
  const x = lng - 105.0;
  const y = lat - 35.0;
  let dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  dLat += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  dLat += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  dLat +=
    ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  let dLng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  dLng += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  dLng += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  dLng +=
    ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  const radLat = (lat / 180.0) * Math.PI;
  let magic = Math.sin(radLat);
  magic = 1 - ee * magic * magic;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180.0) / (((a * (1 - ee)) / (magic * sqrtMagic)) * Math.PI);
  dLng = (dLng * 180.0) / ((a / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return { lat: lat + dLat, lng: lng + dLng };
}

const CITIES = {
  kunmingDianchiSquare: { lat: 25.0406, lng: 102.7123 },
  zhaotong: { lat: 27.3382, lng: 103.7172 },
  wenshan: { lat: 23.3696, lng: 104.2443 },
  changshaWuyiSquare: { lat: 28.1959, lng: 112.9769 },
  nanjingXinjiekou: { lat: 32.0417, lng: 118.7784 },
};

describe("WGS-84 ⇄ GCJ-02", () => {
  it("shifts points in Chinese cities by the published GCJ-02 offsets", () => {
    for (const p of Object.values(CITIES)) {
      const gcj = toGcj02(p);
      const ref = referenceGcj02(p.lat, p.lng);
      expect(haversineMeters(gcj, ref)).toBeLessThan(0.01);
      // The shift is hundreds of metres, never zero, never kilometres.
      const shift = haversineMeters(p, gcj);
      expect(shift).toBeGreaterThan(100);
      expect(shift).toBeLessThan(1000);
    }
  });

  it("moves Tiananmen by the well-known ~+0.0062° lng, +0.0014° lat", () => {
    const gcj = toGcj02({ lat: 39.9087, lng: 116.3975 });
    expect(gcj.lng - 116.3975).toBeCloseTo(0.0062, 3);
    expect(gcj.lat - 39.9087).toBeCloseTo(0.0014, 3);
  });

  it("round-trips Kunming and Nanjing with less than a metre of error", () => {
    for (const p of Object.values(CITIES)) {
      expect(haversineMeters(toWgs84(toGcj02(p)), p)).toBeLessThan(1);
      expect(haversineMeters(toGcj02(toWgs84(p)), p)).toBeLessThan(1);
    }
  });

  it("leaves points outside China unchanged", () => {
    const paris = { lat: 48.8584, lng: 2.2945 };
    const tokyo = { lat: 35.6812, lng: 139.7671 };
    expect(toGcj02(paris)).toEqual(paris);
    expect(toWgs84(paris)).toEqual(paris);
    expect(toGcj02(tokyo)).toEqual(tokyo);
  });

  it("refuses coordinates that are not a place", () => {
    expect(() => toWgs84({ lat: Number.NaN, lng: 102 })).toThrow(InvalidCoordinateError);
    expect(() => toGcj02({ lat: 91, lng: 102 })).toThrow(InvalidCoordinateError);
  });
});

describe("haversineMeters", () => {
  it("agrees with h3's great-circle distance from Kunming to Nanjing (~1,750 km)", () => {
    const a = CITIES.kunmingDianchiSquare;
    const b = CITIES.nanjingXinjiekou;
    const d = haversineMeters(a, b);
    const h3 = greatCircleDistance([a.lat, a.lng], [b.lat, b.lng], UNITS.m);
    expect(Math.abs(d - h3)).toBeLessThan(1);
    expect(Math.round(d / 10_000)).toBe(175);
  });

  it("measures one arc-minute of latitude as one nautical mile within 0.5 %", () => {
    const d = haversineMeters({ lat: 25, lng: 102.7 }, { lat: 25 + 1 / 60, lng: 102.7 });
    expect(Math.abs(d - 1852) / 1852).toBeLessThan(0.005);
  });

  it("is zero for the same point and symmetric", () => {
    const a = CITIES.zhaotong;
    const b = CITIES.wenshan;
    expect(haversineMeters(a, a)).toBe(0);
    expect(haversineMeters(a, b)).toBeCloseTo(haversineMeters(b, a), 6);
  });
});

describe("hourOfWeek", () => {
  it("counts from Monday midnight in Beijing time", () => {
    // 2024-01-01 was a Monday; 00:30 +08:00 is 2023-12-31 16:30 UTC.
    expect(hourOfWeek(Date.parse("2024-01-01T00:30:00+08:00"))).toBe(0);
    expect(hourOfWeek(Date.parse("2024-01-01T13:59:59+08:00"))).toBe(13);
    expect(hourOfWeek(Date.parse("2024-01-03T08:00:00+08:00"))).toBe(2 * 24 + 8);
    expect(hourOfWeek(Date.parse("2024-01-07T23:10:00+08:00"))).toBe(167);
    expect(hourOfWeek(Date.parse("2024-01-08T00:00:00+08:00"))).toBe(0);
  });

  it("has no daylight saving jump in summer", () => {
    expect(hourOfWeek(Date.parse("2024-07-01T12:00:00+08:00"))).toBe(12);
  });
});
