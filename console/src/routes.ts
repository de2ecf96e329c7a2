/**
 * Couriers' routes as the console knows them: the newest `work` frame of each courier (from the
 * courier's channel, which a dispatcher may watch for couriers of their market). A reorder is
 * computed here and sent whole, as the API wants every remaining stop in the new order.
 */
import type { PushFrame } from "../../protocol/index.ts";

export type WorkFrame = Extract<PushFrame, { kind: "work" }>;
export type RouteStop = WorkFrame["route"][number];

export interface CourierRoute {
  courierId: string;
  status: string;
  stops: RouteStop[];
  /** Orders the courier carries (picked up) — a drop-off of one may go anywhere. */
  pickedUp: ReadonlySet<string>;
  at: number;
}

export class RouteBook {
  private readonly routes = new Map<string, CourierRoute>();

  /** True when the courier's route changed. */
  apply(frame: WorkFrame): boolean {
    const known = this.routes.get(frame.courierId);
    if (known !== undefined && known.at > frame.at) return false;
    this.routes.set(frame.courierId, {
      courierId: frame.courierId,
      status: frame.status,
      stops: frame.route,
      pickedUp: new Set(frame.jobs.filter((j) => j.pickedUp).map((j) => j.orderId)),
      at: frame.at,
    });
    return true;
  }

  get(courierId: string): CourierRoute | undefined {
    return this.routes.get(courierId);
  }

  /** Couriers with stops to do, by id. */
  list(): CourierRoute[] {
    return [...this.routes.values()]
      .filter((r) => r.stops.length > 0)
      .sort((a, b) => a.courierId.localeCompare(b.courierId));
  }

  /** Who carries the order now, as the routes say. */
  courierOf(orderId: string): string | null {
    for (const route of this.routes.values()) {
      if (route.stops.some((s) => s.orderId === orderId)) return route.courierId;
    }
    return null;
  }
}

/**
 * The stops with the one at `index` moved one place up (-1) or down (+1); null when that would
 * put a drop-off before its own pickup, or leave the list.
 */
export function moveStop(
  stops: readonly RouteStop[],
  index: number,
  by: -1 | 1,
): RouteStop[] | null {
  const other = index + by;
  if (index < 0 || index >= stops.length || other < 0 || other >= stops.length) return null;
  const next = [...stops];
  [next[index], next[other]] = [next[other]!, next[index]!];
  for (let i = 0; i < next.length; i++) {
    const stop = next[i]!;
    if (stop.kind !== "dropoff") continue;
    const pickup = next.findIndex((s) => s.orderId === stop.orderId && s.kind === "pickup");
    if (pickup > i) return null;
  }
  return next;
}
