import { cellToChildren, latLngToCell } from "h3-js";
import { describe, expect, it } from "vitest";
import { hourOfWeek, SpeedTable } from "./index.ts";
import type { SpeedTableJson } from "./index.ts";
import { offset } from "./test-support.ts";

const P = { lat: 25.0406, lng: 102.7123 };
// Monday 08:00 in Kunming.
const MONDAY_8 = Date.parse("2024-03-04T08:00:00+08:00");

/** Consecutive fixes of a courier riding north at `mps`, one every `seconds`. */
function ride(table: SpeedTable, mps: number, n: number, at = MONDAY_8, seconds = 8) {
  let used = 0;
  for (let i = 0; i < n; i++) {
    const from = { ...offset(P, i * mps * seconds, 0), at: at + i * seconds * 1000 };
    const to = { ...offset(P, (i + 1) * mps * seconds, 0), at: at + (i + 1) * seconds * 1000 };
    if (table.observe(from, to) === "used") used++;
  }
  return used;
}

describe("SpeedTable", () => {
  it("learns a courier's speed in the cell and hour it rode", () => {
    const table = new SpeedTable();
    expect(ride(table, 6, 10)).toBe(10);
    const cell = latLngToCell(P.lat, P.lng, 8);
    const learned = table.speedAt(cell, hourOfWeek(MONDAY_8));
    expect(learned?.mps).toBeCloseTo(6, 1);
    expect(learned?.samples).toBeGreaterThan(0);
    expect(table.speedAt(cell, hourOfWeek(MONDAY_8) + 1)).toBeNull();
  });

  it("ignores standing still, long gaps and impossible speeds", () => {
    const table = new SpeedTable();
    const a = { ...P, at: MONDAY_8 };
    expect(table.observe(a, { ...offset(P, 25, 0), at: MONDAY_8 + 29_000 })).toBe("ignored"); // 0.9 m/s
    expect(table.observe(a, { ...offset(P, 600, 0), at: MONDAY_8 + 120_000 })).toBe("ignored"); // gap
    expect(table.observe(a, { ...offset(P, 400, 0), at: MONDAY_8 + 3000 })).toBe("ignored"); // 133 m/s
    expect(table.observe(a, { ...offset(P, 30, 0), at: MONDAY_8 })).toBe("ignored"); // no time
    expect(table.size).toBe(0);
  });

  it("waits for the courier to move far enough to measure, fixes every second", () => {
    const table = new SpeedTable();
    let anchor = { ...P, at: MONDAY_8 };
    const answers: string[] = [];
    for (let i = 1; i <= 12; i++) {
      const fix = { ...offset(P, i * 4.5, 0), at: MONDAY_8 + i * 1000 };
      const answer = table.observe(anchor, fix);
      answers.push(answer);
      if (answer !== "short") anchor = fix;
    }
    // 4.5 m/s: 20 m is reached on the 5th fix, then again 5 fixes later.
    expect(answers.filter((a) => a === "used")).toHaveLength(2);
    expect(answers[4]).toBe("used");
    expect(table.speedNear(P.lat, P.lng, MONDAY_8)?.mps).toBeCloseTo(4.5, 1);
  });

  it("averages pace, not speed, so travel times add up", () => {
    const table = new SpeedTable();
    // Half the samples at 3 m/s, half at 9 m/s: the time-correct average is 4.5, not 6.
    for (let i = 0; i < 10; i++) {
      ride(table, i % 2 === 0 ? 3 : 9, 1, MONDAY_8 + i * 10_000);
    }
    expect(table.speedNear(P.lat, P.lng, MONDAY_8)?.mps).toBeCloseTo(4.5, 1);
  });

  it("follows a change of speed through its moving average", () => {
    const table = new SpeedTable({ alpha: 0.1 });
    for (let i = 0; i < 50; i++) ride(table, 8, 1, MONDAY_8 + i * 10_000);
    for (let i = 0; i < 60; i++) ride(table, 4, 1, MONDAY_8 + (50 + i) * 10_000);
    const mps = table.speedNear(P.lat, P.lng, MONDAY_8)!.mps;
    expect(mps).toBeGreaterThan(4);
    expect(mps).toBeLessThan(4.2);
  });

  it("answers for a finer cell from its parent", () => {
    const table = new SpeedTable();
    ride(table, 5, 5);
    const parent = latLngToCell(P.lat, P.lng, 8);
    const child = cellToChildren(parent, 10)[0]!;
    expect(table.speedAt(child, hourOfWeek(MONDAY_8))?.mps).toBeCloseTo(5, 1);
    expect(table.speedAt(latLngToCell(P.lat, P.lng, 6), hourOfWeek(MONDAY_8))).toBeNull();
  });

  it("survives a JSON round trip", () => {
    const table = new SpeedTable({ resolution: 7 });
    ride(table, 5, 8);
    ride(table, 3, 8, MONDAY_8 + 26 * 3_600_000);
    const json = JSON.parse(JSON.stringify(table)) as SpeedTableJson;
    const restored = SpeedTable.fromJSON(json);
    expect(restored.resolution).toBe(7);
    expect(restored.toJSON()).toEqual(table.toJSON());
    expect(restored.speedNear(P.lat, P.lng, MONDAY_8 + 26 * 3_600_000)?.mps).toBeCloseTo(3, 1);
  });
});
