import { cellToParent, latLngToCell } from "h3-js";
import { describe, expect, it } from "vitest";
import { CourierIndex, haversineMeters, InvalidCoordinateError } from "./index.ts";
import { KUNMING, offset, seededRandom } from "./test-support.ts";

const CENTRE = { lat: 25.0406, lng: 102.7123 };
const T = 1_700_000_000_000;

function randomPoint(random: () => number, box = KUNMING) {
  return {
    lat: box.minLat + random() * (box.maxLat - box.minLat),
    lng: box.minLng + random() * (box.maxLng - box.minLng),
  };
}

function bruteForce(
  points: Map<string, { lat: number; lng: number }>,
  q: { lat: number; lng: number },
) {
  return [...points]
    .map(([id, p]) => ({ id, meters: haversineMeters(q, p) }))
    .sort((a, b) => a.meters - b.meters);
}

describe("CourierIndex", () => {
  it("stores, moves and removes couriers", () => {
    const index = new CourierIndex();
    index.upsert("c1", CENTRE.lat, CENTRE.lng, T);
    expect(index.size).toBe(1);
    expect(index.get("c1")).toEqual({
      ...CENTRE,
      at: T,
      cell: latLngToCell(CENTRE.lat, CENTRE.lng, 9),
    });
    const moved = offset(CENTRE, 2000, 0);
    index.upsert("c1", moved.lat, moved.lng, T + 1000);
    expect(index.get("c1")).toMatchObject({
      ...moved,
      at: T + 1000,
      cell: latLngToCell(moved.lat, moved.lng, 9),
    });
    expect(index.size).toBe(1);
    expect(index.remove("c1")).toBe(true);
    expect(index.remove("c1")).toBe(false);
    expect(index.get("c1")).toBeNull();
    expect(index.size).toBe(0);
  });

  it("always knows the right cell of a courier random-walking across cell edges", () => {
    const random = seededRandom(11);
    const index = new CourierIndex();
    const positions = new Map<string, { lat: number; lng: number }>();
    for (let i = 0; i < 200; i++) {
      const p = randomPoint(random, { minLat: 25.0, maxLat: 25.02, minLng: 102.7, maxLng: 102.72 });
      positions.set(`c${i}`, p);
      index.upsert(`c${i}`, p.lat, p.lng, T);
    }
    for (let step = 0; step < 200; step++) {
      for (const [id, p] of positions) {
        const next = offset(p, (random() - 0.5) * 60, (random() - 0.5) * 60);
        positions.set(id, next);
        index.upsert(id, next.lat, next.lng, T + step);
      }
    }
    for (const [id, p] of positions) {
      expect(index.get(id)?.cell).toBe(latLngToCell(p.lat, p.lng, 9));
    }
    const counts = index.cellCounts();
    let total = 0;
    for (const n of counts.values()) total += n;
    expect(total).toBe(200);
  });

  it("finds exactly the same k nearest as a brute-force scan", () => {
    const random = seededRandom(3);
    for (const [n, k] of [
      [10_000, 10],
      [2000, 5],
      [300, 20],
      [50, 3],
      [5, 10],
    ] as const) {
      const index = new CourierIndex();
      const points = new Map<string, { lat: number; lng: number }>();
      for (let i = 0; i < n; i++) {
        const p = randomPoint(random);
        points.set(`c${i}`, p);
        index.upsert(`c${i}`, p.lat, p.lng, T);
      }
      for (let q = 0; q < 200; q++) {
        const query = randomPoint(random);
        const got = index.nearest(query.lat, query.lng, k);
        const want = bruteForce(points, query).slice(0, k);
        expect(got.map((g) => g.meters)).toEqual(want.map((w) => expect.closeTo(w.meters, 6)));
        expect(new Set(got.map((g) => g.id))).toEqual(new Set(want.map((w) => w.id)));
      }
    }
  });

  it("finds the nearest courier to a query sitting on a cell's corner", () => {
    const index = new CourierIndex();
    const random = seededRandom(5);
    const points = new Map<string, { lat: number; lng: number }>();
    for (let i = 0; i < 500; i++) {
      const p = offset(CENTRE, (random() - 0.5) * 3000, (random() - 0.5) * 3000);
      points.set(`c${i}`, p);
      index.upsert(`c${i}`, p.lat, p.lng, T);
    }
    // Queries along a line cross many cell edges and corners.
    for (let i = 0; i < 300; i++) {
      const q = offset(CENTRE, -1500 + i * 10, i * 3.7);
      expect(index.nearest(q.lat, q.lng, 1)[0]?.id).toBe(bruteForce(points, q)[0]?.id);
    }
  });

  it("respects maxMeters and returns fewer than k when the market is thin", () => {
    const index = new CourierIndex();
    index.upsert("near", ...latLng(offset(CENTRE, 300, 0)), T);
    index.upsert("mid", ...latLng(offset(CENTRE, 0, 900)), T);
    index.upsert("far", ...latLng(offset(CENTRE, 5000, 0)), T);
    expect(index.nearest(CENTRE.lat, CENTRE.lng, 10).map((r) => r.id)).toEqual([
      "near",
      "mid",
      "far",
    ]);
    expect(index.nearest(CENTRE.lat, CENTRE.lng, 10, 1000).map((r) => r.id)).toEqual([
      "near",
      "mid",
    ]);
    expect(index.nearest(CENTRE.lat, CENTRE.lng, 1)[0]?.meters).toBeCloseTo(300, -1);
    expect(index.nearest(CENTRE.lat, CENTRE.lng, 0)).toEqual([]);
    expect(new CourierIndex().nearest(CENTRE.lat, CENTRE.lng, 5)).toEqual([]);
  });

  it("lists every courier within a radius, nearest first, like a brute-force scan", () => {
    const random = seededRandom(9);
    const index = new CourierIndex();
    const points = new Map<string, { lat: number; lng: number }>();
    for (let i = 0; i < 3000; i++) {
      const p = randomPoint(random);
      points.set(`c${i}`, p);
      index.upsert(`c${i}`, p.lat, p.lng, T);
    }
    for (const meters of [100, 800, 2500]) {
      const q = randomPoint(random);
      const want = bruteForce(points, q).filter((r) => r.meters <= meters);
      expect(index.withinMeters(q.lat, q.lng, meters).map((r) => r.id)).toEqual(
        want.map((w) => w.id),
      );
    }
  });

  it("counts couriers per cell at its own and coarser resolutions for supply shading", () => {
    const index = new CourierIndex();
    index.upsert("a", CENTRE.lat, CENTRE.lng, T);
    index.upsert("b", ...latLng(offset(CENTRE, 5, 5)), T);
    index.upsert("c", ...latLng(offset(CENTRE, 3000, 0)), T);
    const res9 = index.cellCounts();
    expect(res9.get(latLngToCell(CENTRE.lat, CENTRE.lng, 9))).toBe(2);
    const res6 = index.cellCounts(6);
    const want = new Map<string, number>();
    for (const id of ["a", "b", "c"]) {
      const p = index.get(id)!;
      const parent = cellToParent(p.cell, 6);
      want.set(parent, (want.get(parent) ?? 0) + 1);
    }
    expect(res6).toEqual(want);
    const res10 = index.cellCounts(10);
    expect([...res10.values()].reduce((a, b) => a + b, 0)).toBe(3);
  });

  it("refuses a courier at a coordinate that is not a place", () => {
    const index = new CourierIndex();
    expect(() => index.upsert("x", Number.NaN, 102, T)).toThrow(InvalidCoordinateError);
    expect(index.size).toBe(0);
  });
});

function latLng(p: { lat: number; lng: number }): [number, number] {
  return [p.lat, p.lng];
}
