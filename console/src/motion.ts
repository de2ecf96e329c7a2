/**
 * Markers glide from where they are drawn to where the courier was last reported, instead of
 * jumping: each new position starts a short linear glide from the currently drawn point.
 */
export interface Point {
  lat: number;
  lng: number;
}

export class Glide {
  private from: Point;
  private to: Point;
  private start = 0;
  private duration = 0;

  constructor(initial: Point) {
    this.from = initial;
    this.to = initial;
  }

  /** Aims at a new target from wherever the marker is at `now`. */
  retarget(target: Point, now: number, durationMs: number): void {
    this.from = this.at(now);
    this.to = target;
    this.start = now;
    this.duration = Math.max(0, durationMs);
  }

  at(now: number): Point {
    if (this.duration === 0 || now >= this.start + this.duration) return this.to;
    const f = Math.max(0, (now - this.start) / this.duration);
    return {
      lat: this.from.lat + (this.to.lat - this.from.lat) * f,
      lng: this.from.lng + (this.to.lng - this.from.lng) * f,
    };
  }

  get target(): Point {
    return this.to;
  }

  moving(now: number): boolean {
    return this.duration > 0 && now < this.start + this.duration;
  }
}

/**
 * How long to glide: about the time between two reports (so the marker is still moving when the
 * next one arrives), within bounds; a jump of more than a few kilometres is not animated.
 */
export function glideDuration(sinceLastMs: number, distanceMetres: number): number {
  if (distanceMetres > 3_000) return 0;
  return Math.min(2_000, Math.max(300, sinceLastMs));
}

/** Metres between two points (haversine); good enough for choosing an animation. */
export function metresBetween(a: Point, b: Point): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.min(1, Math.sqrt(h)));
}
