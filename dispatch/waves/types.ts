/**
 * The pickup-and-delivery problem with time windows (PDPTW) as the planner sees it: flat typed
 * arrays indexed by node, node 0 the depot. Li & Lim instances and waves both become one.
 */

/** A PDPTW instance. Nodes are 0 (the depot) and 1..size-1 (pickups and deliveries). */
export interface PdptwInstance {
  readonly name: string;
  /** Number of nodes including the depot. */
  readonly size: number;
  /** Names of the capacity dimensions (e.g. `["weight", "volume", "compartment:frozen"]`). */
  readonly dimensions: readonly string[];
  /** Vehicle capacity per dimension (homogeneous fleet). */
  readonly capacity: Float64Array;
  /** Load change at each node, `size × dimensions`: positive at pickups, negative at deliveries. */
  readonly demand: Float64Array;
  /** Earliest service start per node; at the depot, the earliest departure. */
  readonly ready: Float64Array;
  /** Latest service start per node; at the depot, the latest return (the horizon). */
  readonly due: Float64Array;
  /** Service duration per node. */
  readonly service: Float64Array;
  /** The other half of each request: pickup ↔ delivery; -1 at the depot. */
  readonly partner: Int32Array;
  /** 1 at pickups, 0 elsewhere. */
  readonly isPickup: Uint8Array;
  /** Travel time, `size × size`, row-major (`time[from * size + to]`). */
  readonly time: Float64Array;
  /** Travel cost (distance or time) minimised after vehicles, `size × size`, row-major. */
  readonly cost: Float64Array;
  /** Vehicles available. */
  readonly vehicles: number;
}

/** A plan: each route lists its stops in order, the depot at both ends left implicit. */
export interface Solution {
  readonly routes: number[][];
  /** Non-empty routes. */
  readonly vehicles: number;
  /** Total travel cost. */
  readonly cost: number;
  /** Pickup nodes of the requests the planner could not place (empty for a complete plan). */
  readonly unassigned: number[];
}

export interface PlanResult extends Solution {
  readonly seed: number;
  /** Search steps done (ALNS iterations plus ejection-pool steps). */
  readonly iterations: number;
  readonly elapsedMs: number;
  /** Vehicles after construction, after route elimination, and at the end. */
  readonly trace: { construction: number; afterElimination: number; final: number };
}

export interface PlanOptions {
  /** Seed of the planner's own PRNG. Default 1. */
  seed?: number;
  /** Wall-time budget in ms. Default 10 000. A plan bounded only by iterations is reproducible. */
  timeLimitMs?: number;
  /** Budget in search steps (ALNS iterations plus ejection-pool steps). Default unbounded. */
  iterations?: number;
  /** Share of the budget the route-elimination phase may use before distance search. Default 0.5. */
  eliminationShare?: number;
  /**
   * Share of the budget one route-elimination attempt gives the ejection pool before ALNS tries
   * to place the rest at one route fewer. Default 0.1.
   */
  poolShare?: number;
  /** Smallest and largest number of requests one ALNS iteration removes. Default 4 and min(60, 40 %). */
  minRemoval?: number;
  maxRemoval?: number;
  /** Requests moved at random after each ejection, for diversity. Default 20. */
  perturbation?: number;
  /** Requests one ejection may remove from a route to make room. Default 2. */
  maxEjections?: number;
  /** Simulated annealing: a plan this much worse than the start is accepted half the time at first. Default 0.01. */
  startWorse?: number;
}

export type ResolvedPlanOptions = Required<PlanOptions>;

export type ViolationKind =
  | "unknown-node"
  | "depot-in-route"
  | "duplicate"
  | "missing"
  | "split"
  | "precedence"
  | "time-window"
  | "horizon"
  | "capacity"
  | "fleet";

export interface Violation {
  readonly kind: ViolationKind;
  readonly route: number;
  readonly node: number;
  readonly detail: string;
}

export interface CheckReport {
  readonly feasible: boolean;
  readonly violations: Violation[];
  readonly vehicles: number;
  /** Total travel cost recomputed from the instance's cost matrix. */
  readonly cost: number;
}
