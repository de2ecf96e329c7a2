/**
 * The market's open orders as the console knows them, from `order` frames on the market channel.
 * The first frame of a new order (status `created`) carries where it is picked up and delivered,
 * its store, promised time and temperature class; later frames carry only the status change (and
 * the courier). The tracker looks the details up asynchronously, so the detailed first frame can
 * arrive after the next status change: details are merged whenever they come, and the status is
 * the newest by `at` (on a tie, the one further along the lifecycle).
 *
 * Finished orders (delivered, cancelled, returned) stay greyed for a short while, then leave the
 * list; their ids are remembered for a while longer so a late or replayed frame cannot bring them
 * back.
 */
import type { PushFrame } from "../../protocol/index.ts";

export type OrderFrame = Extract<PushFrame, { kind: "order" }>;

/** The order lifecycle, in the order an order goes through it. */
export const ORDER_STATUSES = [
  "created",
  "accepted",
  "preparing",
  "ready",
  "offered",
  "assigned",
  "at_store",
  "picked_up",
  "at_customer",
  "delivery_failed",
  "delivered",
  "returned",
  "cancelled",
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number] | "unknown";

export const FINISHED_STATUSES: ReadonlySet<OrderStatus> = new Set([
  "delivered",
  "cancelled",
  "returned",
]);

/**
 * What a dispatcher does about an order: `waiting` has no courier yet (待派单), `delivering` has
 * one on the way to the store or the customer (配送中), `problem` failed at the door, `done` is
 * finished.
 */
export type OrderPhase = "waiting" | "delivering" | "problem" | "done";

const RANK = new Map<string, number>(ORDER_STATUSES.map((s, i) => [s, i]));

export function normaliseOrderStatus(status: string): OrderStatus {
  return RANK.has(status) ? (status as OrderStatus) : "unknown";
}

export function phaseOf(status: OrderStatus): OrderPhase {
  switch (status) {
    case "assigned":
    case "at_store":
    case "picked_up":
    case "at_customer":
      return "delivering";
    case "delivery_failed":
      return "problem";
    case "delivered":
    case "returned":
    case "cancelled":
      return "done";
    default:
      return "waiting";
  }
}

/** True while the order still waits at the store (no courier has picked it up yet). */
export function awaitingPickup(status: OrderStatus): boolean {
  const rank = RANK.get(status);
  return rank !== undefined && rank < (RANK.get("picked_up") ?? 0);
}

export interface Point {
  lat: number;
  lng: number;
}

export interface OrderView {
  orderId: string;
  marketId: string;
  status: OrderStatus;
  /** When the status took effect, ms since the epoch (server clock). */
  statusAt: number;
  courierId: string | null;
  storeId?: string;
  temperatureClass?: "ambient" | "chilled" | "frozen";
  promisedAt?: number;
  pickup?: Point;
  dropoff?: Point;
  /** Console clock when the order finished; unset while it is open. */
  finishedAt?: number;
}

/** A finished order stays in the list, greyed, this long. */
export const FINISHED_LINGER_MS = 20_000;
/** A finished order's id is remembered this long, so late frames cannot reopen it. */
const FORGET_AFTER_MS = 30 * 60_000;

export function isLate(order: OrderView, now: number): boolean {
  return (
    order.promisedAt !== undefined && now > order.promisedAt && phaseOf(order.status) !== "done"
  );
}

export interface OrderCounts {
  waiting: number;
  delivering: number;
  problem: number;
  late: number;
  /** Delivered since the console opened. */
  delivered: number;
}

export interface StoreView {
  storeId: string;
  lat: number;
  lng: number;
  /** Open orders of this store not yet picked up. */
  waiting: number;
}

export class OrderBook {
  private readonly orders = new Map<string, OrderView>();
  /** Finished and dropped: id → when dropped (console clock). */
  private readonly gone = new Map<string, number>();
  /** Stores stay on the map once seen, even when they have no open order. */
  private readonly stores = new Map<string, Point>();
  private delivered = 0;

  /** Applies a frame; true when something shown changed. `now` is the console clock. */
  apply(frame: OrderFrame, now: number): boolean {
    if (frame.storeId !== undefined && frame.pickup !== undefined) {
      this.stores.set(frame.storeId, { lat: frame.pickup.lat, lng: frame.pickup.lng });
    }
    if (this.gone.has(frame.orderId)) return false;
    const status = normaliseOrderStatus(frame.status);
    const known = this.orders.get(frame.orderId);
    if (known === undefined) {
      if (FINISHED_STATUSES.has(status)) {
        // Finished before we knew it: nothing to show, but it must not come back.
        this.gone.set(frame.orderId, now);
        if (status === "delivered") this.delivered += 1;
        return false;
      }
      this.orders.set(frame.orderId, {
        orderId: frame.orderId,
        marketId: frame.marketId,
        status,
        statusAt: frame.at,
        courierId: frame.courierId ?? null,
        ...details(frame),
      });
      return true;
    }

    let changed = false;
    // Details come once (the first frame); fill in whatever is still missing.
    const extra = details(frame);
    for (const key of DETAIL_KEYS) {
      if (known[key] === undefined && extra[key] !== undefined) {
        Object.assign(known, { [key]: extra[key] });
        changed = true;
      }
    }
    if (known.finishedAt !== undefined) return changed;
    const newer =
      frame.at > known.statusAt ||
      (frame.at === known.statusAt && (RANK.get(status) ?? -1) > (RANK.get(known.status) ?? -1));
    if (newer) {
      known.status = status;
      known.statusAt = frame.at;
      if (frame.courierId !== undefined) known.courierId = frame.courierId;
      if (FINISHED_STATUSES.has(status)) {
        known.finishedAt = now;
        if (status === "delivered") this.delivered += 1;
      }
      changed = true;
    }
    return changed;
  }

  /** Drops finished orders after their grey moment; true when the list changed. */
  prune(now: number): boolean {
    let changed = false;
    for (const [orderId, order] of this.orders) {
      if (order.finishedAt !== undefined && now - order.finishedAt >= FINISHED_LINGER_MS) {
        this.orders.delete(orderId);
        this.gone.set(orderId, now);
        changed = true;
      }
    }
    for (const [orderId, at] of this.gone) {
      if (now - at >= FORGET_AFTER_MS) this.gone.delete(orderId);
    }
    return changed;
  }

  get(orderId: string): OrderView | undefined {
    return this.orders.get(orderId);
  }

  /** Open orders by promised time (soonest first, unknown last), then the finished, newest first. */
  list(): OrderView[] {
    return [...this.orders.values()].sort((a, b) => {
      const aDone = a.finishedAt !== undefined;
      const bDone = b.finishedAt !== undefined;
      if (aDone !== bDone) return aDone ? 1 : -1;
      if (aDone && bDone) return (b.finishedAt ?? 0) - (a.finishedAt ?? 0);
      const aDue = a.promisedAt ?? Number.POSITIVE_INFINITY;
      const bDue = b.promisedAt ?? Number.POSITIVE_INFINITY;
      return aDue - bDue || a.orderId.localeCompare(b.orderId);
    });
  }

  /** Open orders only. */
  open(): OrderView[] {
    return this.list().filter((o) => o.finishedAt === undefined);
  }

  counts(now: number): OrderCounts {
    const counts: OrderCounts = {
      waiting: 0,
      delivering: 0,
      problem: 0,
      late: 0,
      delivered: this.delivered,
    };
    for (const order of this.orders.values()) {
      if (order.finishedAt !== undefined) continue;
      const phase = phaseOf(order.status);
      if (phase !== "done") counts[phase] += 1;
      if (isLate(order, now)) counts.late += 1;
    }
    return counts;
  }

  /** Every store seen, with how many of its open orders still wait for pickup. */
  storeList(): StoreView[] {
    const waiting = new Map<string, number>();
    for (const order of this.orders.values()) {
      if (order.storeId === undefined || order.finishedAt !== undefined) continue;
      if (!awaitingPickup(order.status)) continue;
      waiting.set(order.storeId, (waiting.get(order.storeId) ?? 0) + 1);
    }
    return [...this.stores]
      .map(([storeId, at]) => ({ storeId, ...at, waiting: waiting.get(storeId) ?? 0 }))
      .sort((a, b) => a.storeId.localeCompare(b.storeId));
  }
}

const DETAIL_KEYS = ["storeId", "temperatureClass", "promisedAt", "pickup", "dropoff"] as const;

function details(frame: OrderFrame): Partial<OrderView> {
  const out: Partial<OrderView> = {};
  if (frame.storeId !== undefined) out.storeId = frame.storeId;
  if (frame.temperatureClass !== undefined) out.temperatureClass = frame.temperatureClass;
  if (frame.promisedAt !== undefined) out.promisedAt = frame.promisedAt;
  if (frame.pickup !== undefined) out.pickup = { lat: frame.pickup.lat, lng: frame.pickup.lng };
  if (frame.dropoff !== undefined) out.dropoff = { lat: frame.dropoff.lat, lng: frame.dropoff.lng };
  return out;
}
