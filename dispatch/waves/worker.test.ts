import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkSolution } from "./check.ts";
import { parseLiLim } from "./li-lim.ts";
import { PlannerWorkerError, planInWorker } from "./run-in-worker.ts";
import { solve } from "./solver.ts";

const DATA = fileURLToPath(new URL("../../../shared/data/li_lim_pdptw/", import.meta.url));
const instance = parseLiLim(readFileSync(`${DATA}/li_lim_100/lc201.txt`, "utf8"), "lc201");

describe("planInWorker", () => {
  it("returns the plan the same solve gives in-process, while the event loop keeps turning", async () => {
    const options = { seed: 5, iterations: 600, timeLimitMs: Infinity };
    let turns = 0;
    const timer = setInterval(() => turns++, 5);
    const fromWorker = await planInWorker(instance, options);
    clearInterval(timer);
    const inProcess = solve(instance, options);
    expect(fromWorker.routes).toEqual(inProcess.routes);
    expect(fromWorker.cost).toBe(inProcess.cost);
    expect(checkSolution(instance, fromWorker.routes).feasible).toBe(true);
    // The loop ran while the worker planned (a plan on the main thread would allow no turn).
    expect(turns).toBeGreaterThan(0);
  });

  it("rejects with PlannerWorkerError when aborted, and on bad options", async () => {
    const controller = new AbortController();
    const pending = planInWorker(instance, { timeLimitMs: 20_000 }, controller.signal);
    setTimeout(() => controller.abort(new Error("wave re-planned")), 50);
    await expect(pending).rejects.toBeInstanceOf(PlannerWorkerError);
    await expect(planInWorker(instance, { timeLimitMs: Infinity })).rejects.toBeInstanceOf(
      PlannerWorkerError,
    );
  });
});
