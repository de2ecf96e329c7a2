import { describe, expect, it } from "vitest";
import { InvalidZoneError, ZoneIndex } from "./index.ts";
import type { Zone } from "./index.ts";
import { seededRandom } from "./test-support.ts";

/** A lng/lat box as a closed GeoJSON ring, counter-clockwise. */
function box(minLng: number, minLat: number, maxLng: number, maxLat: number): number[][] {
  return [
    [minLng, minLat],
    [maxLng, minLat],
    [maxLng, maxLat],
    [minLng, maxLat],
    [minLng, minLat],
  ];
}

const wuhua: Zone = {
  id: "km-wuhua",
  marketId: "kunming",
  name: "五华区",
  polygon: { type: "Polygon", coordinates: [box(102.68, 25.03, 102.72, 25.07)] },
  deliveryFeeFen: 300,
  promisedMinutes: 30,
};
const panlong: Zone = {
  id: "km-panlong",
  marketId: "kunming",
  name: "盘龙区",
  polygon: { type: "Polygon", coordinates: [box(102.72, 25.03, 102.76, 25.07)] },
  deliveryFeeFen: 400,
  promisedMinutes: 35,
};
// A zone with a hole: a lake (翠湖) inside it.
const withHole: Zone = {
  id: "km-cuihu",
  marketId: "kunming",
  name: "翠湖周边",
  polygon: {
    type: "Polygon",
    coordinates: [box(102.6, 25.08, 102.64, 25.12), box(102.61, 25.09, 102.63, 25.11).reverse()],
  },
  deliveryFeeFen: 500,
  promisedMinutes: 45,
};

describe("ZoneIndex", () => {
  const zones = new ZoneIndex([wuhua, panlong, withHole]);

  it("finds the zone of a point inside it", () => {
    expect(zones.zoneAt(25.05, 102.7)?.id).toBe("km-wuhua");
    expect(zones.zoneAt(25.05, 102.74)).toMatchObject({ id: "km-panlong", deliveryFeeFen: 400 });
  });

  it("returns null outside every zone", () => {
    expect(zones.zoneAt(24.9, 102.7)).toBeNull();
    expect(zones.zoneAt(32.04, 118.78)).toBeNull();
  });

  it("is exact at a shared boundary, not rounded to a whole cell", () => {
    // Metres either side of lng 102.72 (about 1 m is 0.00001°).
    expect(zones.zoneAt(25.05, 102.71999)?.id).toBe("km-wuhua");
    expect(zones.zoneAt(25.05, 102.72001)?.id).toBe("km-panlong");
    expect(zones.zoneAt(25.03001, 102.7)?.id).toBe("km-wuhua");
    expect(zones.zoneAt(25.02999, 102.7)).toBeNull();
  });

  it("respects holes in a polygon", () => {
    expect(zones.zoneAt(25.1, 102.62)).toBeNull();
    expect(zones.zoneAt(25.085, 102.605)?.id).toBe("km-cuihu");
  });

  it("agrees with an exact point-in-polygon test at random points", () => {
    const random = seededRandom(1);
    for (let i = 0; i < 5000; i++) {
      const lat = 25.0 + random() * 0.13;
      const lng = 102.58 + random() * 0.2;
      const inBox = (z: Zone) => {
        const ring = z.polygon.coordinates[0]!;
        return lng > ring[0]![0]! && lng < ring[1]![0]! && lat > ring[0]![1]! && lat < ring[2]![1]!;
      };
      let want: string | null = null;
      if (inBox(wuhua)) want = "km-wuhua";
      else if (inBox(panlong)) want = "km-panlong";
      else if (inBox(withHole) && !(lng > 102.61 && lng < 102.63 && lat > 25.09 && lat < 25.11)) {
        want = "km-cuihu";
      }
      expect(zones.zoneAt(lat, lng)?.id ?? null).toBe(want);
    }
  });

  it("gives overlapping ground to the zone listed first", () => {
    const big: Zone = {
      ...panlong,
      id: "big",
      polygon: { type: "Polygon", coordinates: [box(102.6, 25.0, 102.8, 25.1)] },
    };
    const index = new ZoneIndex([wuhua, big]);
    expect(index.zoneAt(25.05, 102.7)?.id).toBe("km-wuhua");
    expect(index.zoneAt(25.05, 102.65)?.id).toBe("big");
    expect(new ZoneIndex([big, wuhua]).zoneAt(25.05, 102.7)?.id).toBe("big");
  });

  it("refuses a zone whose fee is not whole fen", () => {
    expect(() => new ZoneIndex([{ ...wuhua, deliveryFeeFen: 2.5 }])).toThrow(InvalidZoneError);
    expect(
      () => new ZoneIndex([{ ...wuhua, polygon: { type: "Polygon", coordinates: [[[102, 25]]] } }]),
    ).toThrow(InvalidZoneError);
  });
});
