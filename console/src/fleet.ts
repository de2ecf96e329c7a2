/**
 * The market's couriers as the console knows them: the newest position and status of each, from
 * `couriers` frames (and single `courier` frames). A frame older than what is known for a courier
 * is ignored, so a replay after a reconnect cannot move a marker backwards.
 */
import type { PushFrame } from "../../protocol/index.ts";

export type CourierStatus = "idle" | "offered" | "busy" | "offline" | "unknown";

export interface CourierView {
  courierId: string;
  lat: number;
  lng: number;
  /** When the courier was at this position, ms since the epoch (server clock). */
  at: number;
  status: CourierStatus;
}

const KNOWN: ReadonlySet<string> = new Set(["idle", "offered", "busy", "offline"]);
/** Order in the side panel: who needs watching first. */
const RANK: Record<CourierStatus, number> = {
  offered: 0,
  busy: 1,
  idle: 2,
  unknown: 3,
  offline: 4,
};

export function normaliseStatus(status: string | undefined): CourierStatus {
  return status !== undefined && KNOWN.has(status) ? (status as CourierStatus) : "unknown";
}

export class Fleet {
  private readonly couriers = new Map<string, CourierView>();

  /** Applies a push; returns the couriers that changed. */
  apply(frame: PushFrame): CourierView[] {
    if (frame.kind === "couriers") {
      return frame.couriers.flatMap((c) => this.upsert(c.courierId, c.lat, c.lng, c.at, c.status));
    }
    if (frame.kind === "courier") {
      return this.upsert(frame.courierId, frame.lat, frame.lng, frame.at, undefined);
    }
    return [];
  }

  get(courierId: string): CourierView | undefined {
    return this.couriers.get(courierId);
  }

  get size(): number {
    return this.couriers.size;
  }

  /** Everyone, the ones to watch first, then by id. */
  list(): CourierView[] {
    return [...this.couriers.values()].sort(
      (a, b) => RANK[a.status] - RANK[b.status] || a.courierId.localeCompare(b.courierId),
    );
  }

  countBy(): Record<CourierStatus, number> {
    const counts: Record<CourierStatus, number> = {
      idle: 0,
      offered: 0,
      busy: 0,
      offline: 0,
      unknown: 0,
    };
    for (const courier of this.couriers.values()) counts[courier.status] += 1;
    return counts;
  }

  private upsert(
    courierId: string,
    lat: number,
    lng: number,
    at: number,
    status: string | undefined,
  ): CourierView[] {
    const known = this.couriers.get(courierId);
    if (known !== undefined && at < known.at) return [];
    const next: CourierView = {
      courierId,
      lat,
      lng,
      at,
      // A frame without a status (a bare position) keeps the status last reported.
      status: status === undefined ? (known?.status ?? "unknown") : normaliseStatus(status),
    };
    if (
      known !== undefined &&
      known.lat === lat &&
      known.lng === lng &&
      known.at === at &&
      known.status === next.status
    ) {
      return [];
    }
    this.couriers.set(courierId, next);
    return [next];
  }
}

export type Age =
  { unit: "now" } | { unit: "seconds" | "minutes" | "hours" | "days"; value: number };

/** How long ago, in the unit a dispatcher reads at a glance. */
export function ageOf(at: number, now: number): Age {
  const seconds = Math.max(0, Math.floor((now - at) / 1000));
  if (seconds < 5) return { unit: "now" };
  if (seconds < 60) return { unit: "seconds", value: seconds };
  if (seconds < 3600) return { unit: "minutes", value: Math.floor(seconds / 60) };
  if (seconds < 86_400) return { unit: "hours", value: Math.floor(seconds / 3600) };
  return { unit: "days", value: Math.floor(seconds / 86_400) };
}

/** A courier not heard from in this long is drawn faded: the position may be out of date. */
export const STALE_AFTER_MS = 60_000;
