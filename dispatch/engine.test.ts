import { describe, expect, it } from "vitest";
import { seededRandom } from "../geo/index.ts";
import { DispatchMemo, planDispatch } from "./engine.ts";
import { bestInsertion, blockInsertionCost, evaluateRoute, insertionCost } from "./route.ts";
import type { RouteStart, RouteTiming } from "./route.ts";
import type {
  CarriedOrder,
  DispatchCourier,
  DispatchOrder,
  EngineOptions,
  RouteStop,
} from "./types.ts";

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

describe("thermal budget in route timing", () => {
  const timing: RouteTiming = {
    travel: OPTIONS.travel!,
    pickupServiceMs: 4 * MIN,
    dropoffServiceMs: 4 * MIN,
    shopperWeight: 1,
    lateWeight: 4,
  };
  const start: RouteStart = { position: at(0, 0), mode: "ebike", now: NOW, offAt: null };
  const pickup: RouteStop = {
    orderId: "o",
    kind: "pickup",
    at: at(0, 0),
    readyAt: NOW,
    promisedBy: null,
  };
  // At the store: pickup at 2 min, leave at 4, 10 min to the door, drop-off at 16: 14 min out.
  const door = (limits: Partial<RouteStop>): RouteStop => ({
    orderId: "o",
    kind: "dropoff",
    at: at(3000, 0),
    readyAt: 0,
    promisedBy: null,
    ...limits,
  });

  it("refuses a drop-off past its bag budget from pickup, unless compartments keep it cold", () => {
    for (const price of [
      (s: RouteStart, d: RouteStop) => evaluateRoute(s, [pickup, d], timing).cost,
      (s: RouteStart, d: RouteStop) => insertionCost(s, [], [pickup, d], timing),
      (s: RouteStart, d: RouteStop) =>
        insertionCost(s, [door({ orderId: "x" })], [pickup, d], timing),
    ]) {
      expect(price(start, door({ safeMs: 14 * MIN }))).toBeLessThan(Infinity);
      expect(price(start, door({ safeMs: 13 * MIN }))).toBe(Infinity);
      expect(price({ ...start, refrigerated: true }, door({ safeMs: 13 * MIN }))).toBeLessThan(
        Infinity,
      );
    }
  });

  it("refuses a drop-off after its deadline, for every courier", () => {
    for (const refrigerated of [false, true]) {
      const s = { ...start, refrigerated };
      expect(evaluateRoute(s, [pickup, door({ safeUntil: NOW + 16 * MIN })], timing).cost).toBe(
        evaluateRoute(s, [pickup, door({})], timing).cost,
      );
      expect(evaluateRoute(s, [pickup, door({ safeUntil: NOW + 15 * MIN })], timing).cost).toBe(
        Infinity,
      );
      expect(insertionCost(s, [], [pickup, door({ safeUntil: NOW + 15 * MIN })], timing)).toBe(
        Infinity,
      );
    }
  });

  it("prices thermal limits in closed form exactly as the general rule", () => {
    const random = seededRandom(11);
    let refused = 0;
    for (let i = 0; i < 300; i++) {
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
        promisedBy: null,
        safeMs: random() < 0.7 ? Math.floor(5 + random() * 20) * MIN : Infinity,
        safeUntil: random() < 0.4 ? NOW + Math.floor(10 + random() * 40) * MIN : Infinity,
      };
      const s = { ...start, refrigerated: random() < 0.3 };
      const general = evaluateRoute(s, [p, d], timing).cost;
      const fast = insertionCost(s, [], [p, d], timing);
      if (general === Infinity) {
        refused++;
        expect(fast).toBe(Infinity);
      } else expect(fast).toBeCloseTo(general, 9);
    }
    expect(refused).toBeGreaterThan(30);
    expect(refused).toBeLessThan(270);
  });

  it("finds the cheapest insertion within the limits, as trying every position does", () => {
    const random = seededRandom(5);
    const place = () => at(random() * 4000, random() * 4000);
    const limit = (): Partial<RouteStop> => ({
      safeMs: random() < 0.6 ? Math.floor(8 + random() * 30) * MIN : Infinity,
      safeUntil: random() < 0.4 ? NOW + Math.floor(10 + random() * 60) * MIN : Infinity,
    });
    /** The cost of a route by the plain timing rule, with the limits checked here. */
    const reference = (s: RouteStart, route: readonly RouteStop[]) => {
      const plain = route.map((x) => ({ ...x, safeMs: Infinity, safeUntil: Infinity }));
      const e = evaluateRoute(s, plain, timing);
      const pickedAt = new Map<string, number>();
      for (let k = 0; k < route.length; k++) {
        const stop = route[k]!;
        const moment = e.moments[k]!;
        if (stop.kind === "pickup") {
          pickedAt.set(stop.orderId, moment);
          continue;
        }
        if (moment > (stop.safeUntil ?? Infinity)) return Infinity;
        const from = pickedAt.get(stop.orderId);
        if (s.refrigerated !== true && from !== undefined) {
          if (moment - from > (stop.safeMs ?? Infinity)) return Infinity;
        }
      }
      return e.cost;
    };
    let feasible = 0;
    let refused = 0;
    for (let n = 0; n < 400; n++) {
      // Orders on the route: some with both stops (pickup first), some picked up already.
      const route: RouteStop[] = [];
      const orders = Math.floor(random() * 4);
      for (let k = 0; k < orders; k++) {
        const id = `r${k}`;
        const d: RouteStop = {
          orderId: id,
          kind: "dropoff",
          at: place(),
          readyAt: 0,
          promisedBy: null,
          ...limit(),
        };
        const dAt = Math.floor(random() * (route.length + 1));
        route.splice(dAt, 0, d);
        if (random() < 0.5) {
          const pAt = Math.floor(random() * (dAt + 1));
          route.splice(pAt, 0, {
            orderId: id,
            kind: "pickup",
            at: place(),
            readyAt: NOW + Math.floor(random() * 15) * MIN,
            promisedBy: null,
          });
        }
      }
      const added: RouteStop[] = [
        {
          orderId: "new",
          kind: "pickup",
          at: place(),
          readyAt: NOW + Math.floor(random() * 15) * MIN,
          promisedBy: null,
        },
        { orderId: "new", kind: "dropoff", at: place(), readyAt: 0, promisedBy: null, ...limit() },
      ];
      const s: RouteStart = { ...start, refrigerated: random() < 0.25 };
      let brute = Infinity;
      let bruteBlock = Infinity;
      for (let i = 0; i <= route.length; i++) {
        bruteBlock = Math.min(
          bruteBlock,
          reference(s, [...route.slice(0, i), ...added, ...route.slice(i)]),
        );
        for (let j = i; j <= route.length; j++) {
          const candidate = [
            ...route.slice(0, i),
            added[0]!,
            ...route.slice(i, j),
            added[1]!,
            ...route.slice(j),
          ];
          brute = Math.min(brute, reference(s, candidate));
        }
      }
      const cost = insertionCost(s, route, added, timing);
      const built = bestInsertion(s, route, added, timing);
      expect(blockInsertionCost(s, route, added, timing), `block ${n}`).toBeCloseTo(bruteBlock, 9);
      if (brute === Infinity) {
        refused++;
        expect(cost, `case ${n}`).toBe(Infinity);
        expect(built).toBeNull();
      } else {
        feasible++;
        expect(cost, `case ${n}`).toBeCloseTo(brute, 9);
        expect(built!.eval.cost).toBeCloseTo(brute, 9);
        expect(reference(s, built!.stops)).toBeCloseTo(brute, 9);
      }
    }
    expect(feasible).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(50);
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

  describe("thermal budget", () => {
    const chilled = (id: string, over: Partial<DispatchOrder> = {}) =>
      order(id, { temperatureClass: "chilled", safeMs: 60 * MIN, ...over });
    const van = (id: string, over: Partial<DispatchCourier> = {}) =>
      courier(id, {
        mode: "van",
        position: at(2000, 0),
        freeSlots: { ambient: 2, chilled: 2, frozen: 2 },
        ...over,
      });
    // 19.8 km: from a pickup at 2 min, 66 min on the road, at the door at 72: 70 min out.
    const farDoor = at(19_800, 0);

    it("gives chilled goods an e-bike could only bring after 70 minutes to a van, or nobody", () => {
      const plan = (couriers: DispatchCourier[], over: Partial<DispatchOrder> = {}) =>
        pairs(
          planDispatch(
            { now: NOW, orders: [chilled("o1", { dropoff: farDoor, ...over })], couriers },
            OPTIONS,
          ),
        );
      // The e-bike stands at the store, the van 2 km off: the van all the same.
      expect(plan([courier("ebike"), van("van")])).toEqual({ o1: "van" });
      expect(plan([courier("ebike")])).toEqual({});
      // A van without a free chilled slot is no better than a bag.
      expect(
        plan([courier("ebike"), van("van", { freeSlots: { ambient: 2, chilled: 0, frozen: 2 } })]),
      ).toEqual({});
      // Ambient goods, or a door within the hour: the nearer e-bike.
      const ambient = { temperatureClass: "ambient" as const, safeMs: Infinity };
      expect(plan([courier("ebike"), van("van")], ambient)).toEqual({
        o1: "ebike",
      });
      expect(plan([courier("ebike"), van("van")], { dropoff: at(13_200, 0) })).toEqual({
        o1: "ebike",
      });
    });

    /** c1 at the origin carries goods for a door 1.5 km north (5 min). */
    const carrying = (over: Partial<CarriedOrder>): CarriedOrder => ({
      orderId: "carried",
      pickup: null,
      dropoff: at(1500, 0),
      readyAt: NOW - 20 * MIN,
      promisedBy: null,
      temperatureClass: "frozen",
      pickedUp: true,
      locked: false,
      ...over,
    });
    // A new order from a store 600 m behind c1 to a door next to the carried one.
    const behind = order("new", { pickup: at(-600, 0), dropoff: at(1600, 0) });
    const pickupOfNew = (c: CarriedOrder) =>
      planDispatch(
        { now: NOW, orders: [behind], couriers: [courier("c1", { carrying: [c] })] },
        OPTIONS,
      ).assignments.find((a) => a.orderId === "new")?.pickupAt;

    it("delivers frozen goods 20 of their 30 bag minutes out before fetching new work", () => {
      // No limit: store first (pickup at 4 min), then both doors (frozen at 15 min).
      expect(pickupOfNew(carrying({ temperatureClass: "ambient" }))).toBeCloseTo(NOW + 4 * MIN, -3);
      // 10 minutes left: the frozen door at 7 min, back to the store (7 min), pickup at 18.
      expect(pickupOfNew(carrying({ safeUntil: NOW + 10 * MIN }))).toBeCloseTo(NOW + 18 * MIN, -3);
    });

    it("keeps planning a courier whose goods are already past their budget, never delaying them", () => {
      const late = carrying({ temperatureClass: "chilled", safeUntil: NOW - MIN });
      expect(pickupOfNew(late)).toBeCloseTo(NOW + 18 * MIN, -3);
      // Nor does it take an unstarted job from such a courier for want of a route.
      const job = carrying({
        orderId: "job",
        pickup: at(0, 0),
        pickedUp: false,
        temperatureClass: "chilled",
        safeMs: 60 * MIN,
      });
      const c1 = courier("c1", { position: at(9000, 0), carrying: [late, job] });
      const free = courier("free", { position: at(300, 0) });
      const relieved = planDispatch({ now: NOW, orders: [], couriers: [c1, free] }, OPTIONS);
      expect(relieved.reassignments.map((r) => r.orderId)).toEqual(["job"]);
    });

    it("never takes a van's chilled job back for a free courier who could not keep it cold", () => {
      const job = (over: Partial<CarriedOrder> = {}) =>
        carrying({
          orderId: "job",
          pickup: at(0, 0),
          dropoff: farDoor,
          pickedUp: false,
          temperatureClass: "chilled",
          safeMs: 60 * MIN,
          ...over,
        });
      // The van is 9 km from the store (30 min); the free e-bike stands 300 m from it.
      const vanWith = (j: CarriedOrder) => van("van", { position: at(-9000, 0), carrying: [j] });
      const free = courier("free", { position: at(300, 0) });
      const relieved = (j: CarriedOrder, others = [free]) =>
        planDispatch({ now: NOW, orders: [], couriers: [vanWith(j), ...others] }, OPTIONS)
          .reassignments;
      expect(relieved(job())).toEqual([]);
      // Ambient goods: the e-bike is the better courier.
      expect(relieved(job({ temperatureClass: "ambient", safeMs: Infinity }))).toHaveLength(1);
      // A free van with a chilled slot is, and one without is not.
      const freeVan = van("free-van", { position: at(300, 0) });
      expect(relieved(job(), [freeVan])).toHaveLength(1);
      const full = van("free-van", {
        position: at(300, 0),
        freeSlots: { ambient: 2, chilled: 0, frozen: 2 },
      });
      expect(relieved(job(), [full])).toEqual([]);
    });

    it("does not bundle chilled orders when the shared trip breaks a bag budget", () => {
      // Alone, each door is 11 min from pickup; together the second is 15 min out.
      const orders = [
        chilled("o1", { dropoff: at(2000, 0), safeMs: 12 * MIN }),
        chilled("o2", { dropoff: at(2100, 100), safeMs: 12 * MIN }),
      ];
      const couriers = [courier("c1"), courier("c2"), courier("c3")];
      const plan = planDispatch({ now: NOW, orders, couriers }, OPTIONS);
      const p = pairs(plan);
      expect(Object.keys(p)).toEqual(["o1", "o2"]);
      expect(p.o1).not.toBe(p.o2);
      expect(plan.stats.bundles).toBe(0);
      // A budget the trip keeps: bundled as before.
      const roomy = orders.map((o) => ({ ...o, safeMs: 20 * MIN }));
      expect(planDispatch({ now: NOW, orders: roomy, couriers }, OPTIONS).stats.bundles).toBe(1);
    });

    it("plans goods whose budget is never binding exactly as ambient goods", () => {
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
      const ambient = planDispatch({ now: NOW, orders, couriers }, OPTIONS);
      const roomy = orders.map((o, i) =>
        i % 2 === 0 ? { ...o, temperatureClass: "chilled" as const, safeMs: 600 * MIN } : o,
      );
      expect(planDispatch({ now: NOW, orders: roomy, couriers }, OPTIONS).assignments).toEqual(
        ambient.assignments,
      );
    });
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

  it("plans tick after tick the same with one memo, a new memo each tick, or none", () => {
    // A market over ticks: couriers move, come and go, get work; orders come and go, some
    // locked, passed on or chilled with a bag budget; inputs arrive in any order. The memo
    // keeps the courier index, each courier's planning state and the last sort between ticks.
    // (Couriers at exactly the same spot are left out: the index breaks such ties by its own
    // history, with a memo as without.)
    const random = seededRandom(7);
    const place = () => at(random() * 6000, random() * 6000);
    const stores = Array.from({ length: 6 }, place);
    let seq = 0;
    const newOrder = (now: number): DispatchOrder => {
      const s = Math.floor(random() * stores.length);
      const chilled = random() < 0.3;
      return order(`o${seq++}`, {
        storeId: `s${s}`,
        pickup: stores[s]!,
        dropoff: random() < 0.05 ? null : place(),
        readyAt: now + Math.floor((random() - 0.3) * 20) * MIN,
        promisedBy: random() < 0.8 ? now + Math.floor(random() * 50) * MIN : null,
        temperatureClass: chilled ? "chilled" : "ambient",
        queuedAt: now - Math.floor(random() * 15) * MIN,
        lockedTo: random() < 0.05 ? `c${Math.floor(random() * 40)}` : null,
        passedBy: random() < 0.1 ? [`c${Math.floor(random() * 40)}`] : [],
        ...(chilled ? { safeMs: Math.floor(10 + random() * 50) * MIN } : {}),
      });
    };
    const carried = (now: number, k: number): CarriedOrder => {
      const pickedUp = random() < 0.5;
      return {
        orderId: `x${seq++}`,
        pickup: stores[k % stores.length]!,
        dropoff: place(),
        readyAt: now + Math.floor((random() - 0.5) * 20) * MIN,
        promisedBy: now + Math.floor(random() * 40) * MIN,
        temperatureClass: "ambient",
        pickedUp,
        locked: random() < 0.1,
        ...(random() < 0.2 ? { offered: true } : {}),
        ...(random() < 0.2 && pickedUp ? { safeUntil: now + Math.floor(random() * 30) * MIN } : {}),
      };
    };
    const newCourier = (i: number, now: number): DispatchCourier => {
      const van = i % 7 === 0;
      return courier(`c${i}`, {
        mode: van ? "van" : "ebike",
        position: place(),
        capacityLeft: Math.floor(random() * 4),
        freeSlots: van ? { ambient: 2, chilled: Math.floor(random() * 3), frozen: 1 } : null,
        carrying: Array.from({ length: Math.floor(random() * 3) }, (_, k) => carried(now, i + k)),
        offAt: random() < 0.2 ? now + Math.floor(random() * 40) * MIN : null,
      });
    };
    let couriers = Array.from({ length: 40 }, (_, i) => newCourier(i, NOW));
    let orders = Array.from({ length: 60 }, () => newOrder(NOW));
    const shuffled = <T>(xs: readonly T[]): T[] => {
      const ys = [...xs];
      for (let i = ys.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [ys[i], ys[j]] = [ys[j]!, ys[i]!];
      }
      return ys;
    };
    const memo = new DispatchMemo();
    let assigned = 0;
    for (let tick = 0; tick < 25; tick++) {
      const now = NOW + tick * 2000;
      couriers = couriers.map((c, i) => {
        if (random() < 0.05) return newCourier(i, now);
        const p = c.position!;
        const moved = {
          lat: p.lat + (random() - 0.5) * 0.002,
          lng: p.lng + (random() - 0.5) * 0.002,
        };
        return random() < 0.7 ? { ...c, position: moved } : c;
      });
      orders = orders.map((o) => (random() < 0.15 ? newOrder(now) : o));
      const input = {
        now,
        orders: random() < 0.5 ? shuffled(orders) : orders,
        // Some couriers off the input for a tick (off shift, no position sent).
        couriers: shuffled(couriers).filter(() => random() < 0.9),
      };
      for (const options of [{}, OPTIONS]) {
        const kept = planDispatch(input, options, memo);
        expect(planDispatch(input, options, new DispatchMemo())).toEqual(kept);
        expect(planDispatch(input, options)).toEqual(kept);
        assigned += kept.assignments.length;
      }
    }
    expect(assigned).toBeGreaterThan(100);
  });
});
