import { describe, expect, it } from "vitest";
import { RouteBook, moveStop } from "./routes.ts";
import type { RouteStop, WorkFrame } from "./routes.ts";

const at = { lat: 25.04, lng: 102.71 };
const stop = (orderId: string, kind: "pickup" | "dropoff"): RouteStop => ({
  orderId,
  kind,
  location: at,
  storeId: kind === "pickup" ? "s-1" : null,
});

const work = (courierId: string, route: RouteStop[], t: number): WorkFrame => ({
  kind: "work",
  courierId,
  status: route.length > 0 ? "busy" : "idle",
  offers: [],
  jobs: [],
  route,
  cause: "job_assigned",
  at: t,
});

describe("routes", () => {
  it("keeps each courier's newest route and says who carries an order", () => {
    const book = new RouteBook();
    expect(book.apply(work("c1", [stop("o1", "pickup"), stop("o1", "dropoff")], 2))).toBe(true);
    expect(book.apply(work("c1", [], 1))).toBe(false);
    expect(book.courierOf("o1")).toBe("c1");
    book.apply(work("c1", [], 3));
    expect(book.list()).toEqual([]);
    expect(book.courierOf("o1")).toBeNull();
  });

  it("moves a stop but never puts a drop-off before its own pickup", () => {
    const stops = [
      stop("o1", "pickup"),
      stop("o2", "pickup"),
      stop("o1", "dropoff"),
      stop("o2", "dropoff"),
    ];
    expect(moveStop(stops, 1, -1)?.map((s) => `${s.orderId}:${s.kind}`)).toEqual([
      "o2:pickup",
      "o1:pickup",
      "o1:dropoff",
      "o2:dropoff",
    ]);
    expect(moveStop(stops, 2, -1)?.map((s) => `${s.orderId}:${s.kind}`)).toEqual([
      "o1:pickup",
      "o1:dropoff",
      "o2:pickup",
      "o2:dropoff",
    ]);
    expect(moveStop([stop("o1", "pickup"), stop("o1", "dropoff")], 1, -1)).toBeNull();
    expect(moveStop(stops, 0, -1)).toBeNull();
    expect(moveStop(stops, 3, 1)).toBeNull();
  });
});
