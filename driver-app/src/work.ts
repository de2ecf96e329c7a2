/**
 * The courier's work as the driver app shows it: open offers, jobs (with pickup codes) and the
 * stops in order. The newest `work` frame replaces what is known; an `offer` frame (pushed just
 * before its work frame) adds its offer at once; `GET /v1/couriers/me` gives the same picture on
 * a fresh start. Kept in localStorage, so a courier who reopens the app without signal still
 * sees the route and the pickup code.
 */
import type { PushFrame } from "../../protocol/index.ts";

type WorkFrame = Extract<PushFrame, { kind: "work" }>;
type OfferFrame = Extract<PushFrame, { kind: "offer" }>;

export type Offer = WorkFrame["offers"][number];
export type Job = WorkFrame["jobs"][number];
export type Stop = WorkFrame["route"][number];

export interface Work {
  status: string;
  offers: Offer[];
  jobs: Job[];
  route: Stop[];
  /** Server time of the picture, ms since the epoch. */
  at: number;
}

export const NO_WORK: Work = { status: "unknown", offers: [], jobs: [], route: [], at: 0 };

export function workFromFrame(frame: WorkFrame): Work {
  return {
    status: frame.status,
    offers: frame.offers,
    jobs: frame.jobs,
    route: frame.route,
    at: frame.at,
  };
}

/** Adds a freshly pushed offer (its work frame follows and will say the same, or more). */
export function withOffer(work: Work, frame: OfferFrame): Work {
  if (frame.at < work.at || work.offers.some((o) => o.orderId === frame.orderId)) return work;
  const { kind: _kind, courierId: _courier, at: _at, ...offer } = frame;
  return { ...work, offers: [...work.offers, offer] };
}

/** The courier actor's view (`GET /v1/couriers/me`) as work; null when it is not one. */
export function workFromView(view: unknown, at: number): Work | null {
  if (typeof view !== "object" || view === null) return null;
  const v = view as {
    status?: unknown;
    offers?: Record<string, Offer>;
    jobs?: Record<string, Job>;
    route?: Array<Stop & { storeId?: string | null }>;
  };
  if (typeof v.status !== "string") return null;
  return {
    status: v.status,
    offers: Object.values(v.offers ?? {}).map((o) => ({
      orderId: o.orderId,
      marketId: o.marketId,
      storeId: o.storeId,
      temperatureClass: o.temperatureClass,
      pickup: o.pickup,
      dropoff: o.dropoff ?? null,
      expiresAt: o.expiresAt,
    })),
    jobs: Object.values(v.jobs ?? {}).map((j) => ({
      orderId: j.orderId,
      temperatureClass: j.temperatureClass,
      pickedUp: j.pickedUp,
      pickupCode: j.pickupCode ?? null,
    })),
    route: (v.route ?? []).map((s) => ({
      orderId: s.orderId,
      kind: s.kind,
      location: s.location,
      storeId: s.storeId ?? null,
    })),
    at,
  };
}

/** Offers still open at `now` (server clock), soonest to expire first. */
export function openOffers(work: Work, now: number): Offer[] {
  return work.offers.filter((o) => o.expiresAt > now).sort((a, b) => a.expiresAt - b.expiresAt);
}

/** Whole seconds left to answer, never below zero. */
export function secondsLeft(expiresAt: number, now: number): number {
  return Math.max(0, Math.ceil((expiresAt - now) / 1000));
}

export function jobOf(work: Work, orderId: string): Job | undefined {
  return work.jobs.find((j) => j.orderId === orderId);
}

/** Straight-line metres between two points (haversine). */
export function metresBetween(
  a: { lat: number; lng: number },
  b: { lat: number; lng: number },
): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function storageWork(storage: Storage, key: string) {
  return {
    load(): Work {
      try {
        const parsed = JSON.parse(storage.getItem(key) ?? "null") as Work | null;
        return parsed !== null && Array.isArray(parsed.route) ? parsed : NO_WORK;
      } catch {
        return NO_WORK;
      }
    },
    save(work: Work): void {
      storage.setItem(key, JSON.stringify(work));
    },
  };
}
