import type { LatLng, TemperatureClass } from "../../protocol/ids.ts";
import type { CourierMessage } from "../../protocol/actors/courier.ts";
import type { MarketMessage } from "../../protocol/actors/market.ts";
import type { VehicleMessage } from "../../protocol/actors/vehicle.ts";
import type {
  CancelReason,
  ColdChainExcursionKind,
  DeliveryFailureReason,
  Dropoff,
  EncryptedContact,
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
  /** A wave order on the shelf of its community pickup point, waiting for the shopper. */
  | "at_pickup_point"
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

/** One excursion of the compartment while the order was in it, as the vehicle reported it. */
export interface ColdChainExcursion {
  readonly kind: ColdChainExcursionKind;
  /** Vehicle times: the first out-of-range reading (or the silence detected), and when raised. */
  readonly startedAt: number;
  readonly detectedAt: number;
  /** null while it goes on (or when it was still going on as the order left the van). */
  readonly endedAt: number | null;
  /** The reading when it was raised; null for a silent sensor. */
  readonly celsius: number | null;
}

/**
 * The van compartment the order travels in, from pickup, with every excursion the vehicle
 * reported while the order was inside (oldest first, at most `EXCURSION_LIMIT`). It stays on
 * the order after delivery: it is the order's cold-chain record.
 */
export interface ColdChain {
  readonly vehicleId: string;
  readonly compartmentId: string;
  readonly loadedAt: number;
  readonly excursions: readonly ColdChainExcursion[];
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
  /**
   * The shopper's name, phone, address and door note, each field a ciphertext only the gateway
   * can open (protocol/actors/order.ts `EncryptedContact`); null when the shop sent none.
   */
  readonly contact: EncryptedContact | null;
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
  /** The van compartment it was picked up into; null for orders not carried in a van. */
  readonly coldChain: ColdChain | null;
  /** The scheduled wave it rides in (no on-demand dispatch then); null for on-demand orders. */
  readonly wave: { readonly waveId: string } | null;
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
      /** A wave order at its pickup point: the code the shopper shows there. */
      readonly collectCode?: string;
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

/** order → `vehicle/<id>`, as protocol/actors/vehicle.ts defines it. */
export type VehicleOrderMessage = Extract<VehicleMessage, { type: "unload" }>;
