import { describe, expect, it } from "vitest";
import type { PushFrame } from "../../protocol/index.ts";
import {
  NO_WORK,
  openOffers,
  secondsLeft,
  withOffer,
  workFromFrame,
  workFromView,
} from "./work.ts";

const pickup = { lat: 25.0389, lng: 102.7183 };
const door = { lat: 25.0475, lng: 102.7065 };

const offerFrame = (
  orderId: string,
  expiresAt: number,
  at = 1000,
): PushFrame & { kind: "offer" } => ({
  kind: "offer",
  courierId: "c1",
  orderId,
  marketId: "km",
  storeId: "s-1",
  temperatureClass: "chilled",
  pickup,
  dropoff: door,
  expiresAt,
  at,
});

describe("work", () => {
  it("shows a pushed offer at once and lets the next work frame replace everything", () => {
    const offered = withOffer(NO_WORK, offerFrame("o1", 60_000));
    expect(offered.offers.map((o) => o.orderId)).toEqual(["o1"]);
    expect(withOffer(offered, offerFrame("o1", 60_000)).offers).toHaveLength(1);
    const work = workFromFrame({
      kind: "work",
      courierId: "c1",
      status: "busy",
      offers: [],
      jobs: [{ orderId: "o1", temperatureClass: "chilled", pickedUp: false, pickupCode: "K7P2QX" }],
      route: [
        { orderId: "o1", kind: "pickup", location: pickup, storeId: "s-1" },
        { orderId: "o1", kind: "dropoff", location: door, storeId: null },
      ],
      cause: "job_assigned",
      at: 2000,
    });
    expect(work.offers).toEqual([]);
    expect(work.route.map((s) => s.kind)).toEqual(["pickup", "dropoff"]);
    // An offer older than the work picture does not come back.
    expect(withOffer(work, offerFrame("o1", 60_000, 1500)).offers).toEqual([]);
  });

  it("reads the courier actor's view from GET /v1/couriers/me", () => {
    const work = workFromView(
      {
        status: "offered",
        offers: { o2: { ...offerFrame("o2", 9000), receivedAt: 1 } },
        jobs: {},
        route: [],
      },
      5000,
    );
    expect(work?.offers.map((o) => [o.orderId, o.expiresAt])).toEqual([["o2", 9000]]);
    expect(workFromView({ error: "x" }, 1)).toBeNull();
  });

  it("counts down to the offer's expiry and hides expired offers", () => {
    const work = withOffer(
      withOffer(NO_WORK, offerFrame("late", 5_000)),
      offerFrame("soon", 3_000),
    );
    expect(openOffers(work, 2_000).map((o) => o.orderId)).toEqual(["soon", "late"]);
    expect(openOffers(work, 4_000).map((o) => o.orderId)).toEqual(["late"]);
    expect(secondsLeft(5_000, 2_001)).toBe(3);
    expect(secondsLeft(5_000, 9_000)).toBe(0);
  });
});
