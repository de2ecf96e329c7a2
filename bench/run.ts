/**
 * `npm run bench` runs every benchmark; `npm run bench -- <name>` one of them. Each prints its
 * figures and the machine, and merges its rows into bench/results.json.
 */
import { benchActors } from "./actors.ts";
import { benchDispatch } from "./dispatch.ts";
import { benchGeo } from "./geo.ts";
import { benchIngest } from "./ingest.ts";
import { benchPlan } from "./plan.ts";
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
const names =
  requested.length > 0 ? requested : Object.keys(benches).filter((n) => !NAMED_ONLY.has(n));
console.log("machine:", machine());
const all: ResultRow[] = [];
for (const name of names) {
  console.log(`\n== ${name}`);
  const rows = await benches[name]!();
  await saveResults(name, rows);
  all.push(...rows);
}
printTable(all);
process.exit(0);
