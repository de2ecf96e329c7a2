/** The actors module: the runtime, and every actor type's pure logic. */
export * from "./runtime/index.ts";
export { accept, emit, refuse } from "./logic.ts";
export type * from "./types.ts";
export { probeLogic } from "./probe/logic.ts";
export type { ProbeMessage, ProbeState } from "./probe/logic.ts";
export { orderLogic, viewOrder } from "./order/logic.ts";
export type { OrderState, OrderView } from "./order/types.ts";
export { storeLogic, viewStore, predictedReadyAt } from "./store/logic.ts";
export type { StoreState, StoreView } from "./store/types.ts";
export { courierLogic } from "./courier/logic.ts";
export type { CourierState } from "./courier/types.ts";
export { vehicleLogic } from "./vehicle/logic.ts";
export type { VehicleState } from "./vehicle/types.ts";
export { marketLogic } from "./market/logic.ts";
export type { MarketState } from "./market/types.ts";
export { waveLogic, viewWave, closingTimer } from "./wave/logic.ts";
export type { WaveView } from "./wave/logic.ts";
export type { RouteStop, VanRoute, WaveOrder, WavePlan, WaveState } from "./wave/types.ts";
export { WavePlanner, problemInstance, visitsOf } from "./wave/planner.ts";
export type { WavePlannerOptions } from "./wave/planner.ts";
export { evaluateRoute } from "./wave/routes.ts";
export type { WaveProblem } from "./wave/routes.ts";

import { courierLogic } from "./courier/logic.ts";
import { marketLogic } from "./market/logic.ts";
import { orderLogic } from "./order/logic.ts";
import { probeLogic } from "./probe/logic.ts";
import { storeLogic } from "./store/logic.ts";
import type { AnyActorLogic } from "./types.ts";
import { vehicleLogic } from "./vehicle/logic.ts";
import { waveLogic } from "./wave/logic.ts";

/** Every actor type a production host runs. */
export const allActorLogics: readonly AnyActorLogic[] = [
  orderLogic,
  storeLogic,
  courierLogic,
  vehicleLogic,
  marketLogic,
  waveLogic,
  probeLogic,
];
