/** Helpers for the replay's tests: small scenarios written inline. */
import { parseScenario } from "./scenario.ts";
import type { Scenario } from "./types.ts";

export const BASE_CONFIG = {
  start: "2026-03-10T11:00:00+08:00",
  travel: { model: "straight", metersPerMinute: 100, roundUpToMinute: true },
  service: { pickupMinutes: 4, dropoffMinutes: 2 },
  targetClickToDoorMinutes: 40,
  maxClickToDoorMinutes: 90,
  readyTimesKnown: true,
  rules: { sameStoreBundlesOnly: false, noDiversion: false },
};

export function scenarioOf(parts: {
  config?: Record<string, unknown>;
  stores: string[];
  couriers: string[];
  orders: string[];
}): Scenario {
  return parseScenario({
    config: JSON.stringify({ ...BASE_CONFIG, ...parts.config }),
    stores: ["id,lat,lng", ...parts.stores].join("\n"),
    couriers: ["id,lat,lng,on_at,off_at", ...parts.couriers].join("\n"),
    orders: ["id,store_id,lat,lng,placed_at,ready_at", ...parts.orders].join("\n"),
  });
}

/** A stopwatch that advances 1 ms per reading: every engine call "takes" 1 ms. */
export function fakeStopwatch(): () => number {
  let t = 0;
  return () => t++;
}
