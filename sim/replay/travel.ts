/** The scenario's travel model, as the engine's `TravelSeconds`: the engine and couriers share it. */
import { haversine } from "../../geo/index.ts";
import type { TravelSeconds } from "../../dispatch/index.ts";
import type { ScenarioConfig } from "./types.ts";

/**
 * Straight-line (haversine) distance ÷ the scenario's speed, whatever the vehicle, rounded up
 * to whole minutes when the scenario asks.
 */
export function scenarioTravel(travel: ScenarioConfig["travel"]): TravelSeconds {
  const { metersPerMinute, roundUpToMinute } = travel;
  return (from, to) => {
    const minutes = haversine(from.lat, from.lng, to.lat, to.lng) / metersPerMinute;
    return (roundUpToMinute ? Math.ceil(minutes) : minutes) * 60;
  };
}
