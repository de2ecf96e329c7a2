/**
 * Wire contract of the courier actor (`courier/<id>`). Senders: the courier's own driver app
 * (shift, location, answers to offers), dispatchers (overrides), the market actor (offers and
 * their expiry or withdrawal) and the order actor (job assigned / released, stops completed).
 * The courier keeps no offer timer: the market owns each offer's one time-out. See
 * actors/CONTRACT.md.
 */
import { z } from "zod";
import { ActorId, LatLng, TemperatureClass } from "../ids.ts";
import { DeclineReason } from "./offers.ts";
import { PickupCode } from "./order.ts";

export { DeclineReason } from "./offers.ts";

const EpochMs = z.number().int().nonnegative();

export const VehicleMode = z.enum(["foot", "bike", "ebike", "car", "van"]);
export type VehicleMode = z.infer<typeof VehicleMode>;

export const StopKind = z.enum(["pickup", "dropoff"]);
export type StopKind = z.infer<typeof StopKind>;

export const SlotCounts = z.object({
  ambient: z.number().int().nonnegative().max(50),
  chilled: z.number().int().nonnegative().max(50),
  frozen: z.number().int().nonnegative().max(50),
});
export type SlotCounts = z.infer<typeof SlotCounts>;

export const CourierVehicle = z.object({
  mode: VehicleMode,
  /** Only for refrigerated vans: the `vehicle/<id>` actor that reports its compartments. */
  vehicleId: ActorId.optional(),
});

export const CourierCapacity = z.object({
  /** Orders carried at once (accepted, assigned or picked up). */
  maxOrders: z.number().int().min(1).max(50),
  /** Van only: orders per temperature class at once. A class not listed has no slot. */
  slots: SlotCounts.optional(),
});

/** Where a stop is. A pickup is at a store; a drop-off is a door or a pickup point (自提). */
export const StopPlace = z.object({
  location: LatLng,
  storeId: ActorId.optional(),
  pickupPointId: ActorId.optional(),
  plannedAt: EpochMs.optional(),
});
export type StopPlace = z.infer<typeof StopPlace>;

export const StopRef = z.object({ orderId: ActorId, kind: StopKind });
export type StopRef = z.infer<typeof StopRef>;

export const CourierMessage = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("go_on_shift"),
    marketId: ActorId,
    vehicle: CourierVehicle,
    capacity: CourierCapacity,
  }),
  z.object({ type: z.literal("go_off_shift") }),
  /** A GPS fix, already WGS-84 (the edge converts GCJ-02). */
  z.object({
    type: z.literal("location"),
    lat: LatLng.shape.lat,
    lng: LatLng.shape.lng,
    at: EpochMs,
    /** Metres, 68 % radius as the phone reports it. */
    accuracy: z.number().finite().nonnegative().max(100_000).optional(),
  }),
  /** From the market actor. */
  z.object({
    type: z.literal("offer"),
    orderId: ActorId,
    marketId: ActorId,
    expiresAt: EpochMs,
    temperatureClass: TemperatureClass,
    storeId: ActorId,
    pickup: LatLng,
    dropoff: LatLng.optional(),
  }),
  z.object({ type: z.literal("accept_offer"), orderId: ActorId }),
  z.object({
    type: z.literal("decline_offer"),
    orderId: ActorId,
    reason: DeclineReason,
    note: z.string().max(500).optional(),
  }),
  /** From the market, whose one durable timer per offer ran out (the courier keeps no timer). */
  z.object({ type: z.literal("offer_expired"), orderId: ActorId }),
  /** From the market (order cancelled, held, given to someone else) or a dispatcher. */
  z.object({
    type: z.literal("offer_withdrawn"),
    orderId: ActorId,
    reason: z.string().max(200).optional(),
  }),
  /**
   * From the order actor (or a dispatcher): the courier has the job. The stops go at the end of
   * the route unless `pickupIndex`/`dropoffIndex` (positions in the route after insertion, as
   * dispatch's best insertion computes them) say otherwise. `pickupCode` is what the courier
   * shows at the store; the courier sees it only while the job is theirs.
   */
  z.object({
    type: z.literal("job_assigned"),
    orderId: ActorId,
    temperatureClass: TemperatureClass,
    pickupCode: PickupCode,
    pickup: StopPlace,
    dropoff: StopPlace,
    pickupIndex: z.number().int().nonnegative().optional(),
    dropoffIndex: z.number().int().nonnegative().optional(),
  }),
  /**
   * From the order actor only: the stop is confirmed there (the pickup by the store with the
   * code, the drop-off with the PIN or a photo), and the route follows.
   */
  z.object({ type: z.literal("complete_stop"), orderId: ActorId, kind: StopKind }),
  /** Dispatcher override: the full new order of the remaining stops. */
  z.object({ type: z.literal("reorder_stops"), stops: z.array(StopRef).max(200) }),
  /** From the order actor or a dispatcher: the job is no longer this courier's. */
  z.object({
    type: z.literal("job_released"),
    orderId: ActorId,
    reason: z.string().trim().min(1).max(500),
  }),
]);
export type CourierMessage = z.infer<typeof CourierMessage>;
