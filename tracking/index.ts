export { Tracker } from "./tracker.ts";
export { WaveFeed, waveFrames, WAVE_FEED_EVENTS } from "./waves.ts";
export type { WaveFeedOptions } from "./waves.ts";
export type { StraightEta, TrackerOptions } from "./tracker.ts";
export type { CourierLive, Delivery, LocationMessage, TrackerView } from "./types.ts";
