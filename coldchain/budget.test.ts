import { describe, expect, it } from "vitest";
import {
  BAG_SAFE_MS,
  budgetDefaults,
  consume,
  consumptionRate,
  remainingSafeMs,
  safeUntil,
} from "./budget.ts";

const MIN = 60_000;
const NOW = Date.UTC(2026, 10, 22, 4, 0);
const cold = { compartmentCelsius: 2, inRange: true };

describe("bag budget", () => {
  it("gives chilled goods an hour in a bag, frozen half an hour, ambient no limit", () => {
    expect(BAG_SAFE_MS).toEqual({ chilled: 60 * MIN, frozen: 30 * MIN, ambient: Infinity });
    expect(remainingSafeMs({ class: "chilled", spentMs: 0 })).toBe(60 * MIN);
    expect(remainingSafeMs({ class: "ambient", spentMs: 5 * 60 * MIN })).toBe(Infinity);
  });

  it("leaves a frozen order 20 minutes out 10 minutes", () => {
    expect(remainingSafeMs({ class: "frozen", spentMs: 20 * MIN })).toBe(10 * MIN);
    expect(safeUntil({ now: NOW, class: "frozen", spentMs: 20 * MIN, carrier: "bag" })).toBe(
      NOW + 10 * MIN,
    );
  });

  it("never goes below zero: overspent goods were due at the door already", () => {
    expect(remainingSafeMs({ class: "chilled", spentMs: 75 * MIN })).toBe(0);
    expect(safeUntil({ now: NOW, class: "chilled", spentMs: 75 * MIN, carrier: "bag" })).toBe(NOW);
  });

  it("takes other budgets through the options", () => {
    const options = { bagSafeMs: { chilled: 45 * MIN } };
    expect(budgetDefaults(options).bagSafeMs).toEqual({
      chilled: 45 * MIN,
      frozen: 30 * MIN,
      ambient: Infinity,
    });
    expect(remainingSafeMs({ class: "chilled", spentMs: 15 * MIN }, options)).toBe(30 * MIN);
  });

  it("refuses negative times", () => {
    expect(() => remainingSafeMs({ class: "chilled", spentMs: -1 })).toThrow(RangeError);
    expect(() => consume({ class: "chilled", spentMs: 0 }, -1, "bag")).toThrow(RangeError);
  });
});

describe("consumption", () => {
  it("uses a minute a minute in a bag or a compartment with no reading", () => {
    expect(consumptionRate("chilled", "bag")).toBe(1);
    expect(consumptionRate("chilled", { compartmentCelsius: null, inRange: true })).toBe(1);
    expect(consume({ class: "chilled", spentMs: 10 * MIN }, 15 * MIN, "bag")).toEqual({
      class: "chilled",
      spentMs: 25 * MIN,
    });
    const silent = { compartmentCelsius: null, inRange: false };
    expect(consume({ class: "frozen", spentMs: 0 }, 7 * MIN, silent).spentMs).toBe(7 * MIN);
  });

  it("uses nothing in a compartment holding its range, or too cold", () => {
    expect(consumptionRate("chilled", cold)).toBe(0);
    const state = { class: "chilled" as const, spentMs: 12 * MIN };
    expect(consume(state, 40 * MIN, cold)).toBe(state);
    // Chilled goods at −1 °C: below their range, still safe.
    expect(consumptionRate("chilled", { compartmentCelsius: -1, inRange: false })).toBe(0);
    // Just back under the limit, inside the vehicle's hysteresis band.
    expect(consumptionRate("frozen", { compartmentCelsius: -18.2, inRange: false })).toBe(0);
  });

  it("uses the budget faster the warmer a compartment above its limit", () => {
    // Chilled at 9 °C: 5 over the limit of 4 → 1 + 5/5 = 2 bag minutes a minute.
    expect(consumptionRate("chilled", { compartmentCelsius: 9, inRange: false })).toBe(2);
    // Frozen at −8 °C: 10 over −18 → 3; 6 minutes use 18.
    const warm = { compartmentCelsius: -8, inRange: false };
    expect(consume({ class: "frozen", spentMs: 0 }, 6 * MIN, warm).spentMs).toBe(18 * MIN);
    // Chilled at 6 °C with 2 °C per extra bag rate: 1 + 2/2 = 2.
    expect(
      consumptionRate(
        "chilled",
        { compartmentCelsius: 6, inRange: false },
        { degreesPerBagRate: 2 },
      ),
    ).toBe(2);
  });
});

describe("safeUntil", () => {
  it("is never for ambient goods and for goods in a compartment holding its range", () => {
    expect(safeUntil({ now: NOW, class: "ambient", spentMs: 0, carrier: "bag" })).toBe(Infinity);
    expect(safeUntil({ now: NOW, class: "frozen", spentMs: 25 * MIN, carrier: cold })).toBe(
      Infinity,
    );
  });

  it("divides what is left by the rate of a warm compartment", () => {
    // Chilled, 30 min spent, 30 left; at 14 °C (10 over) the rate is 3 → 10 min.
    const warm = { compartmentCelsius: 14, inRange: false };
    expect(safeUntil({ now: NOW, class: "chilled", spentMs: 30 * MIN, carrier: warm })).toBe(
      NOW + 10 * MIN,
    );
    // Frozen, nothing spent, silent sensor: a bag's 30 min.
    const silent = { compartmentCelsius: null, inRange: false };
    expect(safeUntil({ now: NOW, class: "frozen", spentMs: 0, carrier: silent })).toBe(
      NOW + 30 * MIN,
    );
  });

  it("agrees with consuming the budget up to that moment", () => {
    const warm = { compartmentCelsius: 7, inRange: false }; // 1 + 3/5 = 1.6
    const start = { class: "chilled" as const, spentMs: 12 * MIN };
    const until = safeUntil({ ...start, now: NOW, carrier: warm });
    expect(until).toBe(NOW + 30 * MIN); // 48 min left ÷ 1.6
    expect(remainingSafeMs(consume(start, until - NOW, warm))).toBe(0);
  });
});
