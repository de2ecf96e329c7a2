/** A scenario in, its record, scores and output files out (pure apart from the engine stopwatch). */
import { computeMetrics } from "./metrics.ts";
import { simulate } from "./simulate.ts";
import type { ReplayOptions } from "./simulate.ts";
import type { Metrics, ReplayRecord, Scenario } from "./types.ts";
import { metricsJson, movesCsv, ordersCsv } from "./writers.ts";

export interface ReplayOutput {
  readonly record: ReplayRecord;
  readonly metrics: Metrics;
  /** File name → text: orders.csv, moves.csv, metrics.json. */
  readonly files: Readonly<Record<"orders.csv" | "moves.csv" | "metrics.json", string>>;
}

export function replay(scenario: Scenario, options: ReplayOptions = {}): ReplayOutput {
  const record = simulate(scenario, options);
  const metrics = computeMetrics(record, scenario.config);
  const offset = scenario.config.utcOffsetMinutes;
  return {
    record,
    metrics,
    files: {
      "orders.csv": ordersCsv(record.orders, offset),
      "moves.csv": movesCsv(record.moves, offset),
      "metrics.json": metricsJson(metrics),
    },
  };
}
