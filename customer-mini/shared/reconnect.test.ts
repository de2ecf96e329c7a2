import { describe, expect, it } from "vitest";
import { reconnectDelay, reconnectPolicy } from "./reconnect.ts";

describe("reconnect policy", () => {
  const policy = reconnectPolicy({ baseMs: 500, capMs: 8_000, jitter: 0.5 });

  it("doubles the delay per attempt up to the cap", () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 10].map((a) => reconnectDelay(policy, a, 1));
    expect(ceilings).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it("spreads retries over the upper half of the delay", () => {
    expect(reconnectDelay(policy, 3, 0)).toBe(2000);
    expect(reconnectDelay(policy, 3, 0.5)).toBe(3000);
    expect(reconnectDelay(policy, 30, 0)).toBe(4000);
  });

  it("defaults to 0.5 s base, 30 s cap", () => {
    expect(reconnectPolicy()).toEqual({ baseMs: 500, capMs: 30_000, factor: 2, jitter: 0.5 });
  });
});
