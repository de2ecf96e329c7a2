import { describe, expect, it } from "vitest";
import { formatCelsius, formatClock, formatFen } from "./format.ts";

describe("formatting", () => {
  it("shows clock times in Beijing time whatever the device's zone", () => {
    expect(formatClock(Date.UTC(2025, 5, 2, 4, 40))).toBe("12:40");
    expect(formatClock(Date.UTC(2025, 5, 2, 16, 5), "en")).toBe("00:05");
  });

  it("shows fen as yuan", () => {
    expect(formatFen(6100)).toBe("¥61.00");
    expect(formatFen(5)).toBe("¥0.05");
  });

  it("shows one decimal of a temperature", () => {
    expect(formatCelsius(-18)).toBe("-18.0°C");
  });
});
