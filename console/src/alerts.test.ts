import { describe, expect, it } from "vitest";
import type { Alert } from "./alerts.ts";
import { AlertBook } from "./alerts.ts";
import { VanBoard } from "./vans.ts";

const alert = (id: string, at: number, severity: Alert["severity"] = "warning"): Alert => ({
  kind: "alert",
  id,
  severity,
  code: "excursion",
  message: "冷藏温度超标",
  at,
});

describe("AlertBook", () => {
  it("lists each alert once, newest first, more severe first at the same moment", () => {
    const book = new AlertBook();
    expect(book.add(alert("a", 1))).toBe(true);
    expect(book.add(alert("a", 1))).toBe(false);
    book.add(alert("b", 2, "info"));
    book.add(alert("c", 2, "critical"));
    expect(book.list().map((a) => a.id)).toEqual(["c", "b", "a"]);
    expect(book.count("critical")).toBe(1);
  });

  it("forgets the oldest beyond its limit", () => {
    const book = new AlertBook(3);
    for (let i = 1; i <= 5; i++) book.add(alert(`a${i}`, i));
    expect(book.list().map((a) => a.id)).toEqual(["a5", "a4", "a3"]);
  });
});

describe("VanBoard", () => {
  it("shows the latest reading per compartment, out-of-range first", () => {
    const board = new VanBoard();
    const reading = (vehicleId: string, celsius: number, inRange: boolean, at: number) => ({
      kind: "temperature" as const,
      vehicleId,
      compartmentId: "chill",
      celsius,
      inRange,
      at,
    });
    board.add(reading("v1", 3, true, 10));
    board.add(reading("v2", 9, false, 10));
    expect(board.add(reading("v1", 2, true, 5))).toBe(false);
    expect(board.list().map((r) => r.vehicleId)).toEqual(["v2", "v1"]);
  });
});
