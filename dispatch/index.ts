/**
 * dispatch/: the pure dispatch engine run by each market actor on its ticks, and by the replay
 * tool on a simulated clock. No I/O; `now` is an input.
 */
export type * from "./types.ts";
export { RELIEF_EVERY_MS, TEMPERATURE_CLASSES } from "./types.ts";
export {
  DispatchMemo,
  engineDefaults,
  planDispatch,
  routeTiming,
  straightLineTravel,
} from "./engine.ts";
export type { ResolvedEngineOptions } from "./engine.ts";
export { minCostAssignment, SparseBuilder, sparseCosts } from "./matching.ts";
export type { SparseCosts } from "./matching.ts";
export { bestInsertion, evaluateRoute, insertAll, insertionCost, stopsOf } from "./route.ts";
export type { Insertion, RouteEval, RouteStart, RouteTiming } from "./route.ts";
