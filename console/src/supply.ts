/**
 * Supply shading: couriers on shift counted per H3 cell at resolution 8 (about 0.7 km² a cell,
 * a few minutes' ride across), each cell shaded by how many are in it.
 */
import { cellToBoundary, latLngToCell } from "h3-js";
import type { CourierView } from "./fleet.ts";

export const SUPPLY_RESOLUTION = 8;

export interface SupplyCell {
  cell: string;
  count: number;
  /** Shade 1 (one courier) to 4 (five or more). */
  level: 1 | 2 | 3 | 4;
  /** Corners as [lat, lng], as Leaflet takes them. */
  boundary: Array<[number, number]>;
}

export function levelOf(count: number): SupplyCell["level"] {
  if (count >= 5) return 4;
  if (count >= 3) return 3;
  if (count >= 2) return 2;
  return 1;
}

export function supplyCells(couriers: Iterable<CourierView>): SupplyCell[] {
  const counts = new Map<string, number>();
  for (const courier of couriers) {
    if (courier.status === "offline") continue;
    const cell = latLngToCell(courier.lat, courier.lng, SUPPLY_RESOLUTION);
    counts.set(cell, (counts.get(cell) ?? 0) + 1);
  }
  return [...counts].map(([cell, count]) => ({
    cell,
    count,
    level: levelOf(count),
    boundary: cellToBoundary(cell) as Array<[number, number]>,
  }));
}

/** A key that changes only when the shading would, so the map redraws cells only then. */
export function supplyKey(cells: readonly SupplyCell[]): string {
  return cells
    .map((c) => `${c.cell}:${c.count}`)
    .sort()
    .join(",");
}
