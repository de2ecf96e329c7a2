/**
 * `npm run bench` runs every benchmark; `npm run bench -- <name>` one of them. Each prints its
 * figures and the machine, and merges its rows into bench/results.json.
 */
import { benchActors } from "./actors.ts";
import { benchDispatch } from "./dispatch.ts";
import { benchGeo } from "./geo.ts";
import { benchIngest } from "./ingest.ts";
import { benchPlan } from "./plan.ts";
import { benchReplay } from "./replay.ts";
import { benchSoak } from "./soak.ts";
import { benchTelemetry } from "./telemetry.ts";
import { machine, printTable, saveResults } from "./report.ts";
import type { ResultRow } from "./report.ts";

const benches: Record<string, () => Promise<ResultRow[]>> = {
  actors: benchActors,
  dispatch: benchDispatch,
  geo: benchGeo,
  ingest: benchIngest,
  plan: benchPlan,
  replay: benchReplay,
  telemetry: benchTelemetry,
  soak: benchSoak,
};
/** Named only: the soak alone takes ten minutes. */
const NAMED_ONLY = new Set(["soak"]);

const requested = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const unknown = requested.filter((name) => !benches[name]);
if (unknown.length > 0) {
  console.error(`unknown bench ${unknown.join(", ")}; known: ${Object.keys(benches).join(", ")}`);
  process.exit(2);
}
const all = requested.length === 0;
const names = all ? Object.keys(benches).filter((n) => !NAMED_ONLY.has(n)) : requested;
// Everything in ten minutes: the planner on its quick sample (one instance per class of 100
// tasks, one of 200, 400 and 1,000); `npm run bench -- plan` runs the full default sample.
if (all) process.env.BENCH_PLAN_SAMPLE ??= "quick";
const started = performance.now();
console.log("machine:", machine());
const rows: ResultRow[] = [];
for (const name of names) {
  console.log(`\n== ${name}`);
  const result = await benches[name]!();
  await saveResults(name, result);
  rows.push(...result);
}
printTable(rows);
console.log(
  `${names.length} benchmarks in ${((performance.now() - started) / 60_000).toFixed(1)} min`,
);
process.exit(0);
