/** Helpers for geo's own tests (not exported from index.ts). */

export { seededRandom } from "./random.ts";

/** A point `meters` north and `eastMeters` east of (lat, lng), on a local plane. */
export function offset(
  p: { lat: number; lng: number },
  northMeters: number,
  eastMeters: number,
): { lat: number; lng: number } {
  const lat = p.lat + northMeters / 111_195;
  const lng = p.lng + eastMeters / (111_195 * Math.cos((p.lat * Math.PI) / 180));
  return { lat, lng };
}

/** Kunming's main urban extent, the benchmark's city. */
export const KUNMING = { minLat: 24.9, maxLat: 25.15, minLng: 102.6, maxLng: 102.85 };
