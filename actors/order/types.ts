import type { LatLng, TemperatureClass } from "../../protocol/ids.ts";
import type {
  CancelReason,
  DeliveryFailureReason,
  Dropoff,
  ItemsSummary,
  OrderAmounts,
  ReadyAtSource,
} from "../../protocol/actors/order.ts";

export type OrderStatus =
  | "created"
  | "accepted"
  | "preparing"
  | "ready"
  | "offered"
  | "assigned"
  | "at_store"
  | "picked_up"
  | "at_customer"
  | "delivered"
  | "delivery_failed"
  | "returned"
  | "cancelled";

/**
 * The kitchen's progress, kept apart from `status` because a courier can be offered or assigned
 * an order that is still being prepared (dispatch matches ready-soon orders).
 */
export type PrepStage = "waiting" | "preparing" | "ready";

export interface Offer {
  readonly courierId: string;
  readonly offeredAt: number;
  readonly expiresAt: number;
  /** Which offer of this order this is (1, 2, ...): its timer carries it, so a stale one is told apart. */
  readonly seq: number;
}

export interface TimelineEntry {
  readonly status: OrderStatus;
  readonly at: number;
  /** The role that caused the change: a principal's role, or "actor"/"timer" without one. */
  readonly by: string;
}

export interface Order {
  readonly id: string;
  readonly status: OrderStatus;
  readonly storeId: string;
  readonly marketId: string;
  readonly shopOrderId: string;
  readonly shopperId: string | null;
  readonly temperatureClass: TemperatureClass;
  readonly items: ItemsSummary;
  readonly amounts: OrderAmounts;
  readonly dropoff: Dropoff;
  readonly placedAt: number;
  readonly promisedAt: number;
  readonly acceptedAt: number | null;
  readonly prep: PrepStage;
  /** Stated by the store or predicted; becomes the actual time when the store marks it ready. */
  readonly readyAt: number | null;
  readonly readyAtSource: ReadyAtSource | "actual" | null;
  /** Secret: shown to the assigned courier only (sent in `job_assigned`), hidden by `view`. */
  readonly pickupCode: string;
  /** Secret: known to the shopper only, hidden by `view`. */
  readonly deliveryPin: string | null;
  readonly courierId: string | null;
  readonly offer: Offer | null;
  /** How many offers were made; the next offer's `seq` is this plus one. */
  readonly offerCount: number;
  readonly hold: { readonly reason: string; readonly by: string; readonly at: number } | null;
  readonly lock: { readonly reason: string | null; readonly by: string; readonly at: number } | null;
  readonly pickedUpAt: number | null;
  readonly deliveredAt: number | null;
  readonly proof: { readonly photoRef: string | null; readonly pinVerified: boolean } | null;
  readonly failure: {
    readonly reason: DeliveryFailureReason;
    readonly note: string | null;
    readonly at: number;
  } | null;
  readonly cancellation: {
    readonly reason: CancelReason;
    readonly note: string | null;
    readonly by: string;
    readonly at: number;
  } | null;
  /** Status changes, oldest first, at most `TIMELINE_LIMIT` (the oldest are dropped). */
  readonly timeline: readonly TimelineEntry[];
}

/** An order actor that has not been created yet. */
export interface NoOrder {
  readonly id: string;
  readonly status: "none";
}

export type OrderState = NoOrder | Order;

/** What a query shows: the order without its pickup code and delivery PIN. */
export type OrderView =
  | NoOrder
  | (Omit<Order, "pickupCode" | "deliveryPin"> & {
      readonly hasPickupCode: true;
      readonly hasDeliveryPin: boolean;
    });

// ---- Commands the order sends to other actors (their inbound contract; see logic.ts) ----

/** order → `courier/<id>`. */
export type CourierJobMessage =
  | {
      type: "job_offered";
      orderId: string;
      storeId: string;
      marketId: string;
      temperatureClass: TemperatureClass;
      expiresAt: number;
      offerSeq: number;
    }
  | { type: "job_offer_withdrawn"; orderId: string; reason: "expired" | "held" | "cancelled" | "reassigned" }
  | {
      type: "job_assigned";
      orderId: string;
      storeId: string;
      marketId: string;
      temperatureClass: TemperatureClass;
      pickupCode: string;
      dropoff: Dropoff;
      readyAt: number | null;
      promisedAt: number;
      locked: boolean;
    }
  | { type: "job_picked_up"; orderId: string }
  | { type: "job_delivery_failed"; orderId: string; reason: DeliveryFailureReason }
  | { type: "job_released"; orderId: string; reason: "cancelled" | "reassigned" }
  | { type: "job_finished"; orderId: string; outcome: "delivered" | "returned" };

/** order → `market/<id>`. */
export type MarketOrderMessage =
  | {
      type: "order_dispatchable";
      orderId: string;
      storeId: string;
      temperatureClass: TemperatureClass;
      readyAt: number | null;
      promisedAt: number;
      dropoff: { kind: Dropoff["kind"]; location: LatLng | null; pickupPointId: string | null };
      /** The courier the order was just taken from by a reassignment, so its route drops it. */
      releasedCourierId: string | null;
    }
  | { type: "order_ready"; orderId: string; readyAt: number }
  | { type: "ready_at_changed"; orderId: string; readyAt: number }
  | { type: "offer_declined"; orderId: string; courierId: string; reason: string | null }
  | { type: "offer_expired"; orderId: string; courierId: string }
  | {
      type: "order_assigned";
      orderId: string;
      courierId: string;
      via: "offer" | "assign" | "reassign";
      locked: boolean;
    }
  | { type: "order_withdrawn"; orderId: string; reason: "held" }
  | { type: "order_lock_changed"; orderId: string; locked: boolean }
  | { type: "order_picked_up"; orderId: string; courierId: string }
  | { type: "order_finished"; orderId: string; outcome: "delivered" | "returned" | "cancelled" };
