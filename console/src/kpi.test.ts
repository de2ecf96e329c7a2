import { describe, expect, it } from "vitest";
import { KpiBook } from "./kpi.ts";
import type { OrderFrame } from "./orders.ts";

const MIN = 60_000;
const frame = (orderId: string, status: string, at: number, promisedAt?: number): OrderFrame => ({
  kind: "order",
  orderId,
  marketId: "km",
  status,
  at,
  ...(promisedAt !== undefined ? { promisedAt } : {}),
});

describe("KpiBook", () => {
  it("computes on-time share and mean click-to-door from created and delivered frames", () => {
    const book = new KpiBook();
    book.apply(frame("o1", "created", 0, 40 * MIN));
    book.apply(frame("o2", "created", 10 * MIN, 50 * MIN));
    book.apply(frame("o1", "delivered", 30 * MIN));
    book.apply(frame("o2", "delivered", 60 * MIN));
    // A replayed delivery counts once.
    book.apply(frame("o2", "delivered", 60 * MIN));
    const k = book.read();
    expect(k.delivered).toBe(2);
    expect(k.onTime).toBe(0.5);
    expect(k.meanClickToDoorMinutes).toBe(40);
  });

  it("leaves an order first seen after its creation out of click-to-door", () => {
    const book = new KpiBook();
    book.apply(frame("o3", "picked_up", 5 * MIN));
    book.apply(frame("o3", "delivered", 20 * MIN));
    expect(book.read()).toMatchObject({ delivered: 1, onTime: null, meanClickToDoorMinutes: null });
  });

  it("weighs utilisation by on-shift courier time", () => {
    const book = new KpiBook();
    expect(book.read().utilisation).toBeNull();
    book.sample(1, 4);
    book.sample(3, 4);
    book.sample(0, 0);
    expect(book.read().utilisation).toBe(0.5);
  });
});
