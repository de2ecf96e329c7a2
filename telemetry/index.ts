export { TelemetryBridge, TelemetryBridgeMetrics } from "./bridge.ts";
export type { TelemetryBridgeOptions } from "./bridge.ts";
export { parseTelemetry, vehicleOfSubject, MAX_READINGS_PER_MESSAGE } from "./payload.ts";
export type { ParsedReading, ParseResult } from "./payload.ts";
