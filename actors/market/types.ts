/**
 * The market actor's state: one city area's open orders, available couriers, pending offers and
 * dispatcher audit trail. Described by zod schemas so `restore` checks what it reads; every field
 * is JSON-safe.
 */
import { z } from "zod";
import { ActorId, LatLng, PrincipalSchema, TemperatureClass } from "../../protocol/ids.ts";
import {
  CourierFix,
  FreeSlots,
  MarketTimezone,
  MarketVehicleMode,
} from "../../protocol/actors/market.ts";

const EpochMs = z.number().int().nonnegative();

export const MarketConfig = z.object({
  name: z.string(),
  city: z.string().nullable(),
  timezone: MarketTimezone,
  tickIntervalMs: z.number().int().positive(),
  offerTimeoutMs: z.number().int().positive(),
  h3Resolution: z.number().int().min(0).max(15),
  /** Least time between two dispatch plans triggered by events (a tick always plans). */
  minPlanGapMs: z.number().int().nonnegative().default(250),
  /**
   * Whether the engine offers orders by itself (on ticks and events). Off: manual dispatch,
   * only dispatchers' `offer` and overrides give out orders.
   */
  autoDispatch: z.boolean().default(true),
});
export type MarketConfig = z.infer<typeof MarketConfig>;

/** An order waiting for a courier. It leaves when assigned or cancelled. */
export const OpenOrder = z.object({
  orderId: ActorId,
  storeId: ActorId,
  pickup: LatLng,
  dropoff: LatLng.nullable(),
  readyAt: EpochMs,
  promisedBy: EpochMs.nullable(),
  temperatureClass: TemperatureClass,
  queuedAt: EpochMs,
  /** Dispatcher hold: dispatch leaves it alone until released. */
  held: z.boolean(),
  /** Dispatcher lock: dispatch may offer it only to this courier. */
  lockedTo: ActorId.nullable(),
  /** Dispatcher force: the order actor is assigning it to this courier; dispatch skips it. */
  forcedTo: ActorId.nullable(),
});
export type OpenOrder = z.infer<typeof OpenOrder>;

export const AvailableCourier = z.object({
  courierId: ActorId,
  mode: MarketVehicleMode,
  vehicleId: ActorId.nullable(),
  /** As the courier reports it: excludes offers this market has pending with them. */
  freeCapacity: z.number().int().nonnegative(),
  freeSlots: FreeSlots.nullable(),
  position: CourierFix.nullable(),
  since: EpochMs,
  updatedAt: EpochMs,
});
export type AvailableCourier = z.infer<typeof AvailableCourier>;

export const MarketOffer = z.object({
  orderId: ActorId,
  courierId: ActorId,
  offeredAt: EpochMs,
  expiresAt: EpochMs,
});
export type MarketOffer = z.infer<typeof MarketOffer>;

/** An order a courier has (after `order_assigned`), until it is finished or back in the pool. */
export const AssignedOrder = z.object({
  orderId: ActorId,
  courierId: ActorId,
  pickedUp: z.boolean(),
  since: EpochMs,
  /**
   * When the courier took the goods from the store (the `order_picked_up` command's time): the
   * start of their time out of refrigeration. Null until then, and in states persisted before
   * it existed (read as picked up at `since`, the earliest it can have been).
   */
  pickedUpAt: EpochMs.nullable().default(null),
  /**
   * Where and when, copied from the open order when it is assigned, so dispatch plans the
   * courier's route around it. Null for an order that never was open here (a force of an order
   * from elsewhere) and in states persisted before these fields existed.
   */
  pickup: LatLng.nullable().default(null),
  dropoff: LatLng.nullable().default(null),
  readyAt: EpochMs.default(0),
  promisedBy: EpochMs.nullable().default(null),
  temperatureClass: TemperatureClass.default("ambient"),
  /** A dispatcher lock: dispatch never takes it from this courier. */
  locked: z.boolean().default(false),
});
export type AssignedOrder = z.infer<typeof AssignedOrder>;

export const OverrideAction = z.enum(["hold", "release", "lock", "reassign", "force"]);
export type OverrideAction = z.infer<typeof OverrideAction>;

export const AuditEntry = z.object({
  at: EpochMs,
  commandId: z.string(),
  by: PrincipalSchema,
  action: OverrideAction,
  orderId: ActorId,
  courierId: ActorId.nullable(),
  reason: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const MarketState = z.object({
  id: ActorId,
  config: MarketConfig,
  orders: z.record(z.string(), OpenOrder),
  couriers: z.record(z.string(), AvailableCourier),
  /**
   * Orders couriers have, keyed by order id: dispatch plans around them, and overrides check
   * them. States persisted before it existed read as empty.
   */
  assigned: z.record(z.string(), AssignedOrder).default({}),
  /** At most one pending offer per order, keyed by order id; each has an `offer:<id>` timer. */
  offers: z.record(z.string(), MarketOffer),
  /** Per open order, couriers who declined it or let the offer expire: not offered again. */
  passedBy: z.record(z.string(), z.array(ActorId)),
  /** Newest last, at most AUDIT_LIMIT entries (the projector keeps the full history). */
  audit: z.array(AuditEntry),
  /** When the `tick` timer is due, or null when the market is idle. */
  tickDueAt: EpochMs.nullable(),
  /** When dispatch last planned (events trigger it at most every `minPlanGapMs`). */
  lastPlannedAt: EpochMs.default(0),
  /** When dispatch last looked for jobs to take back from couriers (every RELIEF_EVERY_MS). */
  lastRelievedAt: EpochMs.default(0),
  /** Dispatch alerts raised per open order (each raised once until the order leaves). */
  alerted: z.record(z.string(), z.array(z.string())).default({}),
  /**
   * Vans with a compartment out of range or silent, by vehicle id: the classes they cannot keep
   * cold now, since when, and the last temperature (from `vehicle_condition`).
   */
  warmVehicles: z
    .record(
      z.string(),
      z.array(
        z.object({
          temperatureClass: z.enum(["chilled", "frozen"]),
          since: EpochMs,
          celsius: z.number().nullable(),
        }),
      ),
    )
    .default({}),
});
export type MarketState = z.infer<typeof MarketState>;
