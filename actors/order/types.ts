import type { LatLng, TemperatureClass } from "../../protocol/ids.ts";
import type { CourierMessage } from "../../protocol/actors/courier.ts";
import type { MarketMessage } from "../../protocol/actors/market.ts";
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
  /** Which offer of this order this is (1, 2, ...), for the events and reports. */
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
  /** The store's location, where the courier collects the order. */
  readonly pickup: LatLng;
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
  readonly lock: {
    readonly reason: string | null;
    readonly by: string;
    readonly at: number;
  } | null;
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

// ---- Commands the order sends to other actors: their inbound contracts, see logic.ts ----

/** order → `courier/<id>`, as protocol/actors/courier.ts defines them. */
export type CourierJobMessage = Extract<
  CourierMessage,
  { type: "job_assigned" | "job_released" | "complete_stop" }
>;

/** order → `market/<id>`, as protocol/actors/market.ts defines them. */
export type MarketOrderMessage = Extract<
  MarketMessage,
  {
    type:
      | "order_ready"
      | "order_assigned"
      | "order_cancelled"
      | "order_held"
      | "order_released"
      | "order_picked_up"
      | "order_finished"
      | "withdraw_offer"
      | "offer_declined";
  }
>;
