/**
 * Delivery zones: which zone (fee, promised time) a point falls in, in O(1).
 *
 * Each zone's polygon is polyfilled to H3 cells twice: cells wholly inside the polygon map
 * straight to the zone; cells that only overlap its edge map to a short list of candidate zones,
 * and a point in such a cell is tested against those polygons exactly (ray casting, holes
 * respected). So the answer is exact at the boundary, not "whichever zone holds the cell's
 * centre", and still one Map lookup for the interior. Where zones overlap, the one listed first
 * wins.
 */
import { latLngToCell, POLYGON_TO_CELLS_FLAGS, polygonToCellsExperimental } from "h3-js";
import { assertLatLng } from "./coords.ts";
import type { GeoJsonPolygon, Zone } from "./types.ts";

/** Thrown by the ZoneIndex constructor for a zone it cannot index. */
export class InvalidZoneError extends Error {
  override readonly name = "InvalidZoneError";
  constructor(
    message: string,
    readonly zoneId: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class ZoneIndex {
  readonly resolution: number;
  readonly zones: readonly Zone[];
  private readonly interior = new Map<string, Zone>();
  private readonly edge = new Map<string, Zone[]>();
  private readonly byId = new Map<string, Zone>();

  constructor(zones: Zone[], resolution = 9) {
    this.resolution = resolution;
    this.zones = zones;
    for (const zone of zones) {
      validateZone(zone);
      this.byId.set(zone.id, zone);
      let full: string[];
      let overlapping: string[];
      try {
        const rings = zone.polygon.coordinates;
        full = polygonToCellsExperimental(
          rings,
          resolution,
          POLYGON_TO_CELLS_FLAGS.containmentFull,
          true,
        );
        overlapping = polygonToCellsExperimental(
          rings,
          resolution,
          POLYGON_TO_CELLS_FLAGS.containmentOverlapping,
          true,
        );
      } catch (cause) {
        throw new InvalidZoneError(`zone ${zone.id}: h3 could not polyfill it`, zone.id, {
          cause,
        });
      }
      const fullSet = new Set(full);
      for (const cell of full) {
        if (this.interior.has(cell)) continue; // an earlier zone covers the whole cell
        const list = this.edge.get(cell);
        // Earlier zones only touch this cell: test them first, then this one (which holds it all).
        if (list !== undefined) list.push(zone);
        else this.interior.set(cell, zone);
      }
      for (const cell of overlapping) {
        if (fullSet.has(cell)) continue;
        if (this.interior.has(cell)) continue;
        const list = this.edge.get(cell);
        if (list === undefined) this.edge.set(cell, [zone]);
        else list.push(zone);
      }
    }
  }

  /** The zone a point (WGS-84) lies in, or null outside every zone. */
  zoneAt(lat: number, lng: number): Zone | null {
    assertLatLng(lat, lng);
    const cell = latLngToCell(lat, lng, this.resolution);
    const zone = this.interior.get(cell);
    if (zone !== undefined) return zone;
    const candidates = this.edge.get(cell);
    if (candidates === undefined) return null;
    for (const z of candidates) if (polygonContains(z.polygon, lat, lng)) return z;
    return null;
  }

  get(id: string): Zone | null {
    return this.byId.get(id) ?? null;
  }

  /** The H3 cells wholly inside some zone, by zone id (for drawing and shading). */
  interiorCells(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [cell, zone] of this.interior) {
      const list = out.get(zone.id);
      if (list === undefined) out.set(zone.id, [cell]);
      else list.push(cell);
    }
    return out;
  }
}

function validateZone(zone: Zone): void {
  const p = zone.polygon;
  if (p?.type !== "Polygon" || !Array.isArray(p.coordinates) || p.coordinates.length === 0) {
    throw new InvalidZoneError(`zone ${zone.id}: polygon must be a GeoJSON Polygon`, zone.id);
  }
  for (const ring of p.coordinates) {
    if (ring.length < 4) {
      throw new InvalidZoneError(`zone ${zone.id}: a ring needs at least 4 positions`, zone.id);
    }
    for (const pos of ring) {
      const [lng, lat] = pos as [number, number];
      assertLatLng(lat, lng);
    }
  }
  if (!Number.isInteger(zone.deliveryFeeFen) || zone.deliveryFeeFen < 0) {
    throw new InvalidZoneError(`zone ${zone.id}: deliveryFeeFen must be whole fen`, zone.id);
  }
  if (!(zone.promisedMinutes > 0)) {
    throw new InvalidZoneError(`zone ${zone.id}: promisedMinutes must be positive`, zone.id);
  }
}

/** Even-odd ray casting in lng/lat (fine for city-sized polygons away from the antimeridian). */
export function polygonContains(polygon: GeoJsonPolygon, lat: number, lng: number): boolean {
  let inside = false;
  for (const ring of polygon.coordinates) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i] as [number, number];
      const [xj, yj] = ring[j] as [number, number];
      if (yi > lat !== yj > lat && lng < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) {
        inside = !inside;
      }
    }
  }
  return inside;
}
