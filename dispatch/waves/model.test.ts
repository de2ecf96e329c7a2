import { describe, expect, it } from "vitest";
import { checkSolution } from "./check.ts";
import { InvalidInstanceError, buildInstance, euclideanTravel } from "./model.ts";
import type { PdptwSpec, RequestSpec } from "./model.ts";
import { solve } from "./solver.ts";

/** A store at place 1 and four pickup points at places 2..5 on a line; the depot at 0. */
function wave(requests: RequestSpec[], compartments?: Record<string, number>): PdptwSpec {
  return {
    name: "wave",
    depot: { at: 0, ready: 0, due: 10_000 },
    requests,
    fleet: {
      vehicles: 4,
      capacity: { weight: 100, volume: 10 },
      ...(compartments ? { compartments } : {}),
    },
    travel: euclideanTravel([0, 10, 20, 30, 40, 50].map((x) => ({ x, y: 0 }))),
  };
}

const order = (to: number, load: Record<string, number>, compartment?: string): RequestSpec => ({
  pickup: { at: 1, ready: 0, due: 10_000, service: 5 },
  delivery: { at: to, ready: 0, due: 10_000, service: 5 },
  load,
  ...(compartment ? { compartment } : {}),
});

describe("buildInstance", () => {
  it("numbers request k's pickup 2k+1 and delivery 2k+2 with loads per dimension", () => {
    const instance = buildInstance(
      wave([order(2, { weight: 7, volume: 1 }), order(3, { volume: 2 })]),
    );
    expect(instance.size).toBe(5);
    expect(instance.dimensions).toEqual(["weight", "volume"]);
    expect(Array.from(instance.demand)).toEqual([0, 0, 7, 1, -7, -1, 0, 2, -0, -2]);
    expect(Array.from(instance.partner)).toEqual([-1, 2, 1, 4, 3]);
    expect(instance.time[1 * 5 + 2]).toBe(10);
  });

  it("closes travel times under shortest paths (removing a stop never delays the next)", () => {
    const time = [0, 10, 100, 10, 0, 10, 100, 10, 0];
    const instance = buildInstance({
      name: "closure",
      depot: { at: 1, ready: 0, due: 1000 },
      requests: [
        {
          pickup: { at: 0, ready: 0, due: 1000, service: 0 },
          delivery: { at: 2, ready: 0, due: 1000, service: 0 },
          load: { weight: 1 },
        },
      ],
      fleet: { vehicles: 1, capacity: { weight: 1 } },
      travel: { locations: 3, time },
    });
    // pickup (place 0) → delivery (place 2): 100 direct, 20 through the depot (place 1).
    expect(instance.time[1 * 3 + 2]).toBe(20);
    expect(instance.cost[1 * 3 + 2]).toBe(100);
  });

  it("refuses loads in unknown dimensions and compartments no van has", () => {
    expect(() => buildInstance(wave([order(2, { pallets: 1 })]))).toThrow(InvalidInstanceError);
    expect(() => buildInstance(wave([order(2, { volume: 1 }, "frozen")], { chilled: 2 }))).toThrow(
      InvalidInstanceError,
    );
  });
});

describe("planning a wave with compartments", () => {
  it("keeps each compartment within its room, using more vans when it binds", () => {
    // Four frozen orders of 1 m³: the van has 10 m³ but only 2 m³ frozen, so at most two at once.
    const frozen = [2, 3, 4, 5].map((to) => order(to, { weight: 10, volume: 1 }, "frozen"));
    const tight = buildInstance(wave(frozen, { frozen: 2, chilled: 3 }));
    const roomy = buildInstance(wave(frozen, { frozen: 4, chilled: 3 }));
    const options = { seed: 1, iterations: 400, timeLimitMs: Infinity };
    const tightPlan = solve(tight, options);
    const roomyPlan = solve(roomy, options);
    expect(checkSolution(tight, tightPlan.routes).feasible).toBe(true);
    expect(checkSolution(roomy, roomyPlan.routes).feasible).toBe(true);
    expect(roomyPlan.vehicles).toBe(1);
    // One van can still do it by going back to the store between drops; the checker confirms
    // that no moment has more than two frozen orders aboard.
    for (const route of tightPlan.routes) {
      let aboard = 0;
      for (const node of route) {
        aboard += tight.isPickup[node] === 1 ? 1 : -1;
        expect(aboard).toBeLessThanOrEqual(2);
      }
    }
    expect(tightPlan.cost).toBeGreaterThan(roomyPlan.cost);
  });
});
