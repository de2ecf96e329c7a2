import { describe, expect, it } from "vitest";
import { seededRandom } from "../geo/index.ts";
import { planDispatch } from "./engine.ts";
import { bestInsertion, evaluateRoute, insertionCost } from "./route.ts";
import type { RouteTiming } from "./route.ts";
import type { DispatchCourier, DispatchOrder, EngineOptions, RouteStop } from "./types.ts";

const MIN = 60_000;
const NOW = Date.UTC(2026, 10, 22, 4, 0); // 12:00 in Kunming
const ORIGIN = { lat: 25.04, lng: 102.71 };
/** A point `north` and `east` metres from the origin. */
function at(north: number, east: number) {
  return {
    lat: ORIGIN.lat + north / 111_320,
    lng: ORIGIN.lng + east / (111_320 * Math.cos((ORIGIN.lat * Math.PI) / 180)),
  };
}
/** 300 m a minute straight, like the replay's travel model: easy numbers to check. */
const OPTIONS: EngineOptions = {
  travel: (from, to) => {
    const dy = (to.lat - from.lat) * 111_320;
    const dx = (to.lng - from.lng) * 111_320 * Math.cos((ORIGIN.lat * Math.PI) / 180);
    return (Math.hypot(dx, dy) / 300) * 60;
  },
  pickupServiceMinutes: 4,
  dropoffServiceMinutes: 4,
};

function order(id: string, over: Partial<DispatchOrder> = {}): DispatchOrder {
  return {
    orderId: id,
    storeId: "s1",
    pickup: at(0, 0),
    dropoff: at(1500, 0),
    readyAt: NOW,
    promisedBy: null,
    temperatureClass: "ambient",
    queuedAt: NOW,
    lockedTo: null,
    passedBy: [],
    ...over,
  };
}

function courier(id: string, over: Partial<DispatchCourier> = {}): DispatchCourier {
  return {
    courierId: id,
    mode: "ebike",
    position: at(0, 0),
    capacityLeft: 3,
    freeSlots: null,
    carrying: [],
    offAt: null,
    ...over,
  };
}

function pairs(plan: ReturnType<typeof planDispatch>): Record<string, string> {
  return Object.fromEntries(plan.assignments.map((a) => [a.orderId, a.courierId]));
}

describe("route timing", () => {
  const timing: RouteTiming = {
    travel: OPTIONS.travel!,
    pickupServiceMs: 4 * MIN,
    dropoffServiceMs: 4 * MIN,
    shopperWeight: 1,
    lateWeight: 4,
  };
  const start = { position: at(0, 0), mode: "ebike" as const, now: NOW, offAt: null };
  const pickup: RouteStop = {
    orderId: "o",
    kind: "pickup",
    at: at(3000, 0),
    readyAt: NOW + 20 * MIN,
    promisedBy: null,
  };
  const dropoff: RouteStop = {
    orderId: "o",
    kind: "dropoff",
    at: at(3000, 3000),
    readyAt: 0,
    promisedBy: NOW + 30 * MIN,
  };

  it("picks up at max(ready, arrival + half service) and drops off half a service in", () => {
    const e = evaluateRoute(start, [pickup, dropoff], timing);
    // 10 min to the store, food ready at 20: pickup at 20, leave at 22, 10 min to the door,
    // drop-off at 34, leave at 36. 4 min late.
    expect(e.moments[0]).toBeCloseTo(NOW + 20 * MIN, -1);
    expect(e.moments[1]).toBeCloseTo(NOW + 34 * MIN, -1);
    expect(e.endsAt).toBeCloseTo(NOW + 36 * MIN, -1);
    expect(e.cost).toBeCloseTo(36 + 34 + 4 * 4, 3);
  });

  it("prices an idle courier's one order in closed form exactly as the general rule", () => {
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let i = 0; i < 200; i++) {
      const p: RouteStop = {
        orderId: "o",
        kind: "pickup",
        at: at(random() * 5000, random() * 5000),
        readyAt: NOW + Math.floor(random() * 30) * MIN,
        promisedBy: null,
      };
      const d: RouteStop = {
        orderId: "o",
        kind: "dropoff",
        at: at(random() * 5000, random() * 5000),
        readyAt: 0,
        promisedBy: random() < 0.8 ? NOW + Math.floor(random() * 60) * MIN : null,
      };
      const s = { ...start, offAt: random() < 0.2 ? NOW + 10 * MIN : null };
      const general = evaluateRoute(s, [p, d], timing).cost;
      const fast = insertionCost(s, [], [p, d], timing);
      if (general === Infinity) expect(fast).toBe(Infinity);
      else expect(fast).toBeCloseTo(general, 9);
    }
  });

  it("finds the cheapest insertion, as trying every pickup and drop-off position does", () => {
    const random = seededRandom(42);
    const stop = (orderId: string, kind: "pickup" | "dropoff"): RouteStop => ({
      orderId,
      kind,
      at: at(random() * 4000, random() * 4000),
      readyAt: kind === "pickup" ? NOW + Math.floor(random() * 20) * MIN : 0,
      promisedBy:
        kind === "dropoff" && random() < 0.7 ? NOW + Math.floor(random() * 50) * MIN : null,
    });
    for (let n = 0; n < 300; n++) {
      const route: RouteStop[] = [];
      const size = Math.floor(random() * 5);
      for (let k = 0; k < size; k++)
        route.push(stop(`r${k}`, random() < 0.5 ? "pickup" : "dropoff"));
      const added =
        random() < 0.2 ? [stop("new", "dropoff")] : [stop("new", "pickup"), stop("new", "dropoff")];
      const s = { ...start, offAt: random() < 0.2 ? NOW + 25 * MIN : null };
      let brute = Infinity;
      for (let i = 0; i <= route.length; i++) {
        for (let j = i; j <= route.length; j++) {
          if (added.length === 1 && j !== i) continue;
          const candidate = [...route.slice(0, i), added[0]!, ...route.slice(i, j)];
          if (added.length === 2) candidate.push(added[1]!);
          candidate.push(...route.slice(j));
          brute = Math.min(brute, evaluateRoute(s, candidate, timing).cost);
        }
      }
      const cost = insertionCost(s, route, added, timing);
      const built = bestInsertion(s, route, added, timing);
      if (brute === Infinity) {
        expect(cost).toBe(Infinity);
        expect(built).toBeNull();
      } else {
        expect(cost, `case ${n}`).toBeCloseTo(brute, 9);
        expect(built!.eval.cost).toBeCloseTo(brute, 9);
        expect(evaluateRoute(s, built!.stops, timing).cost).toBeCloseTo(brute, 9);
      }
    }
  });

  it("never puts a drop-off before its pickup", () => {
    const best = bestInsertion(start, [], [pickup, dropoff], timing)!;
    expect(best.stops.map((s) => s.kind)).toEqual(["pickup", "dropoff"]);
  });

  it("refuses a pickup after the end of the shift", () => {
    const e = evaluateRoute({ ...start, offAt: NOW + 10 * MIN }, [pickup, dropoff], timing);
    expect(e.cost).toBe(Infinity);
  });
});

describe("planDispatch", () => {
  it("matches the whole tick instead of first come first served", () => {
    // o1 is slightly nearer to c1, but o2 can only be served well by c1.
    const plan = planDispatch(
      {
        now: NOW,
        orders: [
          order("o1", { storeId: "s1", pickup: at(0, 0), dropoff: at(0, 500) }),
          order("o2", { storeId: "s2", pickup: at(0, 600), dropoff: at(0, 1100) }),
        ],
        couriers: [
          courier("c1", { position: at(0, 300), capacityLeft: 1 }),
          courier("c2", { position: at(0, -400), capacityLeft: 1 }),
        ],
      },
      OPTIONS,
    );
    expect(pairs(plan)).toEqual({ o1: "c2", o2: "c1" });
  });

  it("respects capacity, compartment slots and the temperature class", () => {
    const plan = planDispatch(
      {
        now: NOW,
        orders: [
          order("frozen-1", { temperatureClass: "frozen", storeId: "s1" }),
          order("chilled-1", { temperatureClass: "chilled", storeId: "s2" }),
        ],
        couriers: [
          // Right at the store, but its van has no free frozen slot.
          courier("van-near", {
            mode: "van",
            freeSlots: { ambient: 2, chilled: 1, frozen: 0 },
            capacityLeft: 1,
          }),
          courier("van-far", {
            mode: "van",
            position: at(2000, 0),
            freeSlots: { ambient: 0, chilled: 0, frozen: 2 },
          }),
        ],
      },
      OPTIONS,
    );
    expect(pairs(plan)).toEqual({ "frozen-1": "van-far", "chilled-1": "van-near" });
  });

  it("gives a locked order only to its courier, however far", () => {
    const plan = planDispatch(
      {
        now: NOW,
        orders: [order("o1", { lockedTo: "c-far" })],
        couriers: [courier("c-near"), courier("c-far", { position: at(9000, 0) })],
      },
      OPTIONS,
    );
    expect(pairs(plan)).toEqual({ o1: "c-far" });
    const none = planDispatch(
      {
        now: NOW,
        orders: [order("o1", { lockedTo: "c-absent" })],
        couriers: [courier("c-near")],
      },
      OPTIONS,
    );
    expect(none.assignments).toEqual([]);
  });

  it("never offers an order again to a courier who passed on it, and widens after passes", () => {
    const plan = planDispatch(
      {
        now: NOW,
        orders: [order("o1", { passedBy: ["c1", "c2"] })],
        couriers: [
          courier("c1"),
          courier("c2", { position: at(100, 0) }),
          // Beyond the first 3 km radius: found only because the search widened.
          courier("c3", { position: at(7000, 0) }),
        ],
      },
      { ...OPTIONS, candidates: 1, widenAfterPasses: 2 },
    );
    expect(pairs(plan)).toEqual({ o1: "c3" });
  });

  it("bundles orders of one store going the same way onto one courier", () => {
    const plan = planDispatch(
      {
        now: NOW,
        orders: [
          order("o1", { dropoff: at(2000, 0) }),
          order("o2", { dropoff: at(2100, 100) }),
          // Same store, the other way: a bundle with it saves nothing.
          order("o3", { dropoff: at(-2000, 0) }),
        ],
        couriers: [courier("c1"), courier("c2"), courier("c3")],
      },
      OPTIONS,
    );
    const p = pairs(plan);
    expect(p.o1).toBe(p.o2);
    expect(p.o3).not.toBe(p.o1);
    expect(plan.assignments.find((a) => a.orderId === "o1")!.bundle).toEqual(["o1", "o2"]);
    expect(plan.stats.bundles).toBe(1);
  });

  it("plans around the work a courier already carries", () => {
    // c1 carries an order whose door is 3 km north; a new order from a store next to c1 going
    // the opposite way is better given to idle c2 a little further off.
    const plan = planDispatch(
      {
        now: NOW,
        orders: [order("new", { pickup: at(0, 0), dropoff: at(-3000, 0) })],
        couriers: [
          courier("c1", {
            carrying: [
              {
                orderId: "old",
                pickup: null,
                dropoff: at(3000, 0),
                readyAt: NOW - 10 * MIN,
                promisedBy: NOW + 12 * MIN,
                temperatureClass: "ambient",
                pickedUp: true,
                locked: false,
              },
            ],
          }),
          courier("c2", { position: at(0, 800) }),
        ],
      },
      OPTIONS,
    );
    expect(pairs(plan)).toEqual({ new: "c2" });
  });

  it("leaves orders ready later than the look-ahead for a later tick", () => {
    const plan = planDispatch(
      {
        now: NOW,
        orders: [order("later", { readyAt: NOW + 45 * MIN })],
        couriers: [courier("c1")],
      },
      OPTIONS,
    );
    expect(plan.assignments).toEqual([]);
    expect(plan.stats.considered).toBe(0);
  });

  it("does not plan a courier whose shift ends before it could pick up", () => {
    const plan = planDispatch(
      {
        now: NOW,
        orders: [order("o1", { readyAt: NOW + 15 * MIN })],
        couriers: [
          courier("leaving", { offAt: NOW + 5 * MIN }),
          courier("staying", { position: at(1000, 0) }),
        ],
      },
      OPTIONS,
    );
    expect(pairs(plan)).toEqual({ o1: "staying" });
  });

  it("gives a courier a second order in a later round when there are more orders than couriers", () => {
    const plan = planDispatch(
      {
        now: NOW,
        orders: [
          order("o1", { storeId: "s1", dropoff: at(1000, 0) }),
          order("o2", { storeId: "s2", pickup: at(0, 3000), dropoff: at(0, 4000) }),
        ],
        couriers: [courier("c1", { position: at(0, 1500) })],
      },
      { ...OPTIONS, maxBundle: 1 },
    );
    expect(pairs(plan)).toEqual({ o1: "c1", o2: "c1" });
    expect(plan.stats.rounds).toBe(2);
  });

  it("predicts a P50-P90 window for each drop-off", () => {
    const plan = planDispatch(
      { now: NOW, orders: [order("o1")], couriers: [courier("c1")] },
      OPTIONS,
    );
    const a = plan.assignments[0]!;
    // At the store: pickup at 2 min, leave at 4, 5 min to the door, drop-off at 11 min.
    expect(a.pickupAt).toBeCloseTo(NOW + 2 * MIN, -2);
    expect(a.dropoffAt).toBeCloseTo(NOW + 11 * MIN, -2);
    expect(a.dropoffP90).toBeCloseTo(NOW + 11 * MIN * 1.3, -2);
  });

  it("alerts when many couriers passed on an order, or none is found for too long", () => {
    const plan = planDispatch(
      {
        now: NOW,
        orders: [
          order("declined", { passedBy: ["a", "b", "c", "d", "e"] }),
          order("stranded", { pickup: at(50_000, 0), queuedAt: NOW - 11 * MIN }),
          order("fresh", { pickup: at(50_000, 0), queuedAt: NOW - 1 * MIN }),
        ],
        couriers: [courier("c1", { capacityLeft: 0 })],
      },
      OPTIONS,
    );
    expect(plan.alerts.map((a) => [a.orderId, a.code])).toEqual([
      ["declined", "many_declines"],
      ["stranded", "no_courier"],
    ]);
  });

  it("takes an unstarted job back when a free courier would pick it up much sooner", () => {
    const job = (over: Partial<DispatchCourier["carrying"][number]> = {}) => ({
      orderId: "j1",
      pickup: at(0, 0),
      dropoff: at(1500, 0),
      readyAt: NOW,
      promisedBy: NOW + 40 * MIN,
      temperatureClass: "ambient" as const,
      pickedUp: false,
      locked: false,
      ...over,
    });
    // `far` has the job but is 9 km from the store (30 min); `free` stands 300 m from it.
    const far = courier("far", { position: at(9000, 0), carrying: [job()] });
    const free = courier("free", { position: at(300, 0) });
    const plan = planDispatch({ now: NOW, orders: [], couriers: [far, free] }, OPTIONS);
    expect(plan.reassignments).toEqual([
      { orderId: "j1", courierId: "far", minutesSooner: expect.any(Number) },
    ]);
    expect(plan.reassignments[0]!.minutesSooner).toBeGreaterThanOrEqual(25);
    // Never a picked-up job, a locked one, or a pending offer; never for a small gain.
    for (const kept of [job({ pickedUp: true }), job({ locked: true }), job({ offered: true })]) {
      const c = courier("far", { position: at(9000, 0), carrying: [kept] });
      expect(
        planDispatch({ now: NOW, orders: [], couriers: [c, free] }, OPTIONS).reassignments,
      ).toEqual([]);
    }
    const near = courier("near", { position: at(1500, 0), carrying: [job()] });
    expect(
      planDispatch({ now: NOW, orders: [], couriers: [near, free] }, OPTIONS).reassignments,
    ).toEqual([]);
  });

  it("is deterministic whatever the input order", () => {
    const orders = Array.from({ length: 30 }, (_, i) =>
      order(`o${i}`, {
        storeId: `s${i % 4}`,
        pickup: at((i % 4) * 700, 0),
        dropoff: at(1000 + i * 97, (i * 131) % 2000),
      }),
    );
    const couriers = Array.from({ length: 12 }, (_, i) =>
      courier(`c${i}`, { position: at(i * 250, i * 120) }),
    );
    const a = planDispatch({ now: NOW, orders, couriers }, OPTIONS);
    const b = planDispatch(
      { now: NOW, orders: [...orders].reverse(), couriers: [...couriers].reverse() },
      OPTIONS,
    );
    expect(b.assignments).toEqual(a.assignments);
    // Capacity is never exceeded.
    const load = new Map<string, number>();
    for (const x of a.assignments) load.set(x.courierId, (load.get(x.courierId) ?? 0) + 1);
    for (const n of load.values()) expect(n).toBeLessThanOrEqual(3);
  });
});
