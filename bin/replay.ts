/**
 * `npm run replay -- <scenario-dir> --out <dir>`: runs the production dispatch engine over a
 * scenario on a simulated clock, writes orders.csv, moves.csv and metrics.json to the output
 * directory, and prints the scores, the wall time and the machine.
 */
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { ScenarioError, loadScenario, replay, writeOutput } from "../sim/replay/index.ts";

const usage = "usage: npm run replay -- <scenario-dir> --out <dir>";

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { out: { type: "string" }, help: { type: "boolean", default: false } },
  });
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}
const dir = parsed.positionals[0];
const out = parsed.values.out;
if (parsed.values.help || dir === undefined || out === undefined || parsed.positionals.length > 1) {
  console.error(usage);
  process.exit(parsed.values.help ? 0 : 2);
}

let scenario;
try {
  scenario = await loadScenario(dir);
} catch (error) {
  if (error instanceof ScenarioError) {
    console.error(`replay: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
const started = performance.now();
const result = replay(scenario);
const wallSeconds = (performance.now() - started) / 1000;
await writeOutput(out, result);

const m = result.metrics;
const rows: [string, string][] = [
  [
    "orders",
    `${m.orders.total} (${scenario.couriers.length} couriers, ${scenario.stores.length} stores)`,
  ],
  ["delivered", `${m.orders.delivered} (${m.orders.deliveredPct} %)`],
  [
    "undelivered",
    `${m.orders.undelivered} (${m.orders.undeliveredPct} %, ${m.orders.cancelled} cancelled)`,
  ],
  [
    "click-to-door min",
    `mean ${m.clickToDoorMinutes.mean}, p50 ${m.clickToDoorMinutes.p50}, p90 ${m.clickToDoorMinutes.p90}, max ${m.clickToDoorMinutes.max}`,
  ],
  [
    `over ${m.overTarget.targetMinutes} min target`,
    `${m.overTarget.latePct} % late, mean overage ${m.overTarget.meanOverageMinutes} min (${m.overTarget.meanOverageOfLateMinutes} of the late)`,
  ],
  ["ready-to-pickup min", `mean ${m.readyToPickupMinutes.mean}, p90 ${m.readyToPickupMinutes.p90}`],
  ["ready-to-door min", `mean ${m.readyToDoorMinutes.mean}`],
  [
    "courier utilisation",
    `${m.courierUtilisationPct} % (waiting at stores ${m.courierWaitingPct} %)`,
  ],
  ["orders per trip", String(m.ordersPerTrip)],
  ["offers per order", String(m.offersPerOrder)],
  [
    "ETA error",
    `MAE ${m.eta.meanAbsoluteErrorMinutes} min, bias ${m.eta.meanErrorMinutes} min, inside P50–P90 ${m.eta.insideP50P90Pct} %`,
  ],
  [
    "engine per tick",
    `p50 ${m.engine.p50Ms} ms, p99 ${m.engine.p99Ms} ms (${m.engine.ticks} ticks)`,
  ],
  ["wall time", `${wallSeconds.toFixed(2)} s`],
  ["machine", `${cpus().length} cores (${cpus()[0]?.model ?? "unknown"}), Node ${process.version}`],
];
const width = Math.max(...rows.map(([k]) => k.length));
console.log(`replay ${dir} → ${out}`);
for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
