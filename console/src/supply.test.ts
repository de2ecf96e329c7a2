import { latLngToCell } from "h3-js";
import { describe, expect, it } from "vitest";
import type { CourierView } from "./fleet.ts";
import { SUPPLY_RESOLUTION, levelOf, supplyCells, supplyKey } from "./supply.ts";

const at = (courierId: string, lat: number, lng: number, status = "idle"): CourierView => ({
  courierId,
  lat,
  lng,
  at: 0,
  status: status as CourierView["status"],
});

describe("supplyCells", () => {
  it("counts couriers on shift per H3 res-8 cell", () => {
    const cells = supplyCells([
      at("a", 25.0406, 102.7123),
      at("b", 25.0407, 102.7124),
      at("c", 25.1, 102.8),
      at("d", 25.0406, 102.7123, "offline"),
    ]);
    const centre = latLngToCell(25.0406, 102.7123, SUPPLY_RESOLUTION);
    expect(cells.map((c) => [c.cell, c.count]).sort()).toEqual(
      [
        [centre, 2],
        [latLngToCell(25.1, 102.8, SUPPLY_RESOLUTION), 1],
      ].sort(),
    );
    const shaded = cells.find((c) => c.cell === centre);
    expect(shaded?.level).toBe(2);
    expect(shaded?.boundary).toHaveLength(6);
    expect(shaded?.boundary[0]?.[0]).toBeCloseTo(25.04, 1);
  });

  it("shades one to four levels and keys only on what would redraw", () => {
    expect([1, 2, 3, 4, 5, 40].map(levelOf)).toEqual([1, 2, 3, 3, 4, 4]);
    const one = supplyCells([at("a", 25.04, 102.71)]);
    const moved = supplyCells([at("a", 25.0401, 102.7101)]);
    expect(supplyKey(one)).toBe(supplyKey(moved));
  });
});
