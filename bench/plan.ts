/**
 * `benchPlan()`: the wave planner on the Li & Lim PDPTW benchmark, a fixed sample across the six
 * sizes, each instance solved with the size's time budget and checked by the independent checker.
 * Per size: the share of instances solved with the best-known vehicle count, the mean distance
 * gap to the best known on the instances with equal vehicles (distances are comparable only
 * there), the extra vehicles on the others, and the mean time.
 *
 * - `BENCH_PLAN_SAMPLE`: instances per class (6 classes per size) for every size, `all`, or
 *   `quick` (one instance per class of 100 tasks, one of 200, 400 and 1,000: about 2.5 minutes,
 *   what `npm run bench` runs); default a fixed sample of 28 instances (about 12 minutes).
 * - `BENCH_PLAN_SIZES`: sizes to run, e.g. `100,200` (default all six).
 * - `BENCH_PLAN_SEED`: planner seed (default 1).
 * - `LI_LIM_DIR`: where the instances are (default ../shared/data/li_lim_pdptw).
 */
import { readFile, readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { checkSolution, parseBestKnown, parseLiLim, solve } from "../dispatch/waves/index.ts";
import type { ResultRow } from "./report.ts";

interface Size {
  tasks: number;
  folder: string;
  timeLimitS: number;
  /** Instances per class in the default sample. */
  perClass: number;
  /** Classes in the default sample when fewer than all six. */
  classes?: string[];
  /** The quick sample: instances per class and the classes (none: the size is skipped). */
  quick?: { perClass: number; classes?: string[] };
  targetVehicleShare: number | null;
  targetGap: number | null;
}

const SIZES: Size[] = [
  {
    tasks: 100,
    folder: "li_lim_100",
    timeLimitS: 5,
    perClass: 2,
    quick: { perClass: 1 },
    targetVehicleShare: 90,
    targetGap: 3,
  },
  {
    tasks: 200,
    folder: "li_lim_200",
    timeLimitS: 30,
    perClass: 1,
    quick: { perClass: 1, classes: ["LR1"] },
    targetVehicleShare: null,
    targetGap: 5,
  },
  {
    tasks: 400,
    folder: "li_lim_400",
    timeLimitS: 30,
    perClass: 1,
    classes: ["LC1", "LR2", "LRC1"],
    quick: { perClass: 1, classes: ["LRC1"] },
    targetVehicleShare: null,
    targetGap: 5,
  },
  {
    tasks: 600,
    folder: "li_lim_600",
    timeLimitS: 45,
    perClass: 1,
    classes: ["LR1", "LC2"],
    targetVehicleShare: null,
    targetGap: null,
  },
  {
    tasks: 800,
    folder: "li_lim_800",
    timeLimitS: 50,
    perClass: 1,
    classes: ["LRC2", "LR1"],
    targetVehicleShare: null,
    targetGap: null,
  },
  {
    tasks: 1000,
    folder: "li_lim_1000",
    timeLimitS: 60,
    perClass: 1,
    classes: ["LC1", "LR2", "LRC1"],
    quick: { perClass: 1, classes: ["LR2"] },
    targetVehicleShare: null,
    targetGap: 10,
  },
];

/** "lrc104" → "LRC1"; "LRC1_2_4" → "LRC1". */
function classOf(name: string): string {
  const m = /^([a-z]+\d)/i.exec(name.includes("_") ? name.split("_")[0]! : name);
  return (m?.[1] ?? name).toUpperCase();
}

/** Instance number inside its class, for a stable order ("lc104" → 4, "LC1_2_10" → 10). */
function indexOf(name: string): number {
  const parts = name.split("_");
  return parts.length > 1 ? Number(parts[2]) : Number(name.slice(-2));
}

function sample(names: string[], size: Size, env: string | undefined): string[] {
  const byClass = new Map<string, string[]>();
  for (const n of names) byClass.set(classOf(n), [...(byClass.get(classOf(n)) ?? []), n]);
  const picked: string[] = [];
  for (const [cls, members] of [...byClass].sort(([a], [b]) => a.localeCompare(b))) {
    members.sort((a, b) => indexOf(a) - indexOf(b));
    if (env === "all") {
      picked.push(...members);
      continue;
    }
    if (env === "quick") {
      if (!size.quick || (size.quick.classes && !size.quick.classes.includes(cls))) continue;
    } else if (env === undefined && size.classes && !size.classes.includes(cls)) continue;
    const perClass =
      env === "quick" ? size.quick!.perClass : env === undefined ? size.perClass : Number(env);
    // Spread the picks evenly over the class, from the middle of each stretch: instance 1 of a
    // class has its tightest windows, which makes it one of the easier ones.
    for (let k = 0; k < Math.min(perClass, members.length); k++) {
      picked.push(members[Math.floor(((k + 0.5) * members.length) / perClass)]!);
    }
  }
  return picked;
}

const mean = (xs: number[]) =>
  xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;

export async function benchPlan(): Promise<ResultRow[]> {
  const dir =
    process.env.LI_LIM_DIR ??
    fileURLToPath(new URL("../../shared/data/li_lim_pdptw/", import.meta.url));
  const bks = parseBestKnown(await readFile(`${dir}/BKS.json`, "utf8"));
  const seed = Number(process.env.BENCH_PLAN_SEED ?? 1);
  const wanted = process.env.BENCH_PLAN_SIZES?.split(",").map(Number);
  const rows: ResultRow[] = [];
  for (const size of SIZES) {
    if (wanted && !wanted.includes(size.tasks)) continue;
    const files = (await readdir(`${dir}/${size.folder}`)).filter((f) => f.endsWith(".txt"));
    const names = sample(
      files.map((f) => f.replace(/\.txt$/, "")),
      size,
      process.env.BENCH_PLAN_SAMPLE,
    );
    if (names.length === 0) continue; // not in this sample
    const hits: boolean[] = [];
    const gaps: number[] = [];
    const extra: number[] = [];
    const seconds: number[] = [];
    let infeasible = 0;
    console.log(
      `-- ${size.tasks} tasks: ${names.length} instances, ${size.timeLimitS} s each, seed ${seed}`,
    );
    for (const name of names) {
      const instance = parseLiLim(
        await readFile(`${dir}/${size.folder}/${name}.txt`, "utf8"),
        name,
      );
      const best = bks.get(name);
      const started = performance.now();
      // 98 % of the target as the budget: the iteration under way when it runs out still finishes.
      const result = solve(instance, { seed, timeLimitMs: size.timeLimitS * 980 });
      const elapsed = (performance.now() - started) / 1000;
      const check = checkSolution(instance, result.routes);
      if (!check.feasible) infeasible++;
      seconds.push(elapsed);
      const hit = best !== undefined && check.vehicles <= best.vehicles;
      hits.push(hit);
      const gap = best ? (check.cost / best.cost - 1) * 100 : Number.NaN;
      if (best && check.vehicles === best.vehicles) gaps.push(gap);
      if (best && check.vehicles > best.vehicles) extra.push(check.vehicles - best.vehicles);
      console.log(
        `${name.padEnd(11)} vehicles ${check.vehicles} (bks ${best?.vehicles ?? "?"}) distance ${check.cost.toFixed(2)} (bks ${best?.cost ?? "?"}, gap ${gap.toFixed(2)} %) ${elapsed.toFixed(1)} s ${check.feasible ? "feasible" : `INFEASIBLE: ${check.violations[0]?.detail}`} [${result.trace.construction}→${result.trace.afterElimination}→${result.trace.final} vehicles, ${result.iterations} steps]`,
      );
    }
    const share = (100 * hits.filter(Boolean).length) / hits.length;
    const bench = "plan";
    rows.push(
      {
        bench,
        figure: `${size.tasks} tasks: feasible plans (${names.length} instances)`,
        value: (100 * (names.length - infeasible)) / names.length,
        unit: "%",
        target: 100,
        better: "higher",
      },
      {
        bench,
        figure: `${size.tasks} tasks: best-known vehicle count reached`,
        value: share,
        unit: "%",
        target: size.targetVehicleShare,
        better: "higher",
      },
      {
        bench,
        figure: `${size.tasks} tasks: mean distance gap, ${gaps.length} instances at best-known vehicles`,
        value: mean(gaps),
        unit: "%",
        target: size.targetGap,
        better: "lower",
      },
      {
        bench,
        figure: `${size.tasks} tasks: mean extra vehicles, ${extra.length} instances above best-known`,
        value: extra.length === 0 ? 0 : mean(extra),
        unit: "vehicles",
        target: null,
        better: "lower",
      },
      {
        bench,
        figure: `${size.tasks} tasks: mean time per instance`,
        value: mean(seconds),
        unit: "s",
        target: size.timeLimitS,
        better: "lower",
      },
    );
  }
  return rows;
}
