import { describe, expect, it } from "vitest";
import { checkSolution, solve } from "../../dispatch/waves/index.ts";
import type { WaveMessage } from "../../protocol/actors/wave.ts";
import type { Effect, Principal, TurnContext } from "../types.ts";
import { events } from "../testing/turns.ts";
import { PLAN_ATTEMPTS, closingTimer, waveLogic } from "./logic.ts";
import { problemInstance, visitsOf } from "./planner.ts";
import { evaluateRoute } from "./routes.ts";
import type { WaveProblem } from "./routes.ts";
import type { WaveState } from "./types.ts";

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 22, 0, 0, 0); // 08:00 in Kunming
const self = { type: "wave", id: "km-20261122-pm" };
const dispatcher: Principal = { role: "dispatcher", id: "d1" };
const planner: Principal = { role: "system", id: "wave-planner" };
const shop: Principal = { role: "system", id: "shop" };

let seq = 0;
function ctx(now: number, by?: Principal, origin: TurnContext["origin"] = "client"): TurnContext {
  seq += 1;
  const base = { self, now, commandId: `cmd-${seq}`, seq, origin };
  return by === undefined ? base : { ...base, by };
}
const timer = (now: number) => ctx(now, undefined, "timer");

function run(state: WaveState, msg: WaveMessage, c: TurnContext) {
  const result = waveLogic.transition(state, waveLogic.messages.parse(msg), c);
  if (!result.ok) throw new Error(`refused ${result.refusal.code}: ${result.refusal.message}`);
  return result;
}
function refusal(
  state: WaveState,
  msg: WaveMessage,
  c: TurnContext,
): { code: string; message: string } {
  const result = waveLogic.transition(state, waveLogic.messages.parse(msg), c);
  if (result.ok) throw new Error(`expected a refusal for ${msg.type}`);
  return result.refusal;
}
const dataOf = (effects: readonly Effect[], name: string) =>
  effects.flatMap((e) => (e.kind === "emit" && e.name === name ? [e.data] : []));
const problemOf = (effects: readonly Effect[]) =>
  (dataOf(effects, "plan_requested")[0] as { problem: WaveProblem }).problem;

const depot = { lat: 25.02, lng: 102.7 };
const stores = [
  { id: "s1", at: { lat: 25.04, lng: 102.71 } },
  { id: "s2", at: { lat: 25.06, lng: 102.68 } },
  { id: "s3", at: { lat: 25.03, lng: 102.74 } },
];
const points = Array.from({ length: 5 }, (_, i) => ({
  id: `p${i + 1}`,
  name: `自提点${i + 1}`,
  location: { lat: 25.0 + 0.015 * i, lng: 102.66 + 0.02 * ((i * 3) % 5) },
  opensAt: T0 + 3 * 60 * MIN,
  closesAt: T0 + 12 * 60 * MIN,
  capacity: 40,
  chilledShelf: i !== 4,
  staffIds: [`staff-p${i + 1}`],
}));
const vans = Array.from({ length: 4 }, (_, i) => ({
  vehicleId: `v${i + 1}`,
  courierId: `c${i + 1}`,
}));

const openMsg: WaveMessage = {
  type: "open",
  marketId: "km",
  cutoffAt: T0 + 120 * MIN,
  departAt: T0 + 180 * MIN,
  // Two hours on the road: 60 orders (90 minutes of hand-overs alone) need two vans or more.
  horizonAt: T0 + 300 * MIN,
  depot,
  fleet: {
    vans,
    capacity: { weightKg: 200, volumeL: 1500 },
    compartments: { frozen: 300, chilled: 600 },
  },
  pickupPoints: points,
};

function joinMsg(
  i: number,
  overrides: Partial<Extract<WaveMessage, { type: "join" }>> = {},
): WaveMessage {
  const store = stores[i % 3]!;
  return {
    type: "join",
    orderId: `o${i}`,
    storeId: store.id,
    pickup: store.at,
    destination: { kind: "pickup_point", pickupPointId: `p${(i % 4) + 1}` },
    load: { weightKg: 5, volumeL: 20 },
    temperatureClass: i % 5 === 0 ? "frozen" : i % 2 === 0 ? "chilled" : "ambient",
    pickupCode: `K${String(1000 + i)}`,
    ...overrides,
  };
}

function opened(): WaveState {
  return run(waveLogic.initial(self), openMsg, ctx(T0, dispatcher)).state;
}
function withOrders(n: number): WaveState {
  let s = opened();
  for (let i = 0; i < n; i++) s = run(s, joinMsg(i), ctx(T0 + MIN, shop)).state;
  return s;
}
/** Plans the problem as the host's planner would, in-process and reproducibly. */
function answer(problem: WaveProblem): WaveMessage {
  const result = solve(problemInstance(problem), { iterations: 400, seed: 7 });
  const { routes, unassigned } = visitsOf(problem, result);
  return {
    type: "plan_ready",
    requestId: problem.requestId,
    routes,
    unassigned,
    seed: 7,
    elapsedMs: result.elapsedMs,
  };
}
const plannedCache = new Map<number, WaveState>();
/** The wave with `n` orders, cut off and planned (60 orders of 5 kg need two 200 kg vans). */
function planned(n = 60): WaveState {
  const known = plannedCache.get(n);
  if (known !== undefined) return known;
  const cut = run(withOrders(n), { type: "cutoff" }, timer(T0 + 120 * MIN));
  const state = run(cut.state, answer(problemOf(cut.effects)), ctx(T0 + 121 * MIN, planner)).state;
  plannedCache.set(n, state);
  return state;
}

describe("wave: opening and joining", () => {
  it("arms the cut-off and the departure as durable reminders", () => {
    const r = run(waveLogic.initial(self), openMsg, ctx(T0, dispatcher));
    expect(r.state.status).toBe("open");
    const timers = r.effects.flatMap((e) =>
      e.kind === "schedule" ? [[e.timer, e.at, e.msg.type]] : [],
    );
    expect(timers).toEqual([
      ["cutoff", T0 + 120 * MIN, "cutoff"],
      ["departure", T0 + 180 * MIN, "departure"],
    ]);
  });

  it("lets only dispatchers or the system open a wave, once, with times in order", () => {
    const fresh = waveLogic.initial(self);
    expect(refusal(fresh, openMsg, ctx(T0, { role: "courier", id: "c1" })).code).toBe("forbidden");
    expect(refusal(opened(), openMsg, ctx(T0, dispatcher)).code).toBe("already_open");
    const late = { ...openMsg, departAt: T0 + 100 * MIN } as WaveMessage;
    expect(refusal(fresh, late, ctx(T0, dispatcher)).code).toBe("invalid_times");
  });

  it("refuses an order for an unknown point, cold goods at a point without a chilled shelf, and a full point", () => {
    const s = opened();
    const elsewhere = joinMsg(1, { destination: { kind: "pickup_point", pickupPointId: "nope" } });
    expect(refusal(s, elsewhere, ctx(T0, shop)).code).toBe("unknown_pickup_point");
    const chilledToP5 = joinMsg(2, { destination: { kind: "pickup_point", pickupPointId: "p5" } });
    expect(refusal(s, chilledToP5, ctx(T0, shop)).code).toBe("no_chilled_shelf");
    let full = s;
    for (let i = 0; i < 40; i++) {
      full = run(
        full,
        joinMsg(i * 4, { destination: { kind: "pickup_point", pickupPointId: "p1" } }),
        ctx(T0, shop),
      ).state;
    }
    const one = joinMsg(999, { destination: { kind: "pickup_point", pickupPointId: "p1" } });
    expect(refusal(full, one, ctx(T0, shop)).code).toBe("pickup_point_full");
  });

  it("lets a store add only its own orders", () => {
    const s = opened();
    expect(refusal(s, joinMsg(0), ctx(T0, { role: "store", id: "s2" })).code).toBe("forbidden");
    expect(run(s, joinMsg(0), ctx(T0, { role: "store", id: "s1" })).state.orders.o0?.status).toBe(
      "joined",
    );
  });
});

describe("wave: planning at the cut-off, off the turn", () => {
  it("asks the planner with the whole problem and a retry reminder at the cut-off", () => {
    const r = run(withOrders(12), { type: "cutoff" }, timer(T0 + 120 * MIN));
    expect(r.state.status).toBe("cut_off");
    const problem = problemOf(r.effects);
    expect(problem.requestId).toBe(1);
    expect(problem.requests.map((q) => q.orderId).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `o${i}`).sort(),
    );
    expect(problem.vans).toBe(4);
    const retry = r.effects.find((e) => e.kind === "schedule");
    expect(retry).toMatchObject({ timer: "plan", msg: { type: "plan_timeout", requestId: 1 } });
    expect(refusal(withOrders(1), { type: "cutoff" }, ctx(T0, dispatcher)).code).toBe("forbidden");
  });

  it("stores a feasible plan as routes per van with planned times, agreeing with the independent checker", () => {
    const cut = run(withOrders(60), { type: "cutoff" }, timer(T0 + 120 * MIN));
    const problem = problemOf(cut.effects);
    const instance = problemInstance(problem);
    const result = solve(instance, { iterations: 400, seed: 7 });
    const report = checkSolution(instance, result.routes);
    expect(report.feasible).toBe(true);
    const r = run(cut.state, answer(problem), ctx(T0 + 121 * MIN, planner));
    const plan = r.state.plan!;
    expect(r.state.pending).toBeNull();
    expect(plan.version).toBe(1);
    expect(plan.unplanned).toEqual([]);
    expect(plan.cost).toBeCloseTo(report.cost, 6);
    expect(plan.vans).toBe(report.vehicles);
    const onRoutes = plan.routes.flatMap((route) =>
      route.visits.filter((v) => v.kind === "dropoff").map((v) => v.orderId),
    );
    expect(onRoutes.sort()).toEqual(Object.keys(r.state.orders).sort());
    for (const route of plan.routes.filter((x) => x.visits.length > 0)) {
      expect(route.stops[0]!.arriveAt).toBeGreaterThanOrEqual(T0 + 180 * MIN);
      for (const stop of route.stops) {
        expect(stop.startAt).toBeGreaterThanOrEqual(stop.arriveAt);
        if (stop.place.startsWith("point:")) {
          const p = points.find((x) => `point:${x.id}` === stop.place)!;
          expect(stop.startAt).toBeGreaterThanOrEqual(p.opensAt);
          expect(stop.startAt).toBeLessThanOrEqual(p.closesAt);
        }
      }
      expect(route.returnAt!).toBeLessThanOrEqual(T0 + 300 * MIN);
    }
    expect(events(r.effects)).toEqual(["planned"]);
    expect(r.effects).toContainEqual({ kind: "cancel", timer: "plan" });
  });

  it("refuses a plan that breaks a van's capacity, naming the violation", () => {
    // 41 orders of 5 kg: 205 kg in a 200 kg van.
    const cut = run(withOrders(41), { type: "cutoff" }, timer(T0 + 120 * MIN));
    const problem = problemOf(cut.effects);
    const byStore = [...problem.requests].sort((a, b) =>
      a.pickup.place < b.pickup.place ? -1 : 1,
    );
    const oneVan = [
      ...byStore.map((q) => ({ orderId: q.orderId, kind: "pickup" as const })),
      ...problem.requests.map((q) => ({ orderId: q.orderId, kind: "dropoff" as const })),
    ];
    const bad: WaveMessage = {
      type: "plan_ready",
      requestId: 1,
      routes: [oneVan],
      unassigned: [],
      seed: 1,
      elapsedMs: 1,
    };
    const r = refusal(cut.state, bad, ctx(T0 + 121 * MIN, planner));
    expect(r.code).toBe("infeasible_plan");
    expect(r.message).toMatch(/over its 200/);
  });

  it("re-plans on a late order and discards the answer to the older request", () => {
    const cut = run(withOrders(10), { type: "cutoff" }, timer(T0 + 120 * MIN));
    const first = answer(problemOf(cut.effects));
    const late = run(cut.state, joinMsg(50), ctx(T0 + 125 * MIN, shop));
    expect(dataOf(late.effects, "order_joined")[0]).toMatchObject({ late: true });
    const second = problemOf(late.effects);
    expect(second.requestId).toBe(2);
    expect(second.requests.map((q) => q.orderId)).toContain("o50");
    const stale = run(late.state, first, ctx(T0 + 126 * MIN, planner));
    expect(stale.state.plan).toBeNull();
    expect(events(stale.effects)).toEqual(["plan_discarded"]);
    const fresh = run(stale.state, answer(second), ctx(T0 + 127 * MIN, planner));
    expect(fresh.state.plan?.routes.flatMap((r) => r.visits).some((v) => v.orderId === "o50")).toBe(
      true,
    );
  });

  it("re-plans on a cancellation before departure, taking the order off its van at once", () => {
    const s = planned(20);
    const r = run(s, { type: "leave", orderId: "o3" }, ctx(T0 + 130 * MIN, shop));
    expect(r.state.orders.o3).toBeUndefined();
    expect(r.state.plan!.routes.flatMap((x) => x.visits).some((v) => v.orderId === "o3")).toBe(
      false,
    );
    expect(problemOf(r.effects).requests.map((q) => q.orderId)).not.toContain("o3");
  });

  it("asks again on a planner that does not answer, then raises an alert", () => {
    let r = run(withOrders(5), { type: "cutoff" }, timer(T0 + 120 * MIN));
    for (let attempt = 2; attempt <= PLAN_ATTEMPTS; attempt++) {
      r = run(r.state, { type: "plan_timeout", requestId: 1 }, timer(T0 + (120 + attempt) * MIN));
      expect(problemOf(r.effects)).toMatchObject({ requestId: 1, attempt });
    }
    r = run(r.state, { type: "plan_timeout", requestId: 1 }, timer(T0 + 130 * MIN));
    expect(events(r.effects)).toEqual(["planning_alert"]);
    expect(r.state.pending).toBeNull();
  });
});

describe("wave: the dispatcher's commands", () => {
  it("moves a stop to another van, re-checked, with the new cost and a new version", () => {
    const s = planned();
    const plan = s.plan!;
    const used = plan.routes.filter((r) => r.visits.length > 0);
    const from = used[0]!;
    // The planner packs its vans to the end of the shift; a van it left empty has room.
    const to = plan.routes.find((r) => r.visits.length === 0)!;
    expect(to).toBeDefined();
    const stopIndex = from.stops.findIndex((x) => x.kind === "dropoff");
    const moving = from.stops[stopIndex]!.orderIds;
    const msg: WaveMessage = {
      type: "move_stop",
      planVersion: plan.version,
      fromVehicleId: from.vehicleId,
      stopIndex,
      toVehicleId: to.vehicleId,
    };
    const r = run(s, msg, ctx(T0 + 130 * MIN, dispatcher));
    const next = r.state.plan!;
    expect(next.version).toBe(plan.version + 1);
    const target = next.routes.find((x) => x.vehicleId === to.vehicleId)!;
    for (const id of moving) {
      expect(target.visits.filter((v) => v.orderId === id).map((v) => v.kind)).toEqual([
        "pickup",
        "dropoff",
      ]);
    }
    expect(evaluateRoute(r.state, target.visits).feasible).toBe(true);
    expect(dataOf(r.effects, "stop_moved")[0]).toMatchObject({
      previousCost: plan.cost,
      cost: next.cost,
    });
    expect(next.cost).toBeCloseTo(
      next.routes.reduce((a, x) => a + x.travelMinutes, 0),
      6,
    );
  });

  it("refuses a move that misses a door's window, a stale version, a pickup stop and a locked route", () => {
    // Two doors in opposite directions from store s1, each with a window only its own van meets.
    const s1 = stores[0]!.at;
    const door = (dLat: number, minutes: number) => ({
      kind: "door" as const,
      location: { lat: s1.lat + dLat, lng: s1.lng },
      window: { from: T0 + 180 * MIN, to: T0 + (180 + minutes) * MIN },
    });
    let s = opened();
    s = run(
      s,
      joinMsg(0, { orderId: "south", temperatureClass: "ambient", destination: door(-0.027, 20) }),
      ctx(T0, shop),
    ).state;
    s = run(
      s,
      joinMsg(3, { orderId: "north", temperatureClass: "ambient", destination: door(0.09, 45) }),
      ctx(T0, shop),
    ).state;
    const cut = run(s, { type: "cutoff" }, timer(T0 + 120 * MIN));
    const visits = (id: string) => [
      { orderId: id, kind: "pickup" as const },
      { orderId: id, kind: "dropoff" as const },
    ];
    const two: WaveMessage = {
      type: "plan_ready",
      requestId: 1,
      routes: [visits("south"), visits("north")],
      unassigned: [],
      seed: 1,
      elapsedMs: 1,
    };
    s = run(cut.state, two, ctx(T0 + 121 * MIN, planner)).state;
    const move = (
      over: Partial<Extract<WaveMessage, { type: "move_stop" }>> = {},
    ): WaveMessage => ({
      type: "move_stop",
      planVersion: s.plan!.version,
      fromVehicleId: "v1",
      stopIndex: 1,
      toVehicleId: "v2",
      ...over,
    });
    const late = refusal(s, move(), ctx(T0 + 130 * MIN, dispatcher));
    expect(late.code).toBe("infeasible_move");
    expect(late.message).toMatch(/door:south .* after its window closes/);
    expect(refusal(s, move({ planVersion: 0 }), ctx(T0, dispatcher)).code).toBe("stale_plan");
    expect(refusal(s, move({ stopIndex: 0 }), ctx(T0, dispatcher)).code).toBe("not_a_dropoff");
    expect(refusal(s, move({ toVehicleId: "v1" }), ctx(T0, dispatcher)).code).toBe("same_vehicle");
    expect(refusal(s, move(), ctx(T0, { role: "store", id: "s1" })).code).toBe("forbidden");
    const locked = run(
      s,
      { type: "lock_route", vehicleId: "v2", locked: true },
      ctx(T0, dispatcher),
    ).state;
    expect(
      refusal(locked, move({ planVersion: locked.plan!.version }), ctx(T0, dispatcher)).code,
    ).toBe("route_locked");
    // To an empty van it fits, and the cost is the plan's travel, recomputed.
    const moved = run(s, move({ toVehicleId: "v3" }), ctx(T0 + 130 * MIN, dispatcher)).state;
    expect(moved.plan!.routes.find((r) => r.vehicleId === "v3")!.visits).toEqual(visits("south"));
    expect(moved.plan!.cost).toBeCloseTo(s.plan!.cost, 6);
  });

  it("keeps a locked route through a re-plan: its orders are not offered, its van not counted", () => {
    const s = planned();
    const kept = s.plan!.routes.find((r) => r.visits.length > 0)!;
    const locked = run(
      s,
      { type: "lock_route", vehicleId: kept.vehicleId, locked: true },
      ctx(T0 + 130 * MIN, dispatcher),
    );
    expect(locked.state.plan!.version).toBe(s.plan!.version + 1);
    const r = run(locked.state, { type: "replan" }, ctx(T0 + 131 * MIN, dispatcher));
    const problem = problemOf(r.effects);
    expect(problem.vans).toBe(3);
    const keptOrders = new Set(kept.visits.map((v) => v.orderId));
    expect(problem.requests.some((q) => keptOrders.has(q.orderId))).toBe(false);
    const after = run(r.state, answer(problem), ctx(T0 + 132 * MIN, planner)).state;
    expect(after.plan!.routes.find((x) => x.vehicleId === kept.vehicleId)!.visits).toEqual(
      kept.visits,
    );
    expect(after.plan!.unplanned).toEqual([]);
  });
});

describe("wave: live at the points", () => {
  function departed() {
    return run(planned(), { type: "departure" }, timer(T0 + 180 * MIN));
  }

  it("puts planned orders on their vans at departure and arms a closing reminder per point", () => {
    const r = departed();
    expect(r.state.status).toBe("departed");
    expect(Object.values(r.state.orders).every((o) => o.status === "on_van")).toBe(true);
    const closings = r.effects.flatMap((e) => (e.kind === "schedule" ? [e.timer] : []));
    expect(closings).toEqual(["p1", "p2", "p3", "p4"].map(closingTimer));
    expect(refusal(r.state, joinMsg(99), ctx(T0 + 181 * MIN, shop)).code).toBe("wave_departed");
  });

  it("marks a van's orders at the point with their codes when its staff confirm, and hands over with the code", () => {
    const s = departed().state;
    const route = s.plan!.routes.find((r) => r.stops.some((x) => x.place === "point:p2"))!;
    const arrive: WaveMessage = {
      type: "arrive_at_point",
      pickupPointId: "p2",
      vehicleId: route.vehicleId,
    };
    expect(refusal(s, arrive, ctx(T0 + 200 * MIN, { role: "store", id: "staff-p1" })).code).toBe(
      "forbidden",
    );
    const r = run(s, arrive, ctx(T0 + 200 * MIN, { role: "store", id: "staff-p2" }));
    const arrived = dataOf(r.effects, "arrived_at_point")[0] as {
      orders: { orderId: string; pickupCode: string }[];
    };
    const stopOrders = route.stops.filter((x) => x.place === "point:p2").flatMap((x) => x.orderIds);
    expect(arrived.orders.map((o) => o.orderId).sort()).toEqual([...stopOrders].sort());
    const one = arrived.orders[0]!;
    expect(one.pickupCode).toBe(`K${1000 + Number(one.orderId.slice(1))}`);
    expect(r.state.orders[one.orderId]!.status).toBe("at_pickup_point");
    expect(refusal(r.state, arrive, ctx(T0 + 201 * MIN, dispatcher)).code).toBe("already_arrived");
    const staff = { role: "store" as const, id: "staff-p2" };
    expect(
      refusal(
        r.state,
        { type: "collect", orderId: one.orderId, pickupCode: "WRONG1" },
        ctx(T0, staff),
      ).code,
    ).toBe("wrong_pickup_code");
    const got = run(
      r.state,
      { type: "collect", orderId: one.orderId, pickupCode: one.pickupCode },
      ctx(T0 + 300 * MIN, staff),
    );
    expect(got.state.orders[one.orderId]!.status).toBe("collected");
  });

  it("raises an alert at closing time for what is still on the shelf", () => {
    const s = departed().state;
    const r = run(s, { type: "point_closing", pickupPointId: "p1" }, timer(T0 + 720 * MIN));
    const alert = dataOf(r.effects, "uncollected_at_closing")[0] as {
      orderIds: string[];
      marketId: string;
    };
    expect(alert.marketId).toBe("km");
    const atP1 = Object.values(s.orders).filter(
      (o) => o.destination.kind === "pickup_point" && o.destination.pickupPointId === "p1",
    );
    expect(alert.orderIds).toEqual(atP1.map((o) => o.orderId).sort());
    expect(atP1.every((o) => r.state.orders[o.orderId]!.status === "uncollected")).toBe(true);
  });

  it("survives persist → JSON → restore unchanged, and its view hides the pickup codes", () => {
    const s = departed().state;
    const back = waveLogic.restore!(
      JSON.parse(JSON.stringify(waveLogic.persist!(s))),
      waveLogic.version,
    );
    expect(back).toEqual(s);
    expect(JSON.stringify(waveLogic.view!(s))).not.toContain("K1001");
  });
});
