/**
 * `npm run plan -- --li-lim <instance-file> [--seed N] [--time-limit S] [--iterations N]`:
 * solves a Li & Lim PDPTW instance with the wave planner, checks the plan with the independent
 * checker, and prints vehicles, distance, the best known (from BKS.json beside the instance's
 * folder) and the gap. `--routes` also prints the routes.
 */
import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { checkSolution, parseBestKnown, parseLiLim, solve } from "../dispatch/waves/index.ts";

const usage =
  "usage: npm run plan -- --li-lim <instance-file> [--seed N] [--time-limit S] [--iterations N] [--routes]";

let args;
try {
  args = parseArgs({
    options: {
      "li-lim": { type: "string" },
      seed: { type: "string", default: "1" },
      "time-limit": { type: "string" },
      iterations: { type: "string" },
      routes: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  }).values;
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}
const file = args["li-lim"];
if (args.help || file === undefined) {
  console.error(usage);
  process.exit(args.help ? 0 : 2);
}
const numberArg = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`--${name} must be a non-negative number, got "${value}"\n${usage}`);
    process.exit(2);
  }
  return n;
};
const seed = numberArg("seed", args.seed)!;
const timeLimitS = numberArg("time-limit", args["time-limit"]);
const iterations = numberArg("iterations", args.iterations);

const name = basename(file).replace(/\.txt$/, "");
const instance = parseLiLim(await readFile(file, "utf8"), name);
let best;
for (const candidate of [join(dirname(file), "..", "BKS.json"), join(dirname(file), "BKS.json")]) {
  try {
    best = parseBestKnown(await readFile(candidate, "utf8")).get(name);
    break;
  } catch {
    best = undefined;
  }
}

const requests = (instance.size - 1) / 2;
console.log(
  `${name}: ${instance.size - 1} tasks (${requests} requests), ${instance.vehicles} vehicles of capacity ${instance.capacity[0]}`,
);
const result = solve(instance, {
  seed,
  timeLimitMs:
    timeLimitS !== undefined ? timeLimitS * 1000 : iterations !== undefined ? Infinity : 10_000,
  ...(iterations !== undefined ? { iterations } : {}),
});
const check = checkSolution(instance, result.routes);
const gap = best ? ((check.cost / best.cost - 1) * 100).toFixed(2) : "?";
console.log(`vehicles   ${check.vehicles}${best ? `   (best known ${best.vehicles})` : ""}`);
console.log(
  `distance   ${check.cost.toFixed(2)}${best ? `   (best known ${best.cost.toFixed(2)}, gap ${gap} %${check.vehicles !== best.vehicles ? ", not comparable: vehicle counts differ" : ""})` : ""}`,
);
console.log(
  `time       ${(result.elapsedMs / 1000).toFixed(2)} s, ${result.iterations} search steps, seed ${seed}`,
);
console.log(
  `vehicles after construction ${result.trace.construction}, after route elimination ${result.trace.afterElimination}`,
);
console.log(
  check.feasible
    ? "checker    feasible (windows, precedence, capacity, horizon, fleet)"
    : `checker    INFEASIBLE: ${check.violations.map((v) => v.detail).join("; ")}`,
);
if (args.routes) result.routes.forEach((r, k) => console.log(`route ${k + 1}: ${r.join(" ")}`));
process.exit(check.feasible ? 0 : 1);
