/**
 * The courier actor's state. It is described by zod schemas so that `restore` checks a persisted
 * value instead of trusting it; every field is JSON-safe (records, arrays, numbers, null).
 */
import { z } from "zod";
import { ActorId, LatLng, TemperatureClass } from "../../protocol/ids.ts";
import { SlotCounts, StopKind, VehicleMode } from "../../protocol/actors/courier.ts";
import { PickupCode } from "../../protocol/actors/order.ts";

const EpochMs = z.number().int().nonnegative();

export const CourierPosition = z.object({
  lat: z.number(),
  lng: z.number(),
  at: EpochMs,
  accuracy: z.number().nullable(),
});
export type CourierPosition = z.infer<typeof CourierPosition>;

export const Shift = z.object({
  marketId: ActorId,
  since: EpochMs,
  vehicle: z.object({ mode: VehicleMode, vehicleId: ActorId.nullable() }),
  capacity: z.object({ maxOrders: z.number().int().min(1), slots: SlotCounts.nullable() }),
});
export type Shift = z.infer<typeof Shift>;

export const PendingOffer = z.object({
  orderId: ActorId,
  marketId: ActorId,
  receivedAt: EpochMs,
  expiresAt: EpochMs,
  temperatureClass: TemperatureClass,
  storeId: ActorId,
  pickup: LatLng,
  dropoff: LatLng.nullable(),
});
export type PendingOffer = z.infer<typeof PendingOffer>;

/**
 * An order the courier carries responsibility for. `accepted`: the courier said yes and the
 * order actor has not yet confirmed with `job_assigned` (no stops yet, but it takes capacity).
 * `assigned`: its stops are on the route.
 */
export const Job = z.object({
  orderId: ActorId,
  temperatureClass: TemperatureClass,
  phase: z.enum(["accepted", "assigned"]),
  pickedUp: z.boolean(),
  acceptedAt: EpochMs.nullable(),
  assignedAt: EpochMs.nullable(),
  /**
   * Shown at the store to collect the order; known once the order assigned the job (null
   * before), gone with the job. States persisted before it existed read as null.
   */
  pickupCode: PickupCode.nullable().default(null),
});
export type Job = z.infer<typeof Job>;

/** A stop still to be done; completed stops leave the route. */
export const Stop = z.object({
  orderId: ActorId,
  kind: StopKind,
  location: LatLng,
  storeId: ActorId.nullable(),
  pickupPointId: ActorId.nullable(),
  plannedAt: EpochMs.nullable(),
});
export type Stop = z.infer<typeof Stop>;

const Count = z.number().int().nonnegative();

/** Lifetime offer counts, kept across shifts, for fairness reports. */
export const AcceptanceStats = z.object({
  offers: Count,
  accepted: Count,
  declined: z.object({ too_far: Count, busy: Count, vehicle_unsuitable: Count, other: Count }),
  expired: Count,
  withdrawn: Count,
});
export type AcceptanceStats = z.infer<typeof AcceptanceStats>;

export const CourierState = z.object({
  id: ActorId,
  /** null: offline. */
  shift: Shift.nullable(),
  position: CourierPosition.nullable(),
  /** When the position was last forwarded to the market (ctx time), to throttle it. */
  positionSentAt: EpochMs.nullable(),
  offers: z.record(z.string(), PendingOffer),
  jobs: z.record(z.string(), Job),
  route: z.array(Stop),
  stats: AcceptanceStats,
});
export type CourierState = z.infer<typeof CourierState>;

/** Derived, never stored: see `courierStatus`. */
export type CourierStatus = "offline" | "idle" | "offered" | "busy";
