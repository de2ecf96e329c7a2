export * from "./ids.ts";
export * from "./envelope.ts";
export { OrderMessage } from "./actors/order.ts";
export { StoreMessage } from "./actors/store.ts";
export { CourierMessage } from "./actors/courier.ts";
export { VehicleMessage } from "./actors/vehicle.ts";
export { MarketMessage } from "./actors/market.ts";
export {
  ArrivalBody,
  CollectBody,
  LockRouteBody,
  MoveStopBody,
  OpenWaveBody,
  PickupPoint,
  WaveId,
  WaveMessage,
  marketOfWave,
  waveIdOf,
} from "./actors/wave.ts";
export * from "./live.ts";
