import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkSolution } from "./check.ts";
import { parseBestKnown, parseLiLim } from "./li-lim.ts";
import { buildInstance, euclideanTravel } from "./model.ts";
import { InvalidPlanOptionsError, solve } from "./solver.ts";
import { bruteForce, randomInstance } from "./testing.ts";

const DATA = fileURLToPath(new URL("../../../shared/data/li_lim_pdptw/", import.meta.url));
const liLim = (folder: string, name: string) =>
  parseLiLim(readFileSync(`${DATA}/${folder}/${name}.txt`, "utf8"), name);

describe("solve against brute force", () => {
  it("finds the optimum (vehicles, then cost) of random instances with 2 to 4 requests", () => {
    let cases = 0;
    let multiRoute = 0;
    for (let seed = 1; seed <= 36; seed++) {
      const requests = 2 + (seed % 3);
      const instance = randomInstance(1000 + seed, requests);
      const exact = bruteForce(instance)!;
      expect(exact).not.toBeNull();
      const result = solve(instance, { seed, iterations: 300, timeLimitMs: Infinity });
      const report = checkSolution(instance, result.routes);
      expect(report.violations).toEqual([]);
      expect(report.cost).toBeCloseTo(result.cost, 6);
      expect({ seed, vehicles: result.vehicles }).toEqual({ seed, vehicles: exact.vehicles });
      expect(result.cost).toBeCloseTo(exact.cost, 6);
      cases++;
      if (exact.vehicles > 1) multiRoute++;
    }
    expect(cases).toBe(36);
    expect(multiRoute).toBeGreaterThan(5);
  });

  it("reports requests that no van can serve instead of failing", () => {
    const travel = euclideanTravel([
      { x: 0, y: 0 },
      { x: 10, y: 0 },
      { x: 20, y: 0 },
      { x: 90, y: 0 },
      { x: 95, y: 0 },
    ]);
    const instance = buildInstance({
      name: "unreachable",
      depot: { at: 0, ready: 0, due: 100 },
      requests: [
        {
          pickup: { at: 1, ready: 0, due: 50, service: 0 },
          delivery: { at: 2, ready: 0, due: 60, service: 0 },
          load: { w: 1 },
        },
        // Its delivery closes before a van could get there.
        {
          pickup: { at: 3, ready: 0, due: 95, service: 0 },
          delivery: { at: 4, ready: 0, due: 20, service: 0 },
          load: { w: 1 },
        },
      ],
      fleet: { vehicles: 2, capacity: { w: 5 } },
      travel,
    });
    const result = solve(instance, { iterations: 50, timeLimitMs: Infinity });
    expect(result.unassigned).toEqual([3]);
    expect(result.routes).toEqual([[1, 2]]);
    expect(checkSolution(instance, result.routes, { requireAll: false }).feasible).toBe(true);
  });

  it("refuses to run without any budget", () => {
    expect(() => solve(randomInstance(1, 2), { timeLimitMs: Infinity })).toThrow(
      InvalidPlanOptionsError,
    );
  });
});

describe("solve on Li & Lim", () => {
  it("plans lr101 (106 tasks) feasibly and close to the best known on a short budget", () => {
    const instance = liLim("li_lim_100", "lr101");
    const best = parseBestKnown(readFileSync(`${DATA}/BKS.json`, "utf8")).get("lr101")!;
    const result = solve(instance, { seed: 3, iterations: 1500, timeLimitMs: Infinity });
    const report = checkSolution(instance, result.routes);
    expect(report.violations).toEqual([]);
    expect(report.cost).toBeCloseTo(result.cost, 6);
    expect(result.unassigned).toEqual([]);
    // Loose bounds: a broken search lands far above these, a working one well inside.
    expect(report.vehicles).toBeLessThanOrEqual(best.vehicles + 1);
    expect(report.cost).toBeLessThan(best.cost * 1.1);
  });

  it("gives the same plan for the same seed and iteration budget, another for another seed", () => {
    const instance = liLim("li_lim_100", "lrc104");
    const a = solve(instance, { seed: 7, iterations: 400, timeLimitMs: Infinity });
    const b = solve(instance, { seed: 7, iterations: 400, timeLimitMs: Infinity });
    const c = solve(instance, { seed: 8, iterations: 400, timeLimitMs: Infinity });
    expect(b.routes).toEqual(a.routes);
    expect(b.cost).toBe(a.cost);
    expect(b.iterations).toBe(a.iterations);
    expect(c.routes).not.toEqual(a.routes);
    for (const r of [a, c]) expect(checkSolution(instance, r.routes).feasible).toBe(true);
  });

  it("stops within its time budget", () => {
    const instance = liLim("li_lim_200", "LC1_2_1");
    const started = performance.now();
    const result = solve(instance, { timeLimitMs: 300 });
    // Not a timing assertion on speed: only that the budget ends the search (generous slack).
    expect(performance.now() - started).toBeLessThan(3000);
    expect(checkSolution(instance, result.routes).feasible).toBe(true);
  });
});
