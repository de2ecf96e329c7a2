/**
 * Wire contract of the wave actor (`wave/<market>-<day>-<slot>`): a scheduled wave of orders
 * (社区集单) for one market, day and slot, to community pickup points and doors. Orders join
 * until the cut-off; at the cut-off (and on a late order or a cancellation before the vans leave)
 * the wave asks the host's planner for routes; dispatchers move stops between vans, lock routes
 * and re-plan; at departure each van's route goes live.
 *
 * Senders: dispatchers and admins (`open`, `move_stop`, `lock_route`, `replan`), the shop
 * integration or an order (`join`, `leave`), the host's wave planner (`plan_ready`, system
 * principal), pickup-point staff through the gateway (`arrive_at_point`, `collect`), and the
 * wave's own reminders (`cutoff`, `plan_timeout`, `departure`, `point_closing`).
 */
import { z } from "zod";
import { ActorId, LatLng, TemperatureClass } from "../ids.ts";

const EpochMs = z.number().int().nonnegative();

/** `<market>-<yyyymmdd>-<slot>`: one wave per market, day and slot (an actor id, ≤ 64). */
export const WaveId = z
  .string()
  .max(64)
  .regex(
    /^[A-Za-z0-9_-]{1,38}-[0-9]{8}-[A-Za-z0-9_]{1,16}$/,
    "wave id: <market>-<yyyymmdd>-<slot>",
  );

/** The wave id of a market's day and slot. */
export function waveIdOf(marketId: string, day: string, slot: string): string {
  return `${marketId}-${day}-${slot}`;
}

/** The market a wave id names (everything before `-<yyyymmdd>-<slot>`). */
export function marketOfWave(waveId: string): string {
  return waveId.split("-").slice(0, -2).join("-");
}

/**
 * A community pickup point (a station, a partner shop, a locker): where it is, when a van may
 * arrive (its opening window for the wave's day), how many of the wave's orders it can hold,
 * whether it has a chilled shelf, and which staff (store principals) confirm arrivals and
 * hand goods to shoppers.
 */
export const PickupPoint = z
  .object({
    id: ActorId,
    name: z.string().min(1).max(100),
    location: LatLng,
    opensAt: EpochMs,
    closesAt: EpochMs,
    /** Orders of this wave the point can hold. */
    capacity: z.number().int().positive().max(10_000),
    chilledShelf: z.boolean(),
    /** Store principals (`store:<id>`) who may confirm an arrival or a collection here. */
    staffIds: z.array(z.string().min(1).max(128)).min(1).max(32),
  })
  .refine((p) => p.opensAt < p.closesAt, { message: "a pickup point opens before it closes" });
export type PickupPoint = z.infer<typeof PickupPoint>;

/** A van the wave may use, with the courier who drives it. */
export const WaveVan = z.object({ vehicleId: ActorId, courierId: ActorId });
export type WaveVan = z.infer<typeof WaveVan>;

export const WaveFleet = z.object({
  vans: z.array(WaveVan).min(1).max(200),
  /** Per van: kilograms and litres. */
  capacity: z.object({
    weightKg: z.number().positive().max(50_000),
    volumeL: z.number().positive().max(100_000),
  }),
  /** Per van, litres of each cold class (ambient goods ride anywhere in the van). */
  compartments: z.object({
    frozen: z.number().nonnegative().max(100_000),
    chilled: z.number().nonnegative().max(100_000),
  }),
});
export type WaveFleet = z.infer<typeof WaveFleet>;

/** Straight-line travel: metres per minute and a detour factor over the great-circle distance. */
export const WaveTravel = z.object({
  metersPerMinute: z.number().positive().max(5_000).default(400),
  detour: z.number().min(1).max(3).default(1.3),
  /** Minutes at a store per order loaded, and at a point or door per order handed over. */
  pickupServiceMinutes: z.number().nonnegative().max(60).default(0.5),
  dropoffServiceMinutes: z.number().nonnegative().max(60).default(1),
});
export type WaveTravel = z.infer<typeof WaveTravel>;

export const WaveLoad = z.object({
  weightKg: z.number().nonnegative().max(1_000),
  volumeL: z.number().nonnegative().max(5_000),
});
export type WaveLoad = z.infer<typeof WaveLoad>;

/** Where a wave order goes: a pickup point of the wave, or a door with its own window. */
export const WaveDestination = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("pickup_point"), pickupPointId: ActorId }),
  z.object({
    kind: z.literal("door"),
    location: LatLng,
    window: z.object({ from: EpochMs, to: EpochMs }),
  }),
]);
export type WaveDestination = z.infer<typeof WaveDestination>;

/** A stop of a planned route as the planner returns it: one order's pickup or drop-off. */
export const PlannedVisit = z.object({
  orderId: ActorId,
  kind: z.enum(["pickup", "dropoff"]),
});
export type PlannedVisit = z.infer<typeof PlannedVisit>;

export const WaveMessage = z.discriminatedUnion("type", [
  /** Dispatcher/admin/system: the wave's times, depot, fleet and pickup points. Once. */
  z.object({
    type: z.literal("open"),
    marketId: ActorId,
    cutoffAt: EpochMs,
    departAt: EpochMs,
    /** Vans must be back at the depot by then (the drivers' shift end). */
    horizonAt: EpochMs,
    depot: LatLng,
    fleet: WaveFleet,
    pickupPoints: z.array(PickupPoint).min(1).max(500),
    travel: WaveTravel.optional(),
  }),
  /** An order joins the wave (or updates itself while the wave is open). */
  z.object({
    type: z.literal("join"),
    orderId: ActorId,
    storeId: ActorId,
    /** Where the van collects it: the store's location. */
    pickup: LatLng,
    /** When the store has it ready; default the wave's departure. */
    readyAt: EpochMs.optional(),
    destination: WaveDestination,
    load: WaveLoad,
    temperatureClass: TemperatureClass,
    /** Shown by the shopper at the point; the order keeps it, the wave hands it out on arrival. */
    pickupCode: z.string().regex(/^[0-9A-Za-z]{4,12}$/, "pickup code: 4-12 letters or digits"),
  }),
  /** The order was cancelled or taken out of the wave. */
  z.object({ type: z.literal("leave"), orderId: ActorId }),
  /** Reminder at the cut-off: plan. */
  z.object({ type: z.literal("cutoff") }),
  /** Reminder: a plan request went unanswered; ask again. */
  z.object({ type: z.literal("plan_timeout"), requestId: z.number().int().positive() }),
  /** The host's planner answers a `plan_requested`. */
  z.object({
    type: z.literal("plan_ready"),
    requestId: z.number().int().positive(),
    routes: z.array(z.array(PlannedVisit).max(4_000)).max(200),
    unassigned: z.array(ActorId).max(10_000),
    seed: z.number().int(),
    elapsedMs: z.number().nonnegative(),
  }),
  /** The planner could not plan (an instance it cannot model); recorded, alerted. */
  z.object({
    type: z.literal("plan_failed"),
    requestId: z.number().int().positive(),
    reason: z.string().min(1).max(500),
  }),
  /**
   * Dispatcher: move the orders of one drop-off stop (a pickup point or a door) of a van to
   * another van; their pickups move with them. Re-checked; refused with the reason when it does
   * not fit. `planVersion` guards against a plan that changed under the console.
   */
  z.object({
    type: z.literal("move_stop"),
    planVersion: z.number().int().nonnegative(),
    fromVehicleId: ActorId,
    stopIndex: z.number().int().nonnegative(),
    toVehicleId: ActorId,
  }),
  /** Dispatcher: a locked route is kept as it is by re-plans and moves. */
  z.object({ type: z.literal("lock_route"), vehicleId: ActorId, locked: z.boolean() }),
  /** Dispatcher: plan again now (before departure). */
  z.object({ type: z.literal("replan") }),
  /** Reminder at departure: the plan goes live. */
  z.object({ type: z.literal("departure") }),
  /** Staff of the point (or a dispatcher): the van is here and its goods are on the shelf. */
  z.object({ type: z.literal("arrive_at_point"), pickupPointId: ActorId, vehicleId: ActorId }),
  /** Staff of the point: the shopper showed the code and took the goods. */
  z.object({ type: z.literal("collect"), orderId: ActorId, pickupCode: z.string().max(12) }),
  /** Reminder at a point's closing time: uncollected orders raise an alert. */
  z.object({ type: z.literal("point_closing"), pickupPointId: ActorId }),
]);
export type WaveMessage = z.infer<typeof WaveMessage>;

// --- HTTP bodies (gateway/http/waves.ts) -----------------------------------------------------

/** `POST /v1/markets/:marketId/waves`: the wave of a day and slot, with its fleet and points. */
export const OpenWaveBody = z.strictObject({
  day: z.string().regex(/^[0-9]{8}$/, "day: yyyymmdd"),
  slot: z.string().regex(/^[A-Za-z0-9_]{1,16}$/, "slot: 1-16 letters, digits or _"),
  cutoffAt: EpochMs,
  departAt: EpochMs,
  horizonAt: EpochMs,
  depot: LatLng,
  fleet: WaveFleet,
  pickupPoints: z.array(PickupPoint).min(1).max(500),
  travel: WaveTravel.optional(),
});
export type OpenWaveBody = z.infer<typeof OpenWaveBody>;

export const MoveStopBody = z.strictObject({
  planVersion: z.number().int().nonnegative(),
  fromVehicleId: ActorId,
  stopIndex: z.number().int().nonnegative(),
  toVehicleId: ActorId,
});
export type MoveStopBody = z.infer<typeof MoveStopBody>;

export const LockRouteBody = z.strictObject({ vehicleId: ActorId, locked: z.boolean() });
export type LockRouteBody = z.infer<typeof LockRouteBody>;

export const ArrivalBody = z.strictObject({ vehicleId: ActorId });
export const CollectBody = z.strictObject({ pickupCode: z.string().min(1).max(12) });
