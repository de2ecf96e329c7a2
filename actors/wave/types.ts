/**
 * The wave actor's state. Every field is JSON-safe (persist → JSON → restore is the identity).
 */
import type { LatLng, TemperatureClass } from "../../protocol/ids.ts";
import type {
  PickupPoint,
  PlannedVisit,
  WaveDestination,
  WaveFleet,
  WaveLoad,
  WaveTravel,
} from "../../protocol/actors/wave.ts";

/**
 * `open` until the cut-off, `cut_off` from then until the vans leave (planned or not), `departed`
 * once the routes went live, `closed` when every point has closed.
 */
export type WaveStatus = "new" | "open" | "cut_off" | "departed" | "closed";

/**
 * A wave order's life inside the wave: `joined` (planned or waiting for a plan), `on_van` once
 * the routes went live, `at_pickup_point` when the point's staff confirmed the van's arrival,
 * `collected` when the shopper took it, `delivered` at a door, `uncollected` when the point closed
 * with it still on the shelf, `cancelled` (left after departure; before, it is simply removed).
 */
export type WaveOrderStatus =
  "joined" | "on_van" | "at_pickup_point" | "collected" | "uncollected" | "cancelled";

export interface WaveOrder {
  readonly orderId: string;
  readonly storeId: string;
  readonly pickup: LatLng;
  readonly readyAt: number | null;
  readonly destination: WaveDestination;
  readonly load: WaveLoad;
  readonly temperatureClass: TemperatureClass;
  readonly pickupCode: string;
  readonly joinedAt: number;
  /** Joined by its order actor (which then hears of the van, the point and the collection). */
  readonly viaOrder: boolean;
  readonly status: WaveOrderStatus;
  /** When the goods reached the point (staff confirmation). */
  readonly atPointAt: number | null;
  readonly collectedAt: number | null;
}

/** One stop of a van's route as shown: consecutive visits of one kind at one place. */
export interface RouteStop {
  readonly kind: "pickup" | "dropoff";
  /** `store:<id>`, `point:<id>` or `door:<orderId>`. */
  readonly place: string;
  readonly location: LatLng;
  readonly orderIds: readonly string[];
  /** Planned arrival, service start and departure, ms since the epoch. */
  readonly arriveAt: number;
  readonly startAt: number;
  readonly leaveAt: number;
}

export interface VanRoute {
  readonly vehicleId: string;
  readonly courierId: string;
  readonly locked: boolean;
  /** The route's order-level visits, in order (the truth; `stops` is derived from it). */
  readonly visits: readonly PlannedVisit[];
  readonly stops: readonly RouteStop[];
  /** Travel minutes, depot to depot (0 for an empty route). */
  readonly travelMinutes: number;
  readonly returnAt: number | null;
}

export interface WavePlan {
  /** Bumped on every change: a new plan, a move, a lock. */
  readonly version: number;
  readonly requestId: number | null;
  readonly routes: readonly VanRoute[];
  /** Orders the planner could not place (the wave raises an alert for them). */
  readonly unplanned: readonly string[];
  /** Total travel minutes and vans used. */
  readonly cost: number;
  readonly vans: number;
  readonly plannedAt: number;
}

export interface PlanRequest {
  readonly requestId: number;
  readonly attempt: number;
  readonly requestedAt: number;
  readonly reason: "cutoff" | "late_order" | "cancellation" | "dispatcher";
}

export interface WaveConfig {
  readonly marketId: string;
  readonly cutoffAt: number;
  readonly departAt: number;
  readonly horizonAt: number;
  readonly depot: LatLng;
  readonly fleet: WaveFleet;
  readonly travel: WaveTravel;
}

export interface WaveState {
  readonly status: WaveStatus;
  readonly config: WaveConfig | null;
  readonly pickupPoints: Readonly<Record<string, PickupPoint>>;
  readonly orders: Readonly<Record<string, WaveOrder>>;
  readonly plan: WavePlan | null;
  /** The plan request in flight, if any (its answer must carry this id). */
  readonly pending: PlanRequest | null;
  /** The last request id handed out. */
  readonly lastRequestId: number;
  /** Vans the dispatcher locked (kept as they are by re-plans and moves). */
  readonly locked: readonly string[];
}
