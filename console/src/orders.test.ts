import { describe, expect, it } from "vitest";
import type { OrderFrame } from "./orders.ts";
import type { OrderStatus } from "./orders.ts";
import { FINISHED_LINGER_MS, OrderBook, awaitingPickup, isLate, phaseOf } from "./orders.ts";

const T0 = 1_700_000_000_000;

function created(orderId: string, extra: Partial<OrderFrame> = {}): OrderFrame {
  return {
    kind: "order",
    orderId,
    marketId: "km",
    status: "created",
    at: T0,
    courierId: null,
    storeId: "s-1",
    temperatureClass: "ambient",
    promisedAt: T0 + 40 * 60_000,
    pickup: { lat: 25.04, lng: 102.71 },
    dropoff: { lat: 25.05, lng: 102.72 },
    ...extra,
  };
}

const change = (orderId: string, status: string, at: number, courierId?: string | null) =>
  ({ kind: "order", orderId, marketId: "km", status, at, courierId }) as OrderFrame;

describe("OrderBook", () => {
  it("keeps what the first frame told and follows later status changes", () => {
    const book = new OrderBook();
    expect(book.apply(created("o-1", { temperatureClass: "chilled" }), T0)).toBe(true);
    expect(book.apply(change("o-1", "accepted", T0 + 1000, null), T0)).toBe(true);
    expect(book.apply(change("o-1", "assigned", T0 + 2000, "c-7"), T0)).toBe(true);
    const order = book.get("o-1");
    expect(order).toMatchObject({
      status: "assigned",
      courierId: "c-7",
      storeId: "s-1",
      temperatureClass: "chilled",
      promisedAt: T0 + 40 * 60_000,
      pickup: { lat: 25.04, lng: 102.71 },
      dropoff: { lat: 25.05, lng: 102.72 },
    });
    // A replayed older frame changes nothing.
    expect(book.apply(change("o-1", "accepted", T0 + 1000, null), T0)).toBe(false);
    expect(book.get("o-1")?.status).toBe("assigned");
  });

  it("merges the details when the first frame arrives after the next change", () => {
    const book = new OrderBook();
    book.apply(change("o-2", "accepted", T0 + 500), T0);
    expect(book.get("o-2")?.storeId).toBeUndefined();
    expect(book.apply(created("o-2"), T0)).toBe(true);
    expect(book.get("o-2")).toMatchObject({ status: "accepted", storeId: "s-1" });
    // On the same instant, the status further along wins.
    book.apply(change("o-2", "preparing", T0 + 900), T0);
    book.apply(change("o-2", "accepted", T0 + 900), T0);
    expect(book.get("o-2")?.status).toBe("preparing");
  });

  it("sorts open orders by promised time, unknown last, finished at the end", () => {
    const book = new OrderBook();
    book.apply(created("o-late", { promisedAt: T0 + 60_000 }), T0);
    book.apply(created("o-soon", { promisedAt: T0 + 10_000 }), T0);
    book.apply(change("o-bare", "ready", T0), T0);
    book.apply(created("o-done", { promisedAt: T0 }), T0);
    book.apply(change("o-done", "delivered", T0 + 1), T0 + 5);
    expect(book.list().map((o) => o.orderId)).toEqual(["o-soon", "o-late", "o-bare", "o-done"]);
    expect(book.open().map((o) => o.orderId)).toEqual(["o-soon", "o-late", "o-bare"]);
  });

  it("greys finished orders briefly, then drops them for good", () => {
    const book = new OrderBook();
    book.apply(created("o-3"), T0);
    book.apply(change("o-3", "cancelled", T0 + 10), T0 + 10);
    expect(book.get("o-3")?.finishedAt).toBe(T0 + 10);
    expect(book.prune(T0 + 10 + FINISHED_LINGER_MS - 1)).toBe(false);
    expect(book.prune(T0 + 10 + FINISHED_LINGER_MS)).toBe(true);
    expect(book.get("o-3")).toBeUndefined();
    // A late or replayed frame cannot bring it back.
    expect(book.apply(change("o-3", "picked_up", T0 + 5), T0 + 60_000)).toBe(false);
    expect(book.list()).toEqual([]);
    // An order first heard of as finished is never shown.
    expect(book.apply(change("o-4", "delivered", T0), T0)).toBe(false);
    expect(book.list()).toEqual([]);
    expect(book.counts(T0).delivered).toBe(1);
  });

  it("counts orders to dispatch, en route and late", () => {
    const book = new OrderBook();
    const now = T0 + 50 * 60_000;
    book.apply(created("o-a"), T0); // promised T0+40min: late at `now`
    book.apply(created("o-b", { promisedAt: now + 60_000 }), T0);
    book.apply(created("o-c", { promisedAt: now + 60_000 }), T0);
    book.apply(change("o-c", "picked_up", T0 + 1, "c-1"), T0);
    book.apply(created("o-d", { promisedAt: T0 }), T0);
    book.apply(change("o-d", "delivered", T0 + 1, "c-2"), T0);
    expect(book.counts(now)).toEqual({
      waiting: 2,
      delivering: 1,
      problem: 0,
      late: 1,
      delivered: 1,
    });
    expect(isLate(book.get("o-a")!, now)).toBe(true);
    expect(isLate(book.get("o-d")!, now)).toBe(false);
    expect(isLate(book.get("o-b")!, now)).toBe(false);
  });

  it("derives one store per storeId, with how many orders wait there", () => {
    const book = new OrderBook();
    book.apply(created("o-1", { storeId: "s-1" }), T0);
    book.apply(created("o-2", { storeId: "s-1" }), T0);
    book.apply(created("o-3", { storeId: "s-2", pickup: { lat: 25.03, lng: 102.73 } }), T0);
    book.apply(change("o-2", "picked_up", T0 + 1, "c-1"), T0);
    book.apply(change("o-3", "cancelled", T0 + 1), T0);
    expect(book.storeList()).toEqual([
      { storeId: "s-1", lat: 25.04, lng: 102.71, waiting: 1 },
      { storeId: "s-2", lat: 25.03, lng: 102.73, waiting: 0 },
    ]);
  });
});

describe("order phases", () => {
  it("groups the lifecycle the way a dispatcher acts on it", () => {
    expect(
      (["created", "accepted", "preparing", "ready", "offered"] as OrderStatus[]).map(phaseOf),
    ).toEqual(Array(5).fill("waiting"));
    expect(
      (["assigned", "at_store", "picked_up", "at_customer"] as OrderStatus[]).map(phaseOf),
    ).toEqual(Array(4).fill("delivering"));
    expect(phaseOf("delivery_failed")).toBe("problem");
    expect((["delivered", "returned", "cancelled"] as OrderStatus[]).map(phaseOf)).toEqual(
      Array(3).fill("done"),
    );
    expect(awaitingPickup("at_store")).toBe(true);
    expect(awaitingPickup("picked_up")).toBe(false);
    expect(awaitingPickup("unknown")).toBe(false);
  });
});
