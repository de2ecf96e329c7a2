/**
 * sim/replay: runs the production dispatch engine over a recorded or generated day on a
 * simulated clock and scores it (`npm run replay -- <scenario-dir> --out <dir>`).
 */
export type * from "./types.ts";
export { ScenarioError } from "./errors.ts";
export { parseScenario, parseScenarioConfig, SCENARIO_FILES } from "./scenario.ts";
export type { ScenarioTexts } from "./scenario.ts";
export { simulate } from "./simulate.ts";
export type { ReplayOptions } from "./simulate.ts";
export { computeMetrics, percentile } from "./metrics.ts";
export { replay } from "./replay.ts";
export type { ReplayOutput } from "./replay.ts";
export { loadScenario, writeOutput } from "./io.ts";
export { scenarioTravel } from "./travel.ts";
export { formatIsoTime, parseIsoTime } from "./time.ts";
