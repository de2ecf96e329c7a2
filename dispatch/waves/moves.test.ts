import { describe, expect, it } from "vitest";
import { checkSolution } from "./check.ts";
import { cheapestEjection, perturb, vehicleLowerBound } from "./eliminate.ts";
import { repair } from "./insertion.ts";
import { Plan, SearchContext, bestInsertion } from "./plan-state.ts";
import type { InsertionPosition } from "./plan-state.ts";
import {
  placedRequests,
  randomRemoval,
  removalGain,
  selectRank,
  shawRemoval,
  worstRemoval,
} from "./removal.ts";
import { Rng } from "./rng.ts";
import { randomInstance } from "./testing.ts";
import type { PdptwInstance } from "./types.ts";

/** A complete plan built by regret insertion, opening routes as needed. */
function constructed(instance: PdptwInstance, seed = 1): Plan {
  const plan = new Plan(new SearchContext(instance));
  plan.bank = Array.from(plan.ctx.pickups);
  repair(plan, new Rng(seed), { regret: 2, noise: 0, openRoutes: true });
  return plan;
}

function routeCost(instance: PdptwInstance, route: number[]): number {
  return checkSolution(instance, [route], { requireAll: false }).cost;
}

/** Every place for request p in `route` (stops without depot), by trying each one with the checker. */
function exhaustiveBest(instance: PdptwInstance, route: number[], p: number): number {
  const d = instance.partner[p]!;
  const base = routeCost(instance, route);
  let best = Infinity;
  for (let i = 0; i <= route.length; i++) {
    for (let j = i; j <= route.length; j++) {
      const trial = [...route.slice(0, i), p, ...route.slice(i, j), d, ...route.slice(j)];
      const report = checkSolution(instance, [trial], { requireAll: false });
      if (report.feasible) best = Math.min(best, report.cost - base);
    }
  }
  return best;
}

const feasibleAndPartial = (plan: Plan) =>
  checkSolution(plan.ctx.instance, plan.toRoutes(), { requireAll: false });

describe("bestInsertion", () => {
  it("finds the same cheapest feasible place as trying every place", () => {
    let compared = 0;
    let feasibleFound = 0;
    for (let seed = 1; seed <= 25; seed++) {
      const instance = randomInstance(seed, 6);
      const plan = constructed(instance);
      const out: InsertionPosition = { delta: 0, i: -1, j: -1 };
      for (const route of plan.routes) {
        const stops = route.nodes.slice(1, -1);
        for (const p of plan.ctx.pickups) {
          if (stops.includes(p)) continue;
          const fast = bestInsertion(plan.ctx, route, p, out);
          const slow = exhaustiveBest(instance, stops, p);
          compared++;
          if (slow === Infinity) {
            expect(fast).toBe(Infinity);
            continue;
          }
          feasibleFound++;
          expect(fast).toBeCloseTo(slow, 6);
          // The place it reports gives that cost and is feasible.
          const trial = [...stops];
          trial.splice(out.j, 0, instance.partner[p]!);
          trial.splice(out.i, 0, p);
          const report = checkSolution(instance, [trial], { requireAll: false });
          expect(report.feasible).toBe(true);
          expect(report.cost - routeCost(instance, stops)).toBeCloseTo(fast, 6);
        }
      }
    }
    expect(compared).toBeGreaterThan(100);
    expect(feasibleFound).toBeGreaterThan(20);
  });

  it("lists every feasible place when asked to collect them", () => {
    const instance = randomInstance(7, 6);
    const plan = constructed(instance);
    const out: InsertionPosition = { delta: 0, i: -1, j: -1 };
    for (const route of plan.routes) {
      const stops = route.nodes.slice(1, -1);
      for (const p of plan.ctx.pickups) {
        if (stops.includes(p)) continue;
        const collected: number[] = [];
        bestInsertion(plan.ctx, route, p, out, collected);
        let expected = 0;
        for (let i = 0; i <= stops.length; i++) {
          for (let j = i; j <= stops.length; j++) {
            const trial = [
              ...stops.slice(0, i),
              p,
              ...stops.slice(i, j),
              instance.partner[p]!,
              ...stops.slice(j),
            ];
            if (checkSolution(instance, [trial], { requireAll: false }).feasible) expected++;
          }
        }
        expect(collected.length / 2).toBe(expected);
      }
    }
  });
});

describe("plan moves", () => {
  it("insert and remove keep positions, schedules and cost in step with the routes", () => {
    const instance = randomInstance(3, 8);
    const plan = constructed(instance);
    const p = plan.routes.flatMap((r) => r.nodes).find((n) => plan.ctx.isPickup[n] === 1)!;
    const before = plan.cost();
    const gain = removalGain(plan, p);
    plan.remove(p);
    expect(plan.routeOf[p]).toBe(-1);
    expect(plan.cost()).toBeCloseTo(before - gain, 9);
    for (const [r, route] of plan.routes.entries()) {
      route.nodes.slice(1, -1).forEach((n, k) => {
        expect(plan.routeOf[n]).toBe(r);
        expect(plan.positionOf[n]).toBe(k + 1);
      });
      expect(route.cost).toBeCloseTo(routeCost(instance, route.nodes.slice(1, -1)), 9);
    }
    plan.bank.push(p);
    repair(plan, new Rng(1), { regret: 1, noise: 0, openRoutes: true });
    expect(plan.bank).toEqual([]);
    expect(checkSolution(instance, plan.toRoutes()).feasible).toBe(true);
  });

  it.each([
    ["random", randomRemoval],
    ["Shaw", shawRemoval],
    ["worst", worstRemoval],
  ])("%s removal takes out exactly q requests into the bank", (_, removal) => {
    const instance = randomInstance(11, 10);
    const plan = constructed(instance);
    const placedBefore = placedRequests(plan).length;
    removal(plan, 4, new Rng(5));
    expect(plan.bank).toHaveLength(4);
    expect(new Set(plan.bank).size).toBe(4);
    expect(placedRequests(plan)).toHaveLength(placedBefore - 4);
    for (const p of plan.bank) expect(plan.routeOf[p]).toBe(-1);
    expect(feasibleAndPartial(plan).feasible).toBe(true);
  });

  it("worst removal prefers the request whose removal saves most", () => {
    const instance = randomInstance(13, 10);
    const plan = constructed(instance);
    const gains = placedRequests(plan).map((p) => ({ p, gain: removalGain(plan, p) }));
    const top = gains.sort((a, b) => b.gain - a.gain)[0]!.p;
    // With a very high randomness exponent the pick is the top of the list.
    worstRemoval(plan, 1, new Rng(1), 1000);
    expect(plan.bank).toEqual([top]);
  });

  it.each([1, 2, 3, 4])(
    "regret-%i repair puts every request back into a feasible plan",
    (regret) => {
      const instance = randomInstance(17, 12);
      const plan = constructed(instance);
      randomRemoval(plan, 6, new Rng(2));
      repair(plan, new Rng(3), { regret, noise: regret === 3 ? 5 : 0, openRoutes: true });
      expect(plan.bank).toEqual([]);
      expect(checkSolution(instance, plan.toRoutes()).feasible).toBe(true);
    },
  );

  it("repair without new routes leaves what fits nowhere in the bank", () => {
    const instance = randomInstance(19, 10);
    const plan = constructed(instance);
    plan.compact();
    const victim = plan.routes[0]!.nodes.filter((n) => plan.ctx.isPickup[n] === 1);
    for (const p of victim) {
      plan.remove(p);
      plan.bank.push(p);
    }
    plan.compact();
    repair(plan, new Rng(3), { regret: 2, noise: 0, openRoutes: false });
    const report = checkSolution(instance, plan.toRoutes(), { requireAll: false });
    expect(report.feasible).toBe(true);
    expect(placedRequests(plan).length + plan.bank.length).toBe(plan.ctx.pickups.length);
  });

  it("an ejection makes room for the request at the least penalty", () => {
    let ejections = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const instance = randomInstance(seed, 8);
      const plan = constructed(instance);
      plan.compact();
      if (plan.routes.length < 2) continue;
      const route = plan.routes[0]!;
      const h = route.nodes.find((n) => plan.ctx.isPickup[n] === 1)!;
      plan.remove(h);
      plan.compact();
      const penalty = new Int32Array(instance.size).fill(1);
      const ejection = cheapestEjection(plan, h, penalty, 2, new Rng(seed));
      if (ejection === null) continue;
      ejections++;
      expect(ejection.ejected.length).toBeGreaterThanOrEqual(1);
      expect(ejection.ejected.length).toBeLessThanOrEqual(2);
      for (const e of ejection.ejected) expect(plan.routeOf[e]).toBe(ejection.route);
      for (const e of ejection.ejected) plan.remove(e);
      const out: InsertionPosition = { delta: 0, i: -1, j: -1 };
      expect(bestInsertion(plan.ctx, plan.routes[ejection.route]!, h, out)).toBeLessThan(Infinity);
      plan.insert(h, ejection.route, out.i, out.j);
      expect(feasibleAndPartial(plan).feasible).toBe(true);
    }
    expect(ejections).toBeGreaterThan(3);
  });

  it("never ejects a request with a higher penalty when a cheaper one does", () => {
    const instance = randomInstance(23, 8);
    const plan = constructed(instance);
    plan.compact();
    const h = plan.routes[0]!.nodes.find((n) => plan.ctx.isPickup[n] === 1)!;
    plan.remove(h);
    const penalty = new Int32Array(instance.size).fill(1);
    const first = cheapestEjection(plan, h, penalty, 1, new Rng(1));
    expect(first).not.toBeNull();
    if (first === null) return;
    // Make the chosen request expensive: the next choice must cost no more than 1 if any other works.
    penalty[first.ejected[0]!] = 100;
    const second = cheapestEjection(plan, h, penalty, 1, new Rng(1));
    expect(second).not.toBeNull();
    const cost = second!.ejected.reduce((s, e) => s + penalty[e]!, 0);
    expect(cost === 1 || second!.ejected[0] === first.ejected[0]).toBe(true);
  });

  it("perturbation moves requests but keeps the plan complete and feasible", () => {
    const instance = randomInstance(29, 12);
    const plan = constructed(instance);
    const before = JSON.stringify(plan.toRoutes());
    perturb(plan, new Rng(4), 30);
    expect(plan.bank).toEqual([]);
    expect(checkSolution(instance, plan.toRoutes()).feasible).toBe(true);
    expect(JSON.stringify(plan.toRoutes())).not.toBe(before);
  });

  it("bounds vehicles from below by one, not by total load over capacity", () => {
    // Vans unload on the way: total load over capacity is no lower bound for pickup and delivery.
    const instance = randomInstance(1035, 4);
    const ctx = new SearchContext(instance);
    let total = 0;
    for (const p of ctx.pickups) total += instance.demand[p]!;
    expect(total).toBeGreaterThan(instance.capacity[0]!);
    expect(vehicleLowerBound(ctx)).toBe(1);
  });
});

describe("selectRank", () => {
  it("puts at each rank what sorting by key (ties by id) would put there", () => {
    const rng = new Rng(9);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + rng.int(40);
      const key = new Float64Array(n);
      for (let i = 0; i < n; i++) key[i] = rng.int(8);
      const sorted = Array.from({ length: n }, (_, i) => i).sort(
        (a, b) => key[a]! - key[b]! || a - b,
      );
      const rank = rng.int(n);
      const items = Array.from({ length: n }, (_, i) => i).reverse();
      selectRank(items, rank, key);
      expect(items[rank]).toBe(sorted[rank]);
      expect([...items].sort((a, b) => a - b)).toEqual(sorted.slice().sort((a, b) => a - b));
    }
  });
});

describe("Rng", () => {
  it("repeats its sequence for a seed and differs across seeds", () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
    for (let k = 0; k < 1000; k++) {
      const v = a.int(7);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(7);
    }
  });
});
