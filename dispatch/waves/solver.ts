/**
 * The planner: regret-2 construction, then route elimination (fewer vehicles: an ejection pool,
 * then ALNS at one route fewer when the pool does not empty), then ALNS
 * (less travel). Pure and synchronous; run it in a worker (worker.ts) to keep it off the event
 * loop. Deterministic for a seed when bounded by `iterations` only.
 */
import { improve } from "./alns.ts";
import { Budget } from "./budget.ts";
import { eliminateRoutes } from "./eliminate.ts";
import { repair } from "./insertion.ts";
import { Plan, SearchContext } from "./plan-state.ts";
import { Rng } from "./rng.ts";
import type { PdptwInstance, PlanOptions, PlanResult, ResolvedPlanOptions } from "./types.ts";

/** Named error for options the planner cannot run with. */
export class InvalidPlanOptionsError extends Error {
  override readonly name = "InvalidPlanOptionsError";
}

export function resolvePlanOptions(options: PlanOptions = {}): ResolvedPlanOptions {
  const resolved: ResolvedPlanOptions = {
    seed: options.seed ?? 1,
    timeLimitMs: options.timeLimitMs ?? 10_000,
    iterations: options.iterations ?? Infinity,
    eliminationShare: options.eliminationShare ?? 0.5,
    poolShare: options.poolShare ?? 0.1,
    minRemoval: options.minRemoval ?? 4,
    maxRemoval: options.maxRemoval ?? 60,
    perturbation: options.perturbation ?? 20,
    maxEjections: options.maxEjections ?? 2,
    startWorse: options.startWorse ?? 0.01,
  };
  if (!Number.isFinite(resolved.timeLimitMs) && !Number.isFinite(resolved.iterations)) {
    throw new InvalidPlanOptionsError("give a time limit or an iteration budget");
  }
  if (resolved.eliminationShare < 0 || resolved.eliminationShare > 1) {
    throw new InvalidPlanOptionsError("eliminationShare must be within 0..1");
  }
  return resolved;
}

export function solve(instance: PdptwInstance, options: PlanOptions = {}): PlanResult {
  const o = resolvePlanOptions(options);
  const budget = new Budget(o.timeLimitMs, o.iterations);
  const ctx = new SearchContext(instance);
  const rng = new Rng(o.seed);

  let plan = new Plan(ctx);
  plan.bank = Array.from(ctx.pickups);
  repair(plan, rng, { regret: 2, noise: 0, openRoutes: true });
  plan.compact();
  const construction = plan.vehicles();

  if (plan.bank.length === 0) {
    plan = eliminateRoutes(plan, rng, budget, {
      ...o,
      until: o.eliminationShare,
      poolShare: o.poolShare,
    });
  }
  const afterElimination = plan.vehicles();
  plan = improve(plan, rng, budget, o);
  plan.compact();
  const routes = plan.toRoutes();
  return {
    routes,
    vehicles: routes.length,
    cost: plan.cost(),
    unassigned: plan.bank.slice().sort((a, b) => a - b),
    seed: o.seed,
    iterations: budget.steps,
    elapsedMs: budget.elapsedMs(),
    trace: { construction, afterElimination, final: routes.length },
  };
}
