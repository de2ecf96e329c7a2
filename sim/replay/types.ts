/**
 * The replay's vocabulary: a scenario as read from its directory, what the simulation records,
 * and the scores computed from that record. Times are epoch ms; coordinates WGS-84.
 */
import type { LatLng, Mode } from "../../geo/index.ts";
import type { TemperatureClass } from "../../dispatch/index.ts";

export interface ScenarioConfig {
  /** Start of the simulated day (epoch ms) and the UTC offset its ISO text carried, minutes. */
  readonly start: number;
  readonly utcOffsetMinutes: number;
  readonly travel: {
    readonly model: "straight";
    readonly metersPerMinute: number;
    readonly roundUpToMinute: boolean;
  };
  readonly service: { readonly pickupMinutes: number; readonly dropoffMinutes: number };
  /** Promise to the shopper: placed + target (the engine's `promisedBy`). */
  readonly targetClickToDoorMinutes: number;
  /** An order still without a courier this long after it was placed is cancelled. */
  readonly maxClickToDoorMinutes: number;
  readonly readyTimesKnown: boolean;
  readonly rules: { readonly sameStoreBundlesOnly: boolean; readonly noDiversion: boolean };
  /** Orders a courier carries at once unless couriers.csv says otherwise. 3. */
  readonly courierCapacity: number;
  /** The couriers' vehicle unless couriers.csv says otherwise. "ebike". */
  readonly courierMode: Mode;
}

export interface ScenarioStore {
  readonly id: string;
  readonly at: LatLng;
}

export interface ScenarioCourier {
  readonly id: string;
  readonly start: LatLng;
  readonly onAt: number;
  readonly offAt: number;
  readonly mode: Mode;
  readonly capacity: number;
  /** Compartment slots per temperature class (a van), or null (one insulated box). */
  readonly slots: Readonly<Record<TemperatureClass, number>> | null;
}

export interface ScenarioOrder {
  readonly id: string;
  readonly storeId: string;
  readonly dropoff: LatLng;
  readonly placedAt: number;
  /** The true moment the food is ready. */
  readonly readyAt: number;
  readonly temperatureClass: TemperatureClass;
}

export interface Scenario {
  readonly config: ScenarioConfig;
  readonly stores: readonly ScenarioStore[];
  readonly couriers: readonly ScenarioCourier[];
  readonly orders: readonly ScenarioOrder[];
}

/** What became of one order. Null times: it never got there. */
export interface OrderOutcome {
  readonly id: string;
  readonly courierId: string | null;
  readonly placedAt: number;
  readonly readyAt: number;
  readonly assignedAt: number | null;
  readonly pickedUpAt: number | null;
  readonly deliveredAt: number | null;
  /** The engine's drop-off P50 and P90 when it gave the order to the courier who delivered it. */
  readonly predictedDropoffAt: number | null;
  readonly predictedDropoffP90: number | null;
  /** Offers made for it (couriers always accept; more than one when an order came back). */
  readonly offers: number;
  readonly cancelled: boolean;
}

/** One straight-line leg a courier drove (cut short when it was sent elsewhere on the way). */
export interface Move {
  readonly courierId: string;
  readonly departedAt: number;
  readonly from: LatLng;
  readonly to: LatLng;
  readonly arrivedAt: number;
  /** Where it was heading: `to`, unless the leg was cut short (not written to moves.csv). */
  readonly towards: LatLng;
}

export interface CourierRecord {
  readonly id: string;
  readonly onAt: number;
  readonly offAt: number;
  /** When it finished its last stop (≥ offAt when it delivered after the end of its shift). */
  readonly doneAt: number;
  readonly travelMs: number;
  /** Minutes at stores and doors doing the service itself (one service per visit). */
  readonly serviceMs: number;
  /** At a store waiting for the food beyond the service. */
  readonly waitingMs: number;
  /** Orders picked up on each of its trips (empty-handed to empty-handed again). */
  readonly trips: readonly number[];
}

export interface ReplayRecord {
  readonly orders: readonly OrderOutcome[];
  readonly moves: readonly Move[];
  readonly couriers: readonly CourierRecord[];
  /** Wall-clock milliseconds of each engine call. */
  readonly engineMs: readonly number[];
  /** Distinct (order, alert code) pairs the engine raised. */
  readonly alerts: number;
  /** Pickups a courier could not make before the end of its shift (the order went back). */
  readonly handedBack: number;
  /** Unstarted jobs the engine took back from their courier (a free one was much sooner). */
  readonly takenBack: number;
  /** Second-round assignments dropped because they broke `sameStoreBundlesOnly`. */
  readonly ruleRejections: number;
}

export interface Metrics {
  readonly orders: {
    readonly total: number;
    readonly delivered: number;
    readonly undelivered: number;
    readonly deliveredPct: number;
    readonly undeliveredPct: number;
    readonly cancelled: number;
  };
  readonly clickToDoorMinutes: Summary;
  readonly overTarget: {
    readonly targetMinutes: number;
    /** Mean minutes past the target over all delivered orders (0 for one on time). */
    readonly meanOverageMinutes: number;
    /** Mean minutes past the target over the late ones only. */
    readonly meanOverageOfLateMinutes: number;
    readonly latePct: number;
    readonly overMaxPct: number;
  };
  readonly readyToPickupMinutes: { readonly mean: number; readonly p90: number };
  readonly readyToDoorMinutes: { readonly mean: number };
  readonly courierUtilisationPct: number;
  readonly courierWaitingPct: number;
  readonly ordersPerTrip: number;
  readonly offersPerOrder: number;
  readonly eta: {
    readonly meanAbsoluteErrorMinutes: number;
    /** Actual − predicted P50, minutes (positive: later than said). */
    readonly meanErrorMinutes: number;
    readonly insideP50P90Pct: number;
    readonly beforeP50Pct: number;
    readonly afterP90Pct: number;
  };
  readonly engine: {
    readonly ticks: number;
    readonly p50Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
    readonly totalMs: number;
  };
  readonly alerts: number;
  readonly handedBack: number;
  readonly takenBack: number;
  readonly ruleRejections: number;
}

export interface Summary {
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly max: number;
}
