/**
 * Coordinate systems and distances. WGS-84 inside; GCJ-02 (the "Mars" datum that WeChat's
 * `wx.getLocation({type:'gcj02'})` and Chinese map tiles use) only at the edges, converted with
 * gcoord. Outside gcoord's China bounding box both conversions are the identity, as gcoord does.
 */
import gcoordModule from "gcoord";
import type { LatLng } from "./types.ts";

// gcoord ships CommonJS with a d.ts that declares `export default`; under NodeNext the type
// checker sees that default one level deeper than Node (and Vite) deliver it. Take whichever is there.
type Gcoord = typeof gcoordModule.default;
const gcoord: Gcoord =
  (gcoordModule as unknown as { default?: Gcoord }).default ?? (gcoordModule as unknown as Gcoord);

/** Mean Earth radius (IUGG), metres; the same one h3 uses for its distances. */
export const EARTH_RADIUS_METERS = 6_371_008.8;
const RAD = Math.PI / 180;

/** Thrown when a coordinate is not a finite latitude/longitude pair in range. */
export class InvalidCoordinateError extends Error {
  override readonly name = "InvalidCoordinateError";
  constructor(
    message: string,
    readonly lat: number,
    readonly lng: number,
  ) {
    super(message);
  }
}

export function isValidLatLng(lat: number, lng: number): boolean {
  return (
    Number.isFinite(lat) &&
    Number.isFinite(lng) &&
    lat >= -90 &&
    lat <= 90 &&
    lng >= -180 &&
    lng <= 180
  );
}

export function assertLatLng(lat: number, lng: number): void {
  if (!isValidLatLng(lat, lng)) {
    throw new InvalidCoordinateError(`not a valid coordinate: ${lat},${lng}`, lat, lng);
  }
}

/** GCJ-02 → WGS-84 (gcoord's iterative inverse, ~0.1 m). */
export function toWgs84(p: LatLng): LatLng {
  assertLatLng(p.lat, p.lng);
  const [lng, lat] = gcoord.transform([p.lng, p.lat], gcoord.GCJ02, gcoord.WGS84) as [
    number,
    number,
  ];
  return { lat, lng };
}

/** WGS-84 → GCJ-02. */
export function toGcj02(p: LatLng): LatLng {
  assertLatLng(p.lat, p.lng);
  const [lng, lat] = gcoord.transform([p.lng, p.lat], gcoord.WGS84, gcoord.GCJ02) as [
    number,
    number,
  ];
  return { lat, lng };
}

/** Great-circle distance in metres. */
export function haversineMeters(a: LatLng, b: LatLng): number {
  return haversine(a.lat, a.lng, b.lat, b.lng);
}

/** The same as `haversineMeters` on plain numbers, for hot loops that must not allocate. */
export function haversine(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLng = (lng2 - lng1) * RAD;
  const s1 = Math.sin(dLat / 2);
  const s2 = Math.sin(dLng / 2);
  const h = s1 * s1 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * s2 * s2;
  return 2 * EARTH_RADIUS_METERS * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The point a fraction `t` of the way from `a` to `b` (linear in degrees: fine below ~50 km). */
export function interpolate(a: LatLng, b: LatLng, t: number): LatLng {
  return { lat: a.lat + (b.lat - a.lat) * t, lng: a.lng + (b.lng - a.lng) * t };
}

const HOUR_MS = 3_600_000;
/** China Standard Time is UTC+08:00 all year (no DST since 1991). */
const SHANGHAI_OFFSET_MS = 8 * HOUR_MS;

/**
 * Hour of the week in Asia/Shanghai, 0..167: 0 is Monday 00:00-00:59, 167 Sunday 23:00-23:59.
 * The epoch (1970-01-01) was a Thursday, hence the +3 days.
 */
export function hourOfWeek(epochMs: number): number {
  const localHours = Math.floor((epochMs + SHANGHAI_OFFSET_MS) / HOUR_MS);
  const how = (localHours + 3 * 24) % 168;
  return how < 0 ? how + 168 : how;
}
