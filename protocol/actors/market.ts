/**
 * Wire contract of the market actor (`market/<id>`): one per city or service area, the host of
 * that area's dispatch. Senders: order/store actors (order_*), courier actors (courier_*,
 * offer_*), dispatchers (overrides, configure) and the market's own `tick` timer.
 */
import { z } from "zod";
import { ActorId, LatLng, TemperatureClass } from "../ids.ts";

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

/** Why an offer did not become an assignment, as the market records it. */
export const OfferOutcome = z.enum(["too_far", "busy", "vehicle_unsuitable", "other", "expired"]);
export type OfferOutcome = z.infer<typeof OfferOutcome>;

export const MarketMessage = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("configure"),
    name: z.string().trim().min(1).max(100),
    city: z.string().trim().min(1).max(100),
    timezone: MarketTimezone.optional(),
    tickIntervalMs: z.number().int().min(200).max(60_000).optional(),
    offerTimeoutMs: z.number().int().min(5_000).max(600_000).optional(),
    h3Resolution: z.number().int().min(0).max(15).optional(),
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
  z.object({
    type: z.literal("offer_declined"),
    orderId: ActorId,
    courierId: ActorId,
    reason: OfferOutcome,
  }),
  z.object({ type: z.literal("offer_expired"), orderId: ActorId, courierId: ActorId }),
  /** Dispatcher: keep the order out of dispatch until released. */
  z.object({ type: z.literal("hold"), orderId: ActorId, reason: Reason }),
  /** Dispatcher: undo a hold and/or a lock; the order goes back to normal dispatch. */
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
