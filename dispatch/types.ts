/**
 * The dispatch engine's vocabulary. Everything is plain data: the market actor builds a
 * `DispatchInput` from its state on every tick, the replay tool from its simulated city, and the
 * engine answers with a `DispatchPlan`. No I/O, no clock of its own: `now` is an input.
 */
import type { LatLng, Mode } from "../geo/index.ts";

/** How often a market looks for jobs to take back from couriers (see `EngineOptions.relieve`). */
export const RELIEF_EVERY_MS = 30_000;

export type TemperatureClass = "ambient" | "chilled" | "frozen";
export const TEMPERATURE_CLASSES: readonly TemperatureClass[] = ["ambient", "chilled", "frozen"];

/** An order dispatch may give to a courier this tick. */
export interface DispatchOrder {
  readonly orderId: string;
  readonly storeId: string;
  readonly pickup: LatLng;
  /** Null for an order whose destination is not known to dispatch (planned to the store only). */
  readonly dropoff: LatLng | null;
  /** When the food is ready (stated by the store or predicted), epoch ms. */
  readonly readyAt: number;
  /** When the shopper was promised it, epoch ms; null when no promise was made. */
  readonly promisedBy: number | null;
  readonly temperatureClass: TemperatureClass;
  /** When the order entered the pool (epoch ms): how long it has waited. */
  readonly queuedAt: number;
  /** Dispatcher lock: it may go to this courier only. */
  readonly lockedTo: string | null;
  /** Couriers who declined it or let an offer run out: never offered it again. */
  readonly passedBy: readonly string[];
  /**
   * Thermal budget: the longest its goods may spend from pickup to the door in an insulated
   * bag, ms (the class's budget less what is spent; coldchain/budget.ts). A hard limit for a
   * courier without compartments; a van with a free slot of its class keeps it cold instead.
   * Absent or Infinity: no limit (ambient goods).
   */
  readonly safeMs?: number;
}

/** A stop already on a courier's route: work the courier has (or has been offered). */
export interface RouteStop {
  readonly orderId: string;
  readonly kind: "pickup" | "dropoff";
  readonly at: LatLng;
  /** Pickups: when the food is ready (epoch ms). Drop-offs: 0. */
  readonly readyAt: number;
  /** Drop-offs: the promise to the shopper (epoch ms), or null. Pickups: null. */
  readonly promisedBy: number | null;
  /**
   * Drop-offs: the longest time from this order's pickup on the route to this door, ms (the
   * bag budget); binds a courier without refrigerated compartments (`RouteStart.refrigerated`).
   * Absent or Infinity: none.
   */
  readonly safeMs?: number;
  /**
   * Drop-offs: the latest moment the goods must be at this door, epoch ms (goods already out
   * of refrigeration); binds every courier. Absent or Infinity: none.
   */
  readonly safeUntil?: number;
}

/** An order a courier has: picked up (only its drop-off remains) or not yet. */
export interface CarriedOrder {
  readonly orderId: string;
  readonly pickup: LatLng | null;
  readonly dropoff: LatLng | null;
  readonly readyAt: number;
  readonly promisedBy: number | null;
  readonly temperatureClass: TemperatureClass;
  readonly pickedUp: boolean;
  /** Dispatcher lock: never moved by dispatch. */
  readonly locked: boolean;
  /** A pending offer, not a job yet: planned around, never taken back by dispatch. */
  readonly offered?: boolean;
  /** Not picked up: its bag budget from pickup to the door, ms, as `DispatchOrder.safeMs`. */
  readonly safeMs?: number;
  /**
   * Picked up: the latest moment its goods must be at the door, epoch ms, given what carries
   * them (coldchain/budget.ts `safeUntil`). Absent or Infinity: none.
   */
  readonly safeUntil?: number;
}

export interface DispatchCourier {
  readonly courierId: string;
  readonly mode: Mode;
  /** Last known position; a courier without one is not planned. */
  readonly position: LatLng | null;
  /** How many more orders it can take, pending offers already counted. */
  readonly capacityLeft: number;
  /**
   * Free compartment slots per temperature class (a van), or null (one insulated box). A van
   * keeps the goods of the classes it has slots for cold: bag budgets (`safeMs`) do not bind it.
   */
  readonly freeSlots: Readonly<Record<TemperatureClass, number>> | null;
  /** Work it already has, in the order it was given (its route is planned around it). */
  readonly carrying: readonly CarriedOrder[];
  /** End of shift (epoch ms): no pickup after it. Null: open-ended. */
  readonly offAt: number | null;
}

export interface DispatchInput {
  readonly now: number;
  readonly orders: readonly DispatchOrder[];
  readonly couriers: readonly DispatchCourier[];
}

/** Travel time in seconds between two points for a mode. Must be pure and ≥ 0. */
export type TravelSeconds = (from: LatLng, to: LatLng, mode: Mode) => number;

export interface EngineOptions {
  /** Travel time. Default: straight line × 1.3 detour at geo's default speed per mode. */
  readonly travel?: TravelSeconds;
  /** Minutes at a store, half before the pickup moment and half after. 4. */
  readonly pickupServiceMinutes?: number;
  /** Minutes at a door, half before the drop-off moment and half after. 4. */
  readonly dropoffServiceMinutes?: number;
  /** Orders ready later than this many minutes from now wait for a later tick. 20. */
  readonly lookaheadMinutes?: number;
  /** Candidate couriers per order, nearest first. 8. */
  readonly candidates?: number;
  /** First search radius around the store, metres; doubled until enough are found. 3000. */
  readonly radiusMeters?: number;
  /** Widest search radius, metres. 12000. */
  readonly maxRadiusMeters?: number;
  /** Passes after which an order's search is widened (twice the candidates, max radius). 2. */
  readonly widenAfterPasses?: number;
  /** Passes after which a dispatcher is alerted. 5. */
  readonly alertAfterPasses?: number;
  /** Minutes an order may wait in the pool with no courier before a dispatcher is alerted. 10. */
  readonly alertAfterWaitMinutes?: number;
  /** Weight of a minute of the shopper's wait (ready → door) against a courier minute. 1. */
  readonly shopperWeight?: number;
  /** Extra weight of a minute past the promised time, on any order of the route. 4. */
  readonly lateWeight?: number;
  /** Orders per bundle at most (orders sharing a store or a direction). 3. */
  readonly maxBundle?: number;
  /** A bundle forms only when it saves at least this many minutes. 2. */
  readonly bundleMinSavingMinutes?: number;
  /** Matching rounds per tick (a courier may win one more bundle per round). 2. */
  readonly rounds?: number;
  /** p90 ÷ p50 of the time from now to a stop, for the ETA window. 1.3. */
  readonly etaSpread?: number;
  /**
   * An unstarted, unlocked job goes back to the pool when a free courier would pick it up at
   * least this many minutes sooner than the courier who has it. 10.
   */
  readonly reassignGainMinutes?: number;
  /**
   * Whether this plan looks for jobs to take back (`reassignments`). The market and the replay
   * do it every RELIEF_EVERY_MS, not on every tick: a job that is 10 minutes late to start does
   * not need a 2-second cadence. True.
   */
  readonly relieve?: boolean;
  /** H3 resolution of the candidate index (8: cells of ~0.7 km², a few couriers each). 8. */
  readonly h3Resolution?: number;
}

/** The predicted moments of one order on its courier's planned route. */
export interface PlannedTimes {
  /** When the courier picks it up (P50), epoch ms. */
  readonly pickupAt: number;
  /** When it is dropped off (P50), epoch ms; null without a drop-off. */
  readonly dropoffAt: number | null;
  /** P90 of the drop-off, epoch ms. */
  readonly dropoffP90: number | null;
}

export interface Assignment extends PlannedTimes {
  readonly orderId: string;
  readonly courierId: string;
  /** Cost of the bundle this order belongs to (minutes), for audit. */
  readonly cost: number;
  /** Orders given together, this one included (a bundle of one is a single order). */
  readonly bundle: readonly string[];
}

export type DispatchAlertCode = "no_courier" | "many_declines";

export interface DispatchAlert {
  readonly orderId: string;
  readonly code: DispatchAlertCode;
  readonly message: string;
}

export interface DispatchStats {
  readonly orders: number;
  readonly considered: number;
  readonly couriers: number;
  readonly bundles: number;
  readonly candidatePairs: number;
  readonly assigned: number;
  readonly rounds: number;
}

/** An unstarted job a free courier could pick up much sooner: back to the pool with it. */
export interface Reassignment {
  readonly orderId: string;
  /** The courier who has it now. */
  readonly courierId: string;
  /** How much sooner the free courier would pick it up, minutes. */
  readonly minutesSooner: number;
}

export interface DispatchPlan {
  readonly assignments: readonly Assignment[];
  readonly reassignments: readonly Reassignment[];
  readonly alerts: readonly DispatchAlert[];
  readonly stats: DispatchStats;
}
