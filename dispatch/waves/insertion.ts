/**
 * Repair: put the bank's requests back into the plan, greedily (cheapest first) or by regret-k
 * (the request that would lose most by waiting goes first). Each request's best insertion into
 * each route is cached and only the column of the route that changed is recomputed, so a repair
 * of m requests over R routes costs m·R evaluations to start and m per step after.
 */
import { newRoute, bestInsertion } from "./plan-state.ts";
import type { InsertionPosition, Plan } from "./plan-state.ts";
import type { Rng } from "./rng.ts";

export interface RepairOptions {
  /** 1 = greedy; k ≥ 2 = regret-k. */
  regret: number;
  /** Noise amplitude added to each insertion cost (0 for none). */
  noise: number;
  /** May open routes beyond the plan's slots, up to the fleet. */
  openRoutes: boolean;
}

const scratch: InsertionPosition = { delta: 0, i: -1, j: -1 };

/** Inserts as many bank requests as fit; the rest stay in `plan.bank`. */
export function repair(plan: Plan, rng: Rng, options: RepairOptions): void {
  const ctx = plan.ctx;
  const requests = plan.bank;
  plan.bank = [];
  const m = requests.length;
  if (m === 0) return;
  if (options.openRoutes && !plan.routes.some((r) => r.empty) && plan.routes.length < ctx.fleet) {
    plan.routes.push(newRoute(ctx));
  }
  const width = options.openRoutes ? Math.max(plan.routes.length, ctx.fleet) : plan.routes.length;
  const delta = new Float64Array(m * width).fill(Infinity);
  const posI = new Int32Array(m * width);
  const posJ = new Int32Array(m * width);
  const active: number[] = [];
  for (let u = 0; u < m; u++) active.push(u);
  const { noise, regret } = options;
  const vehicleCost = ctx.vehicleCost;

  let firstEmpty = plan.routes.findIndex((r) => r.empty);
  const fillColumn = (r: number) => {
    const route = plan.routes[r]!;
    const skip = route.empty && r !== firstEmpty;
    for (const u of active) {
      const cell = u * width + r;
      if (skip) {
        delta[cell] = Infinity;
        continue;
      }
      let v = bestInsertion(ctx, route, requests[u]!, scratch);
      if (v !== Infinity) {
        if (route.empty) v += vehicleCost;
        if (noise > 0) v = Math.max(0, v + noise * (2 * rng.next() - 1));
        posI[cell] = scratch.i;
        posJ[cell] = scratch.j;
      }
      delta[cell] = v;
    }
  };
  for (let r = 0; r < plan.routes.length; r++) fillColumn(r);

  while (active.length > 0) {
    const R = plan.routes.length;
    let chosen = -1;
    let chosenRoute = -1;
    if (regret <= 1) {
      let best = Infinity;
      for (let a = 0; a < active.length; a++) {
        const row = active[a]! * width;
        for (let r = 0; r < R; r++) {
          const v = delta[row + r]!;
          if (v < best) {
            best = v;
            chosen = a;
            chosenRoute = r;
          }
        }
      }
    } else {
      // Regret-k: rank by (routes missing among the k best, then the sum of differences to the best).
      let bestMissing = -1;
      let bestRegret = -Infinity;
      let bestCost = Infinity;
      const top = new Float64Array(regret);
      for (let a = 0; a < active.length; a++) {
        const row = active[a]! * width;
        top.fill(Infinity);
        let topRoute = -1;
        for (let r = 0; r < R; r++) {
          const v = delta[row + r]!;
          if (v >= top[regret - 1]!) continue;
          let h = regret - 1;
          while (h > 0 && top[h - 1]! > v) {
            top[h] = top[h - 1]!;
            h--;
          }
          top[h] = v;
          if (h === 0) topRoute = r;
        }
        const c1 = top[0]!;
        if (c1 === Infinity) continue;
        let missing = 0;
        let sum = 0;
        for (let h = 1; h < regret; h++) {
          if (top[h] === Infinity) missing++;
          else sum += top[h]! - c1;
        }
        if (
          missing > bestMissing ||
          (missing === bestMissing && (sum > bestRegret || (sum === bestRegret && c1 < bestCost)))
        ) {
          bestMissing = missing;
          bestRegret = sum;
          bestCost = c1;
          chosen = a;
          chosenRoute = topRoute;
        }
      }
    }
    if (chosen === -1) break;
    const u = active[chosen]!;
    const cell = u * width + chosenRoute;
    active[chosen] = active[active.length - 1]!;
    active.pop();
    const wasEmpty = plan.routes[chosenRoute]!.empty;
    plan.insert(requests[u]!, chosenRoute, posI[cell]!, posJ[cell]!);
    fillColumn(chosenRoute);
    if (wasEmpty) {
      firstEmpty = plan.routes.findIndex((r) => r.empty);
      if (firstEmpty === -1 && options.openRoutes && plan.routes.length < ctx.fleet) {
        plan.routes.push(newRoute(ctx));
        firstEmpty = plan.routes.length - 1;
      }
      if (firstEmpty !== -1) fillColumn(firstEmpty);
    }
  }
  for (const u of active) plan.bank.push(requests[u]!);
}
