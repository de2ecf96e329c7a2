import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkSolution } from "./check.ts";
import { parseBestKnown, parseLiLim } from "./li-lim.ts";
import { InvalidInstanceError } from "./model.ts";

const DATA = fileURLToPath(new URL("../../../shared/data/li_lim_pdptw/", import.meta.url));

describe("parseLiLim", () => {
  it("reads lc101: depot, pairs, windows and unrounded Euclidean distances", () => {
    const instance = parseLiLim(readFileSync(`${DATA}/li_lim_100/lc101.txt`, "utf8"), "lc101");
    expect(instance.size).toBe(107);
    expect(instance.vehicles).toBe(25);
    expect(Array.from(instance.capacity)).toEqual([200]);
    // "1 45 68 -10 912 967 90 11 0": a delivery whose pickup is 11.
    expect(instance.isPickup[1]).toBe(0);
    expect(instance.partner[1]).toBe(11);
    expect(instance.partner[11]).toBe(1);
    expect(instance.demand[1]).toBe(-10);
    expect([instance.ready[1], instance.due[1], instance.service[1]]).toEqual([912, 967, 90]);
    expect(instance.due[0]).toBe(1236);
    // depot (40,50) → node 1 (45,68)
    expect(instance.time[1]).toBeCloseTo(Math.hypot(5, 18), 12);
    expect(instance.cost).toBe(instance.time);
    let pickups = 0;
    for (let i = 1; i < instance.size; i++) {
      if (instance.isPickup[i] === 1) {
        pickups++;
        expect(instance.demand[i]).toBe(-instance.demand[instance.partner[i]!]!);
      }
    }
    expect(pickups).toBe(53);
  });

  it("agrees with BKS.json on the best-known convention (the published lc101 routes cost 828.94)", () => {
    const instance = parseLiLim(readFileSync(`${DATA}/li_lim_100/lc101.txt`, "utf8"), "lc101");
    const best = parseBestKnown(readFileSync(`${DATA}/BKS.json`, "utf8")).get("lc101")!;
    expect(best).toEqual({ vehicles: 10, cost: 828.94 });
    // One van per pickup-delivery pair, ignoring the fleet, costs more than the best known.
    const routes: number[][] = [];
    for (let i = 1; i < instance.size; i++) {
      if (instance.isPickup[i] === 1) routes.push([i, instance.partner[i]!]);
    }
    const report = checkSolution(instance, routes);
    expect(report.violations.every((v) => v.kind === "fleet")).toBe(true);
    expect(report.cost).toBeGreaterThan(best.cost);
  });

  it("refuses a task whose sibling does not point back", () => {
    const text =
      "2\t10\t1\n0\t0\t0\t0\t0\t100\t0\t0\t0\n1\t1\t1\t5\t0\t50\t0\t0\t2\n2\t2\t2\t-5\t0\t50\t0\t0\t0\n";
    expect(() => parseLiLim(text, "broken")).toThrow(InvalidInstanceError);
  });
});
