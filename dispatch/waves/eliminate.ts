/**
 * Vehicle minimisation by route elimination with an ejection pool, after Nagata & Kobayashi
 * (2010) for the PDPTW: take one route out, put its requests in the pool, and insert them back
 * one at a time. A request that fits nowhere goes in anyway, ejecting up to `maxEjections`
 * requests from one route, chosen to minimise the sum of their penalty counters (a counter
 * grows each time its request had to be forced in, so requests that are hard to place stop
 * being the ones thrown out). After each ejection, random feasible relocations shake the plan.
 * The attempt succeeds when the pool empties; the budget ends it otherwise.
 */
import { improve } from "./alns.ts";
import type { AlnsOptions } from "./alns.ts";
import type { Budget } from "./budget.ts";
import { Route, bestInsertion, refreshRoute } from "./plan-state.ts";
import type { InsertionPosition, Plan, SearchContext } from "./plan-state.ts";
import { placedRequests } from "./removal.ts";
import type { Rng } from "./rng.ts";

const scratch: InsertionPosition = { delta: 0, i: -1, j: -1 };

/**
 * Fewest vehicles any plan can use: one if there is anything to carry. (Total load over capacity
 * is no bound here: a van unloads on the way.)
 */
export function vehicleLowerBound(ctx: SearchContext): number {
  return ctx.pickups.length > 0 ? 1 : 0;
}

export interface EliminationOptions extends AlnsOptions {
  /** Stop once `budget.progress()` reaches this. */
  until: number;
  /** Share of the whole budget the ejection pool gets per attempt before ALNS takes over. */
  poolShare: number;
  maxEjections: number;
  perturbation: number;
}

/** Removes routes from a complete plan while the budget lasts; returns the best complete plan. */
export function eliminateRoutes(
  start: Plan,
  rng: Rng,
  budget: Budget,
  options: EliminationOptions,
): Plan {
  let best = start.clone();
  best.compact();
  const bound = vehicleLowerBound(start.ctx);
  while (budget.progress() < options.until && best.routes.length > bound) {
    const attempt = best.clone();
    const victim = smallestRoute(attempt, rng);
    const pool = placedRequests(attempt).filter((p) => attempt.routeOf[p] === victim);
    for (const p of pool) attempt.remove(p);
    attempt.compact();
    const poolUntil = Math.min(options.until, budget.progress() + options.poolShare);
    if (emptyPool(attempt, pool, rng, budget, poolUntil, options)) {
      best = attempt;
      continue;
    }
    // The pool did not empty in its share: let ALNS (Ropke & Pisinger's vehicle minimisation)
    // try to place what is left, at one route fewer, until the phase ends.
    attempt.bank.push(...pool);
    const rescued = improve(attempt, rng, budget, { ...options, stopWhenComplete: true });
    if (rescued.bank.length > 0) break;
    best = rescued;
    best.compact();
  }
  return best;
}

/** The route with the fewest stops (ties at random): the fewest requests to find room for. */
function smallestRoute(plan: Plan, rng: Rng): number {
  let best = -1;
  let ties = 0;
  for (let r = 0; r < plan.routes.length; r++) {
    const n = plan.routes[r]!.nodes.length;
    const b = best === -1 ? Infinity : plan.routes[best]!.nodes.length;
    if (n < b) {
      best = r;
      ties = 1;
    } else if (n === b && rng.int(++ties) === 0) {
      best = r;
    }
  }
  return best;
}

function emptyPool(
  plan: Plan,
  pool: number[],
  rng: Rng,
  budget: Budget,
  until: number,
  options: EliminationOptions,
): boolean {
  const penalty = new Int32Array(plan.ctx.size).fill(1);
  while (pool.length > 0) {
    if (budget.progress() >= until) return false;
    budget.tick();
    const h = pool.pop()!;
    if (insertCheapest(plan, h)) continue;
    const ejection = cheapestEjection(plan, h, penalty, options.maxEjections, rng);
    if (ejection === null) {
      // Fits nowhere even with ejections: try again later, after the plan has moved.
      pool.unshift(h);
    } else {
      for (const e of ejection.ejected) {
        plan.remove(e);
        pool.push(e);
      }
      const route = plan.routes[ejection.route]!;
      bestInsertion(plan.ctx, route, h, scratch);
      plan.insert(h, ejection.route, scratch.i, scratch.j);
      penalty[h]!++;
    }
    perturb(plan, rng, options.perturbation);
    while (plan.bank.length > 0) pool.push(plan.bank.pop()!);
  }
  return true;
}

/** Inserts request `p` at its cheapest feasible place; false if there is none. */
export function insertCheapest(plan: Plan, p: number): boolean {
  let best = Infinity;
  let bestRoute = -1;
  let bi = -1;
  let bj = -1;
  for (let r = 0; r < plan.routes.length; r++) {
    const v = bestInsertion(plan.ctx, plan.routes[r]!, p, scratch);
    if (v < best) {
      best = v;
      bestRoute = r;
      bi = scratch.i;
      bj = scratch.j;
    }
  }
  if (bestRoute === -1) return false;
  plan.insert(p, bestRoute, bi, bj);
  return true;
}

interface Ejection {
  route: number;
  ejected: number[];
}

/**
 * The route and the set of at most `maxEjections` of its requests whose ejection lets `h` in,
 * with the least total penalty (ties broken at random). Subsets are tried in order of penalty
 * and pruned as soon as they cannot beat the best found.
 */
export function cheapestEjection(
  plan: Plan,
  h: number,
  penalty: Int32Array,
  maxEjections: number,
  rng: Rng,
): Ejection | null {
  const ctx = plan.ctx;
  let bestSum = Infinity;
  let ties = 0;
  let found: Ejection | null = null;
  const trial = new Route();
  const consider = (r: number, ejected: number[], sum: number) => {
    const nodes = plan.routes[r]!.nodes;
    trial.nodes.length = 0;
    for (const n of nodes) {
      let out = false;
      for (const e of ejected) if (n === e || n === ctx.partner[e]) out = true;
      if (!out) trial.nodes.push(n);
    }
    refreshRoute(ctx, trial);
    if (bestInsertion(ctx, trial, h, scratch) === Infinity) return;
    if (sum < bestSum) {
      bestSum = sum;
      ties = 1;
      found = { route: r, ejected: ejected.slice() };
    } else if (rng.int(++ties) === 0) {
      found = { route: r, ejected: ejected.slice() };
    }
  };
  for (let r = 0; r < plan.routes.length; r++) {
    const nodes = plan.routes[r]!.nodes;
    const members: number[] = [];
    for (let k = 1; k < nodes.length - 1; k++) {
      if (ctx.isPickup[nodes[k]!] === 1) members.push(nodes[k]!);
    }
    members.sort((a, b) => penalty[a]! - penalty[b]!);
    for (let x = 0; x < members.length; x++) {
      const a = members[x]!;
      if (penalty[a]! > bestSum) break;
      consider(r, [a], penalty[a]!);
    }
    if (maxEjections < 2) continue;
    for (let x = 0; x < members.length; x++) {
      const a = members[x]!;
      if (penalty[a]! + penalty[members[x + 1] ?? a]! > bestSum) break;
      for (let y = x + 1; y < members.length; y++) {
        const b = members[y]!;
        const sum = penalty[a]! + penalty[b]!;
        if (sum > bestSum) break;
        consider(r, [a, b], sum);
      }
    }
  }
  return found;
}

/**
 * Moves `moves` random requests each to a random feasible place (possibly where it was). A
 * request with no place left (possible only on a non-metric matrix) goes to the bank.
 */
export function perturb(plan: Plan, rng: Rng, moves: number): void {
  const ctx = plan.ctx;
  const placed = placedRequests(plan);
  if (placed.length === 0) return;
  const positions: number[] = [];
  const routeStarts: number[] = [];
  for (let m = 0; m < moves; m++) {
    const p = placed[rng.int(placed.length)]!;
    plan.remove(p);
    positions.length = 0;
    routeStarts.length = 0;
    for (let r = 0; r < plan.routes.length; r++) {
      routeStarts.push(positions.length);
      bestInsertion(ctx, plan.routes[r]!, p, scratch, positions);
    }
    if (positions.length === 0) {
      // Only on a non-metric matrix: the old place may no longer fit. Put it back at the cheapest.
      if (!insertCheapest(plan, p)) plan.bank.push(p);
      continue;
    }
    const pick = rng.int(positions.length / 2) * 2;
    let r = routeStarts.length - 1;
    while (routeStarts[r]! > pick) r--;
    plan.insert(p, r, positions[pick]!, positions[pick + 1]!);
  }
}
