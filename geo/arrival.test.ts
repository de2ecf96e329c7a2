import { describe, expect, it } from "vitest";
import { ArrivalDetector, arrivalStep, arrivalDefaults, initialArrivalState } from "./index.ts";
import type { ArrivalState } from "./index.ts";
import { offset } from "./test-support.ts";

const STORE = { lat: 25.0406, lng: 102.7123 };
const T0 = Date.parse("2024-03-04T11:00:00+08:00");

/** Feeds fixes at `meters` north of the store, one every 5 s, and returns the updates. */
function walk(detector: ArrivalDetector, metersNorth: number[], start = T0) {
  return metersNorth.map((m, i) =>
    detector.update({ ...offset(STORE, m, 0), at: start + i * 5000, accuracy: 10 }),
  );
}

describe("ArrivalDetector", () => {
  it("reports arrival once the courier has stayed inside the radius for the dwell time", () => {
    const d = new ArrivalDetector(STORE, { radiusMeters: 50, dwellSeconds: 20 });
    const updates = walk(d, [300, 150, 40, 30, 20, 20, 20, 20, 20]);
    const arrivedAt = updates.findIndex((u) => u.arrived);
    // Inside from index 2 (t = 10 s); 20 s later is index 6.
    expect(arrivedAt).toBe(6);
    expect(updates.filter((u) => u.arrived)).toHaveLength(1);
    expect(updates.at(-1)).toMatchObject({ present: true, arrived: false, left: false });
  });

  it("does not report arrival for a courier riding past", () => {
    const d = new ArrivalDetector(STORE, { radiusMeters: 50, dwellSeconds: 20 });
    const updates = walk(d, [200, 100, 30, 10, -30, -100, -200]);
    expect(updates.some((u) => u.arrived)).toBe(false);
  });

  it("restarts the dwell when the courier steps out before it is complete", () => {
    const d = new ArrivalDetector(STORE, { radiusMeters: 50, dwellSeconds: 20 });
    const updates = walk(d, [10, 10, 10, 80, 10, 10, 10, 10, 10]);
    expect(updates.findIndex((u) => u.arrived)).toBe(8);
  });

  it("does not flap between arrived and left on GPS jitter at the edge", () => {
    const d = new ArrivalDetector(STORE, { radiusMeters: 50, dwellSeconds: 10 });
    const updates = walk(d, [40, 40, 40, 45, 60, 48, 70, 55, 90, 49, 65]);
    expect(updates.filter((u) => u.arrived)).toHaveLength(1);
    expect(updates.some((u) => u.left)).toBe(false);
  });

  it("reports leaving after the courier is beyond the exit radius for the exit time", () => {
    const d = new ArrivalDetector(STORE, {
      radiusMeters: 50,
      dwellSeconds: 10,
      exitRadiusMeters: 100,
      exitSeconds: 10,
    });
    const updates = walk(d, [10, 10, 10, 10, 150, 200, 300, 400]);
    expect(updates.findIndex((u) => u.arrived)).toBe(2);
    expect(updates.findIndex((u) => u.left)).toBe(6);
    expect(updates.filter((u) => u.left)).toHaveLength(1);
    expect(d.state.phase).toBe("away");
  });

  it("ignores fixes older than the last one and fixes too inaccurate to judge", () => {
    const d = new ArrivalDetector(STORE, { radiusMeters: 50, dwellSeconds: 10 });
    d.update({ ...STORE, at: T0 });
    expect(d.update({ ...STORE, at: T0 + 15_000, accuracy: 400 }).arrived).toBe(false);
    expect(d.update({ ...STORE, at: T0 - 1000 }).arrived).toBe(false);
    expect(d.update({ ...STORE, at: T0 + 12_000 }).arrived).toBe(true);
  });

  it("runs as a pure step over JSON state that survives persistence", () => {
    const options = arrivalDefaults({ radiusMeters: 50, dwellSeconds: 10 });
    let state: ArrivalState = initialArrivalState;
    state = arrivalStep(state, STORE, { ...STORE, at: T0 }, options).state;
    const restored = JSON.parse(JSON.stringify(state)) as ArrivalState;
    const { state: next, update } = arrivalStep(
      restored,
      STORE,
      { ...STORE, at: T0 + 10_000 },
      options,
    );
    expect(update.arrived).toBe(true);
    expect(next.phase).toBe("arrived");
    // The input state was not mutated.
    expect(restored.phase).toBe("entering");
  });

  it("defaults the exit radius to well beyond the entry radius", () => {
    expect(arrivalDefaults({ radiusMeters: 30 }).exitRadiusMeters).toBe(70);
    expect(arrivalDefaults({ radiusMeters: 100 }).exitRadiusMeters).toBe(200);
  });
});
