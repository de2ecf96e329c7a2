/** Helpers for geo's own tests (not exported from index.ts). */

/** mulberry32: a small seeded PRNG so randomised tests are repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
