export { Tracker } from "./tracker.ts";
export type { StraightEta, TrackerOptions } from "./tracker.ts";
export type { CourierLive, Delivery, LocationMessage, TrackerView } from "./types.ts";
