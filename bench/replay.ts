/**
 * `benchReplay()`: the production dispatch engine over the scenarios of sim/scenarios on a
 * simulated clock (sim/replay, as `npm run replay` runs it): per scenario the scores and the wall
 * time. The 3,000-order day carries the dispatch issue's target (≤ 15 s). `BENCH_REPLAY_SCENARIOS`
 * picks scenarios (comma-separated; default all four).
 */
import { fileURLToPath } from "node:url";
import { loadScenario, replay } from "../sim/replay/index.ts";
import type { ResultRow } from "./report.ts";

const SCENARIOS = ["kunming-lunch", "kunming-rainy-evening", "kunming-van-chilled", "kunming-day"];

export async function benchReplay(): Promise<ResultRow[]> {
  const names = process.env.BENCH_REPLAY_SCENARIOS?.split(",") ?? SCENARIOS;
  const rows: ResultRow[] = [];
  for (const name of names) {
    const scenario = await loadScenario(
      fileURLToPath(new URL(`../sim/scenarios/${name}`, import.meta.url)),
    );
    const started = performance.now();
    const { metrics: m } = replay(scenario);
    const wall = (performance.now() - started) / 1000;
    console.log(
      `${name}: ${m.orders.total} orders, ${m.orders.deliveredPct} % delivered, click-to-door mean ${m.clickToDoorMinutes.mean} min, ` +
        `${m.overTarget.latePct} % late, engine p99 ${m.engine.p99Ms} ms, ${wall.toFixed(1)} s`,
    );
    const row = (
      figure: string,
      value: number,
      unit: string,
      better: "higher" | "lower",
      target: number | null = null,
    ): ResultRow => ({
      bench: "replay",
      figure: `${name}: ${figure}`,
      value,
      unit,
      target,
      better,
    });
    rows.push(
      row("delivered", m.orders.deliveredPct, "%", "higher"),
      row("click-to-door mean", m.clickToDoorMinutes.mean, "min", "lower"),
      row(`late (over ${m.overTarget.targetMinutes} min)`, m.overTarget.latePct, "%", "lower"),
      row("engine per call p99", m.engine.p99Ms, "ms", "lower"),
      row("replay wall time", wall, "s", "lower", name === "kunming-day" ? 15 : null),
    );
  }
  return rows;
}
