/** The wave planner: a PDPTW model, the Li & Lim benchmark, the solver and its checker. */
export type {
  CheckReport,
  PdptwInstance,
  PlanOptions,
  PlanResult,
  ResolvedPlanOptions,
  Solution,
  Violation,
  ViolationKind,
} from "./types.ts";
export type { FleetSpec, PdptwSpec, RequestSpec, StopSpec, TravelMatrix } from "./model.ts";
export type { BestKnown } from "./li-lim.ts";
export { InvalidInstanceError, buildInstance, euclideanTravel, pickupsOf } from "./model.ts";
export { parseBestKnown, parseLiLim } from "./li-lim.ts";
export { checkSolution } from "./check.ts";
export { InvalidPlanOptionsError, resolvePlanOptions, solve } from "./solver.ts";
export { planInWorker } from "./run-in-worker.ts";
