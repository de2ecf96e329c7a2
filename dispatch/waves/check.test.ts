import { describe, expect, it } from "vitest";
import { checkSolution } from "./check.ts";
import { buildInstance, euclideanTravel } from "./model.ts";
import type { PdptwSpec } from "./model.ts";
import type { ViolationKind } from "./types.ts";
import type { PdptwInstance } from "./types.ts";

/**
 * Depot at (0,0); request 1: pickup (10,0) → delivery (20,0); request 2: pickup (0,10) →
 * delivery (0,20). Nodes: 1,2 = request 1; 3,4 = request 2. Six units each, vans carry ten.
 */
function tiny(change: (spec: PdptwSpec) => PdptwSpec = (s) => s): PdptwInstance {
  const wide = { ready: 0, due: 1000, service: 0 };
  const spec: PdptwSpec = {
    name: "tiny",
    depot: { at: 0, ready: 0, due: 1000 },
    requests: [
      { pickup: { at: 1, ...wide }, delivery: { at: 2, ...wide }, load: { weight: 6 } },
      { pickup: { at: 3, ...wide }, delivery: { at: 4, ...wide }, load: { weight: 6 } },
    ],
    fleet: { vehicles: 2, capacity: { weight: 10 } },
    travel: euclideanTravel([
      { x: 0, y: 0 },
      { x: 10, y: 0 },
      { x: 20, y: 0 },
      { x: 0, y: 10 },
      { x: 0, y: 20 },
    ]),
  };
  return buildInstance(change(spec));
}

function kinds(instance: PdptwInstance, routes: number[][]): ViolationKind[] {
  return [...new Set(checkSolution(instance, routes).violations.map((v) => v.kind))].sort();
}

describe("checkSolution", () => {
  it("accepts a feasible plan and recomputes its cost and vehicles", () => {
    const report = checkSolution(tiny(), [[1, 2], [3, 4], []]);
    expect(report.violations).toEqual([]);
    expect(report.feasible).toBe(true);
    expect(report.vehicles).toBe(2);
    expect(report.cost).toBeCloseTo(80, 9);
  });

  it("catches a stop that is not in the instance", () => {
    expect(
      kinds(tiny(), [
        [1, 2, 99],
        [3, 4],
      ]),
    ).toEqual(["unknown-node"]);
  });

  it("catches the depot used as a stop", () => {
    expect(
      kinds(tiny(), [
        [1, 0, 2],
        [3, 4],
      ]),
    ).toEqual(["depot-in-route"]);
  });

  it("catches a stop visited twice", () => {
    expect(
      kinds(tiny(), [
        [1, 2],
        [3, 4, 2],
      ]),
    ).toContain("duplicate");
  });

  it("catches a request nobody serves, unless partial plans are allowed", () => {
    expect(kinds(tiny(), [[1, 2]])).toEqual(["missing"]);
    expect(checkSolution(tiny(), [[1, 2]], { requireAll: false }).feasible).toBe(true);
  });

  it("catches a pickup and its delivery in different vans", () => {
    expect(
      kinds(tiny(), [
        [1, 4],
        [3, 2],
      ]),
    ).toEqual(["split"]);
    expect(kinds(tiny(), [[1], [3, 4]])).toEqual(["split"]);
  });

  it("catches a delivery before its pickup", () => {
    expect(
      kinds(tiny(), [
        [2, 1],
        [3, 4],
      ]),
    ).toEqual(["precedence"]);
  });

  it("catches service after a stop's window closes", () => {
    const late = tiny((s) => ({
      ...s,
      requests: [
        s.requests[0]!,
        { ...s.requests[1]!, delivery: { at: 4, ready: 0, due: 25, service: 0 } },
      ],
    }));
    expect(
      kinds(late, [
        [1, 2],
        [3, 4],
      ]),
    ).toEqual([]);
    expect(kinds(late, [[1, 2, 3, 4]])).toEqual(["time-window"]);
  });

  it("counts waiting for a window to open and service time", () => {
    const waits = tiny((s) => ({
      ...s,
      requests: [
        {
          ...s.requests[0]!,
          pickup: { at: 1, ready: 50, due: 60, service: 5 },
          delivery: { at: 2, ready: 0, due: 64, service: 0 },
        },
        s.requests[1]!,
      ],
    }));
    // Arrives at 10, waits until 50, 5 of service, 10 of travel: delivery at 65 > 64.
    expect(
      kinds(waits, [
        [1, 2],
        [3, 4],
      ]),
    ).toEqual(["time-window"]);
  });

  it("catches a van back at the depot after the horizon", () => {
    const short = tiny((s) => ({ ...s, depot: { at: 0, ready: 0, due: 60 } }));
    expect(
      kinds(short, [
        [1, 2],
        [3, 4],
      ]),
    ).toEqual([]);
    expect(kinds(short, [[1, 2, 3, 4]])).toEqual(["horizon"]);
  });

  it("catches a van loaded over capacity", () => {
    expect(kinds(tiny(), [[1, 3, 2, 4]])).toEqual(["capacity"]);
    expect(kinds(tiny(), [[1, 2, 3, 4]])).toEqual([]);
  });

  it("checks each capacity dimension and each compartment", () => {
    const bulky = tiny((s) => ({
      ...s,
      requests: [
        { ...s.requests[0]!, load: { weight: 1, volume: 3 }, compartment: "frozen" },
        { ...s.requests[1]!, load: { weight: 1, volume: 3 }, compartment: "frozen" },
      ],
      fleet: {
        vehicles: 2,
        capacity: { weight: 10, volume: 8 },
        compartments: { frozen: 4, chilled: 4 },
      },
    }));
    expect(bulky.dimensions).toEqual([
      "weight",
      "volume",
      "compartment:frozen",
      "compartment:chilled",
    ]);
    // Six of volume fits the van, but not its four-unit frozen compartment.
    expect(kinds(bulky, [[1, 3, 2, 4]])).toEqual(["capacity"]);
    expect(kinds(bulky, [[1, 2, 3, 4]])).toEqual([]);
  });

  it("catches more vans than the fleet has", () => {
    const one = tiny((s) => ({ ...s, fleet: { ...s.fleet, vehicles: 1 } }));
    expect(
      kinds(one, [
        [1, 2],
        [3, 4],
      ]),
    ).toEqual(["fleet"]);
  });
});
