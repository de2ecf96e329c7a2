/**
 * Wire contract of the market actor (`market/<id>`): one per city or service area, the host of
 * that area's dispatch and the owner of offers. Senders: order actors (order_*, withdraw_offer,
 * offer_declined relayed from the order), courier actors (courier_*, offer_declined),
 * dispatchers (overrides, offer, configure) and the market's own timers (`tick`, and one
 * `offer:<orderId>` per pending offer delivering `offer_timeout`). See actors/CONTRACT.md.
 */
import { z } from "zod";
import { ActorId, LatLng, TemperatureClass } from "../ids.ts";
import { DeclineReason, WithdrawReason } from "./offers.ts";

export { OfferOutcome } from "./offers.ts";

/** Milliseconds since the epoch. */
const EpochMs = z.number().int().nonnegative();
/** A dispatcher override must say why: the audit trail is useless without it. */
const Reason = z.string().trim().min(1).max(500);

export const MarketTimezone = z.literal("Asia/Shanghai");

export const CourierFix = z.object({
  lat: LatLng.shape.lat,
  lng: LatLng.shape.lng,
  at: EpochMs,
  accuracy: z.number().finite().nonnegative().nullable(),
});
export type CourierFix = z.infer<typeof CourierFix>;

export const MarketVehicleMode = z.enum(["foot", "bike", "ebike", "car", "van"]);

/** Free slots per temperature class, for couriers whose van has compartments. */
export const FreeSlots = z.object({
  ambient: z.number().int().nonnegative(),
  chilled: z.number().int().nonnegative(),
  frozen: z.number().int().nonnegative(),
});
export type FreeSlots = z.infer<typeof FreeSlots>;

export const MarketMessage = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("configure"),
    name: z.string().trim().min(1).max(100),
    city: z.string().trim().min(1).max(100),
    timezone: MarketTimezone.optional(),
    tickIntervalMs: z.number().int().min(200).max(60_000).optional(),
    offerTimeoutMs: z.number().int().min(5_000).max(600_000).optional(),
    h3Resolution: z.number().int().min(0).max(15).optional(),
    /** Least time between two plans triggered by events, ms (a tick always plans). */
    minPlanGapMs: z.number().int().min(0).max(10_000).optional(),
    /** False: manual dispatch (only dispatchers give out orders). */
    autoDispatch: z.boolean().optional(),
  }),
  /** From the order (or store) actor: the order waits for a courier. Repeating it updates it. */
  z.object({
    type: z.literal("order_ready"),
    orderId: ActorId,
    storeId: ActorId,
    pickup: LatLng,
    dropoff: LatLng.optional(),
    readyAt: EpochMs,
    promisedBy: EpochMs.optional(),
    temperatureClass: TemperatureClass,
  }),
  /** From the order actor: a courier now has the job (after an accepted offer or a force). */
  z.object({ type: z.literal("order_assigned"), orderId: ActorId, courierId: ActorId }),
  z.object({ type: z.literal("order_cancelled"), orderId: ActorId }),
  /** From the order actor: a dispatcher hold; dispatch leaves the order alone until released. */
  z.object({ type: z.literal("order_held"), orderId: ActorId }),
  /** From the order actor: the hold is over (an `order_ready` follows when it waits again). */
  z.object({ type: z.literal("order_released"), orderId: ActorId }),
  /** From the order actor: its courier has the goods. */
  z.object({ type: z.literal("order_picked_up"), orderId: ActorId, courierId: ActorId }),
  /** From the order actor: the job is over; the market forgets the order. */
  z.object({
    type: z.literal("order_finished"),
    orderId: ActorId,
    courierId: ActorId,
    outcome: z.enum(["delivered", "returned"]),
  }),
  /** From the order actor: take back the offer to `courierId` (a reassignment at the order). */
  z.object({
    type: z.literal("withdraw_offer"),
    orderId: ActorId,
    courierId: ActorId,
    reason: WithdrawReason,
  }),
  /** From the courier actor: an upsert of the courier's availability, sent on every change. */
  z.object({
    type: z.literal("courier_available"),
    courierId: ActorId,
    mode: MarketVehicleMode,
    vehicleId: ActorId.nullable(),
    /** Free order capacity, not counting offers this market has pending with the courier. */
    freeCapacity: z.number().int().nonnegative(),
    freeSlots: FreeSlots.nullable(),
    position: CourierFix.nullable(),
  }),
  z.object({
    type: z.literal("courier_unavailable"),
    courierId: ActorId,
    reason: z.string().max(200).optional(),
  }),
  z.object({ type: z.literal("courier_position"), courierId: ActorId, position: CourierFix }),
  /**
   * From the tracker (which takes every fix): the market's couriers that moved, a batch every few
   * seconds, so dispatch plans from where couriers are without a command per courier.
   */
  /**
   * From a vehicle actor when one of its compartments goes out of range or silent, or back:
   * which classes of goods it cannot keep cold now (and since when). Dispatch gives that van no
   * new goods of those classes and counts the thermal budget of what it carries from `since`.
   */
  z.object({
    type: z.literal("vehicle_condition"),
    vehicleId: ActorId,
    warm: z.array(
      z.object({
        temperatureClass: z.enum(["chilled", "frozen"]),
        since: z.number().int().nonnegative(),
        celsius: z.number().nullable(),
      }),
    ),
  }),
  z.object({
    type: z.literal("courier_positions"),
    positions: z
      .array(z.object({ courierId: ActorId, position: CourierFix }))
      .min(1)
      .max(1000),
  }),
  /**
   * From the courier actor, or from the order when the courier declined there (`via` "order":
   * the courier actor still holds the offer, so the market withdraws it there).
   */
  z.object({
    type: z.literal("offer_declined"),
    orderId: ActorId,
    courierId: ActorId,
    reason: DeclineReason,
    via: z.enum(["courier", "order"]).optional(),
  }),
  /** Delivered by the durable timer `offer:<orderId>` that each offer schedules. */
  z.object({
    type: z.literal("offer_timeout"),
    orderId: ActorId,
    courierId: ActorId,
    expiresAt: EpochMs,
  }),
  /** Dispatcher (and, later, dispatch on a tick): offer the order to this courier now. */
  z.object({ type: z.literal("offer"), orderId: ActorId, courierId: ActorId }),
  /**
   * Dispatcher: hold the order. Forwarded to the order actor, which owns holds; the market
   * marks the order held when the order confirms with `order_held`.
   */
  z.object({ type: z.literal("hold"), orderId: ActorId, reason: Reason }),
  /**
   * Dispatcher: undo a hold and/or a lock; the order goes back to normal dispatch. A lock is the
   * market's own; a hold is undone by forwarding `release_hold` to the order actor.
   */
  z.object({ type: z.literal("release"), orderId: ActorId, reason: Reason }),
  /** Dispatcher: dispatch may offer this order only to this courier, and never re-plans it. */
  z.object({ type: z.literal("lock"), orderId: ActorId, courierId: ActorId, reason: Reason }),
  /** Dispatcher: give the order to the courier without an offer (a reassign if already taken). */
  z.object({
    type: z.literal("force_assign"),
    orderId: ActorId,
    courierId: ActorId,
    reason: Reason,
  }),
  /** The market's own durable timer. */
  z.object({ type: z.literal("tick") }),
]);
export type MarketMessage = z.infer<typeof MarketMessage>;
