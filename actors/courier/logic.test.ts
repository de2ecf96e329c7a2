import { describe, expect, it } from "vitest";
import type { Effect, Principal, TurnContext } from "../types.ts";
import { MarketMessage } from "../../protocol/actors/market.ts";
import { OrderMessage } from "../../protocol/actors/order.ts";
import type { CourierMessage } from "../../protocol/actors/courier.ts";
import {
  MAX_FUTURE_SKEW_MS,
  POSITION_FORWARD_INTERVAL_MS,
  courierLogic,
  courierStatus,
  freeCapacity,
} from "./logic.ts";
import type { CourierState } from "./types.ts";
import { events } from "../testing/turns.ts";

const T0 = Date.UTC(2025, 5, 1, 2, 0, 0);
const self = { type: "courier", id: "c1" };
const me: Principal = { role: "courier", id: "c1" };
const dispatcher: Principal = { role: "dispatcher", id: "d1" };

let seq = 0;
function ctx(now = T0, over: Partial<TurnContext> = {}): TurnContext {
  seq += 1;
  return { self, now, commandId: `cmd-${seq}`, seq, origin: "client", by: me, ...over };
}
const asSelf = (now = T0) => ctx(now);
const asDispatcher = (now = T0) => ctx(now, { by: dispatcher });
const asActor = (now = T0) => ctx(now, { origin: "actor", by: { role: "system", id: "rt" } });
const asTimer = (now = T0) => ctx(now, { origin: "timer", by: { role: "system", id: "rt" } });

/** Runs one message that must be accepted; the message goes through the wire schema first. */
function run(state: CourierState, msg: CourierMessage, c: TurnContext = asSelf()) {
  const parsed = courierLogic.messages.parse(msg);
  const result = courierLogic.transition(state, parsed, c);
  if (!result.ok) throw new Error(`refused ${result.refusal.code}: ${result.refusal.message}`);
  for (const s of sends(result.effects)) {
    if (s.to.type === "market") MarketMessage.parse(s.msg);
    if (s.to.type === "order") OrderMessage.parse(s.msg);
  }
  return result;
}

function refusal(state: CourierState, msg: CourierMessage, c: TurnContext = asSelf()): string {
  const result = courierLogic.transition(state, msg, c);
  if (result.ok) throw new Error(`expected a refusal for ${msg.type}`);
  return result.refusal.code;
}

const sends = (effects: readonly Effect[]) =>
  effects.flatMap((e) => (e.kind === "send" ? [e.command] : []));
const sentTo = (effects: readonly Effect[], type: string, id: string) =>
  sends(effects)
    .filter((c) => c.to.type === type && c.to.id === id)
    .map((c) => c.msg);

const fresh = () => courierLogic.initial(self);
const onShift: CourierMessage = {
  type: "go_on_shift",
  marketId: "sh-pudong",
  vehicle: { mode: "ebike" },
  capacity: { maxOrders: 2 },
};
const store = { lat: 31.2304, lng: 121.4737 };
const door = { lat: 31.2404, lng: 121.4837 };

function offerMsg(
  orderId: string,
  expiresAt = T0 + 30_000,
  cls = "chilled" as const,
): CourierMessage {
  return {
    type: "offer",
    orderId,
    marketId: "sh-pudong",
    expiresAt,
    temperatureClass: cls,
    storeId: "s1",
    pickup: store,
    dropoff: door,
  };
}
function assignMsg(
  orderId: string,
  extra: Partial<Extract<CourierMessage, { type: "job_assigned" }>> = {},
): CourierMessage {
  return {
    type: "job_assigned",
    orderId,
    temperatureClass: "chilled",
    pickupCode: "K7Q2",
    pickup: { location: store, storeId: "s1", plannedAt: T0 + 600_000 },
    dropoff: { location: door, plannedAt: T0 + 1_200_000 },
    ...extra,
  };
}
const shifted = () => run(fresh(), onShift).state;
const withJob = (orderId = "o1") => run(shifted(), assignMsg(orderId), asActor()).state;
const routeOf = (s: CourierState) => s.route.map((r) => `${r.orderId}:${r.kind}`);

describe("shift", () => {
  it("starts offline", () => {
    expect(courierStatus(fresh())).toBe("offline");
    expect(freeCapacity(fresh())).toBe(0);
  });

  it("goes on shift and tells the market it is available", () => {
    const { state, effects } = run(fresh(), onShift);
    expect(courierStatus(state)).toBe("idle");
    expect(events(effects)).toEqual(["went_on_shift"]);
    expect(sentTo(effects, "market", "sh-pudong")).toEqual([
      {
        type: "courier_available",
        courierId: "c1",
        mode: "ebike",
        vehicleId: null,
        freeCapacity: 2,
        freeSlots: null,
        position: null,
      },
    ]);
  });

  it("refuses going on shift twice", () => {
    expect(refusal(shifted(), onShift)).toBe("invalid_transition");
  });

  it("refuses a vehicle id or temperature slots for anything but a van", () => {
    expect(
      refusal(fresh(), {
        ...onShift,
        vehicle: { mode: "bike", vehicleId: "v1" },
      } as CourierMessage),
    ).toBe("invalid_vehicle");
    expect(
      refusal(fresh(), {
        ...onShift,
        capacity: { maxOrders: 2, slots: { ambient: 1, chilled: 1, frozen: 0 } },
      } as CourierMessage),
    ).toBe("invalid_capacity");
  });

  it("reports free temperature slots for a van", () => {
    const van: CourierMessage = {
      type: "go_on_shift",
      marketId: "sh-pudong",
      vehicle: { mode: "van", vehicleId: "v1" },
      capacity: { maxOrders: 6, slots: { ambient: 2, chilled: 2, frozen: 2 } },
    };
    let state = run(fresh(), van).state;
    const { effects } = run(state, assignMsg("o1"), asActor());
    state = run(state, assignMsg("o1"), asActor()).state;
    expect(sentTo(effects, "market", "sh-pudong")[0]).toMatchObject({
      freeCapacity: 5,
      freeSlots: { ambient: 2, chilled: 1, frozen: 2 },
      vehicleId: "v1",
    });
    expect(courierLogic.view!(state)).toMatchObject({ status: "busy", freeCapacity: 5 });
  });

  it("lets a dispatcher put a courier on shift but not another courier", () => {
    expect(run(fresh(), onShift, asDispatcher()).state.shift).not.toBeNull();
    expect(refusal(fresh(), onShift, ctx(T0, { by: { role: "courier", id: "c2" } }))).toBe(
      "wrong_courier",
    );
  });

  it("refuses shift changes from stores, shoppers, anonymous clients and other actors", () => {
    expect(refusal(fresh(), onShift, ctx(T0, { by: { role: "store", id: "s1" } }))).toBe(
      "forbidden",
    );
    expect(refusal(fresh(), onShift, ctx(T0, { by: { role: "shopper", id: "x" } }))).toBe(
      "forbidden",
    );
    expect(refusal(fresh(), onShift, ctx(T0, { by: undefined }))).toBe("forbidden");
    expect(refusal(fresh(), onShift, asActor())).toBe("forbidden");
    expect(refusal(fresh(), onShift, asTimer())).toBe("forbidden");
  });

  it("refuses going off shift when offline", () => {
    expect(refusal(fresh(), { type: "go_off_shift" })).toBe("not_on_shift");
  });

  it("goes off shift when idle and tells the market it is unavailable", () => {
    const { state, effects } = run(shifted(), { type: "go_off_shift" });
    expect(courierStatus(state)).toBe("offline");
    expect(events(effects)).toEqual(["went_off_shift"]);
    expect(sentTo(effects, "market", "sh-pudong")).toEqual([
      { type: "courier_unavailable", courierId: "c1", reason: "off_shift" },
    ]);
  });

  it("refuses going off shift while carrying a picked-up order", () => {
    const state = run(
      withJob(),
      { type: "complete_stop", orderId: "o1", kind: "pickup" },
      asActor(),
    ).state;
    expect(refusal(state, { type: "go_off_shift" })).toBe("has_active_jobs");
  });

  it("releases unpicked jobs and declines pending offers when going off shift", () => {
    let state = withJob("o1");
    state = run(state, offerMsg("o2"), asActor()).state;
    const { state: off, effects } = run(state, { type: "go_off_shift" });
    expect(off.jobs).toEqual({});
    expect(off.route).toEqual([]);
    expect(off.offers).toEqual({});
    expect(off.stats.declined.other).toBe(1);
    expect(effects.filter((e) => e.kind === "cancel" || e.kind === "schedule")).toEqual([]);
    expect(sentTo(effects, "order", "o1")).toEqual([
      { type: "courier_released", courierId: "c1", reason: "off_shift", at: T0 },
    ]);
    expect(sentTo(effects, "order", "o2")).toEqual([
      { type: "courier_declined", courierId: "c1", marketId: "sh-pudong", reason: "other", at: T0 },
    ]);
    expect(sentTo(effects, "market", "sh-pudong")).toEqual([
      { type: "offer_declined", orderId: "o2", courierId: "c1", reason: "other" },
      { type: "courier_unavailable", courierId: "c1", reason: "off_shift" },
    ]);
  });
});

describe("location", () => {
  const fix = (at: number, lat = 31.23): CourierMessage => ({
    type: "location",
    lat,
    lng: 121.47,
    at,
    accuracy: 8,
  });

  it("records the fix and forwards the first one to the market", () => {
    const { state, effects } = run(shifted(), fix(T0));
    expect(state.position).toEqual({ lat: 31.23, lng: 121.47, at: T0, accuracy: 8 });
    expect(events(effects)).toEqual(["position_updated"]);
    expect(sentTo(effects, "market", "sh-pudong")).toEqual([
      { type: "courier_position", courierId: "c1", position: state.position },
    ]);
  });

  it("forwards to the market at most once per interval", () => {
    let state = run(shifted(), fix(T0)).state;
    const soon = run(state, fix(T0 + 2_000), asSelf(T0 + 2_000));
    expect(sentTo(soon.effects, "market", "sh-pudong")).toEqual([]);
    state = soon.state;
    const later = T0 + POSITION_FORWARD_INTERVAL_MS;
    const { effects } = run(state, fix(later), asSelf(later));
    expect(sentTo(effects, "market", "sh-pudong")).toHaveLength(1);
  });

  it("ignores a fix older than the last one without refusing it", () => {
    const state = run(shifted(), fix(T0, 31.3), asSelf(T0 + 1000)).state;
    const { state: after, effects } = run(state, fix(T0 - 5_000, 31.1), asSelf(T0 + 2000));
    expect(after).toBe(state);
    expect(effects).toEqual([]);
  });

  it("refuses a fix from the future and positions out of range", () => {
    const state = shifted();
    expect(refusal(state, fix(T0 + MAX_FUTURE_SKEW_MS + 1))).toBe("invalid_location");
    expect(refusal(state, { type: "location", lat: 91, lng: 0, at: T0 })).toBe("invalid_location");
    expect(refusal(state, { type: "location", lat: 0, lng: Number.NaN, at: T0 })).toBe(
      "invalid_location",
    );
    expect(
      courierLogic.messages.safeParse({ type: "location", lat: 91, lng: 0, at: T0 }).success,
    ).toBe(false);
  });

  it("refuses fixes while off shift and from another courier", () => {
    expect(refusal(fresh(), fix(T0))).toBe("not_on_shift");
    expect(refusal(shifted(), fix(T0), ctx(T0, { by: { role: "courier", id: "c2" } }))).toBe(
      "wrong_courier",
    );
    expect(refusal(shifted(), fix(T0), asDispatcher())).toBe("forbidden");
  });
});

describe("offers", () => {
  it("receives an offer and records its deadline, leaving the time-out to the market", () => {
    const { state, effects } = run(shifted(), offerMsg("o1"), asActor());
    expect(courierStatus(state)).toBe("offered");
    expect(state.stats.offers).toBe(1);
    expect(state.offers.o1).toMatchObject({ expiresAt: T0 + 30_000 });
    expect(events(effects)).toEqual(["offer_received"]);
    expect(effects.filter((e) => e.kind === "schedule")).toEqual([]);
  });

  it("refuses offers while offline, twice, expired on arrival, or for its own job", () => {
    expect(refusal(fresh(), offerMsg("o1"), asActor())).toBe("not_on_shift");
    const offered = run(shifted(), offerMsg("o1"), asActor()).state;
    expect(refusal(offered, offerMsg("o1"), asActor())).toBe("duplicate_offer");
    expect(refusal(shifted(), offerMsg("o1", T0), asActor())).toBe("offer_expired");
    expect(refusal(withJob("o1"), offerMsg("o1"), asActor())).toBe("already_assigned");
  });

  it("refuses an offer beyond capacity, counting pending offers", () => {
    let state = run(shifted(), offerMsg("o1"), asActor()).state;
    state = run(state, offerMsg("o2"), asActor()).state;
    expect(refusal(state, offerMsg("o3"), asActor())).toBe("over_capacity");
  });

  it("refuses an offer for a temperature class the van has no free slot for", () => {
    const van: CourierMessage = {
      type: "go_on_shift",
      marketId: "sh-pudong",
      vehicle: { mode: "van", vehicleId: "v1" },
      capacity: { maxOrders: 5, slots: { ambient: 2, chilled: 1, frozen: 0 } },
    };
    let state = run(fresh(), van).state;
    expect(refusal(state, offerMsg("o1", T0 + 30_000, "frozen" as never), asActor())).toBe(
      "vehicle_unsuitable",
    );
    state = run(state, offerMsg("o1"), asActor()).state;
    expect(refusal(state, offerMsg("o2"), asActor())).toBe("over_capacity");
  });

  it("refuses offers sent by a courier client", () => {
    expect(refusal(shifted(), offerMsg("o1"))).toBe("forbidden");
  });

  it("accepts an offer and tells the order and the market", () => {
    const offered = run(shifted(), offerMsg("o1"), asActor()).state;
    const { state, effects } = run(
      offered,
      { type: "accept_offer", orderId: "o1" },
      asSelf(T0 + 5_000),
    );
    expect(courierStatus(state)).toBe("busy");
    expect(state.jobs.o1).toMatchObject({
      phase: "accepted",
      pickedUp: false,
      acceptedAt: T0 + 5_000,
    });
    expect(state.stats.accepted).toBe(1);
    expect(effects.filter((e) => e.kind === "cancel")).toEqual([]);
    expect(events(effects)).toEqual(["offer_accepted"]);
    expect(sentTo(effects, "order", "o1")).toEqual([
      { type: "courier_accepted", courierId: "c1", marketId: "sh-pudong", at: T0 + 5_000 },
    ]);
    expect(sentTo(effects, "market", "sh-pudong")).toMatchObject([
      { type: "courier_available", freeCapacity: 1 },
    ]);
  });

  it("refuses accepting an expired or unknown offer", () => {
    const offered = run(shifted(), offerMsg("o1"), asActor()).state;
    expect(refusal(offered, { type: "accept_offer", orderId: "o1" }, asSelf(T0 + 30_000))).toBe(
      "offer_expired",
    );
    expect(refusal(offered, { type: "accept_offer", orderId: "o9" })).toBe("offer_not_found");
  });

  it("refuses another courier answering the offer, but lets a dispatcher answer", () => {
    const offered = run(shifted(), offerMsg("o1"), asActor()).state;
    const other = ctx(T0, { by: { role: "courier", id: "c2" } });
    expect(refusal(offered, { type: "accept_offer", orderId: "o1" }, other)).toBe("wrong_courier");
    expect(refusal(offered, { type: "decline_offer", orderId: "o1", reason: "busy" }, other)).toBe(
      "wrong_courier",
    );
    expect(
      run(offered, { type: "accept_offer", orderId: "o1" }, asDispatcher()).state.jobs.o1,
    ).toBeDefined();
  });

  it("declines an offer with a reason, counted for fairness", () => {
    const offered = run(shifted(), offerMsg("o1"), asActor()).state;
    const { state, effects } = run(offered, {
      type: "decline_offer",
      orderId: "o1",
      reason: "too_far",
      note: "bridge closed",
    });
    expect(courierStatus(state)).toBe("idle");
    expect(state.stats.declined).toEqual({ too_far: 1, busy: 0, vehicle_unsuitable: 0, other: 0 });
    expect(effects.filter((e) => e.kind === "cancel")).toEqual([]);
    expect(events(effects)).toEqual(["offer_declined"]);
    expect(sentTo(effects, "order", "o1")).toEqual([
      {
        type: "courier_declined",
        courierId: "c1",
        marketId: "sh-pudong",
        reason: "too_far",
        at: T0,
      },
    ]);
    expect(sentTo(effects, "market", "sh-pudong")).toEqual([
      { type: "offer_declined", orderId: "o1", courierId: "c1", reason: "too_far" },
    ]);
  });

  it("refuses declining an offer it does not have", () => {
    expect(refusal(shifted(), { type: "decline_offer", orderId: "o1", reason: "busy" })).toBe(
      "offer_not_found",
    );
  });

  it("drops an unanswered offer when the market says it expired, telling no one", () => {
    const offered = run(shifted(), offerMsg("o1"), asActor()).state;
    const { state, effects } = run(
      offered,
      { type: "offer_expired", orderId: "o1" },
      asActor(T0 + 30_000),
    );
    expect(courierStatus(state)).toBe("idle");
    expect(state.stats.expired).toBe(1);
    expect(events(effects)).toEqual(["offer_expired"]);
    // The market's timer ended it and the market told the order: one expiry path.
    expect(sentTo(effects, "order", "o1")).toEqual([]);
    expect(sentTo(effects, "market", "sh-pudong")).toEqual([]);
  });

  it("ignores the expiry of an offer already answered, and takes it only from the market", () => {
    const offered = run(shifted(), offerMsg("o1"), asActor()).state;
    const answered = run(offered, { type: "decline_offer", orderId: "o1", reason: "busy" }).state;
    const late = run(answered, { type: "offer_expired", orderId: "o1" }, asActor(T0 + 30_000));
    expect(late.effects).toEqual([]);
    expect(late.state).toBe(answered);
    expect(refusal(offered, { type: "offer_expired", orderId: "o1" }, asSelf(T0 + 30_000))).toBe(
      "forbidden",
    );
    expect(refusal(offered, { type: "offer_expired", orderId: "o1" }, asTimer(T0 + 30_000))).toBe(
      "forbidden",
    );
  });

  it("drops a withdrawn offer; a withdrawal that crossed an answer changes nothing", () => {
    const offered = run(shifted(), offerMsg("o1"), asActor()).state;
    const { state, effects } = run(
      offered,
      { type: "offer_withdrawn", orderId: "o1", reason: "order_cancelled" },
      asActor(),
    );
    expect(state.offers).toEqual({});
    expect(state.stats.withdrawn).toBe(1);
    expect(events(effects)).toEqual(["offer_withdrawn"]);
    // From the market it is a fact (it may cross our answer); from a dispatcher, a mistake.
    expect(run(state, { type: "offer_withdrawn", orderId: "o1" }, asActor()).effects).toEqual([]);
    expect(refusal(state, { type: "offer_withdrawn", orderId: "o1" }, asDispatcher())).toBe(
      "offer_not_found",
    );
  });
});

describe("jobs and route", () => {
  it("adds the pickup and drop-off at the end of the route when a job is assigned", () => {
    let state = withJob("o1");
    const { state: two, effects } = run(state, assignMsg("o2"), asActor());
    state = two;
    expect(routeOf(state)).toEqual(["o1:pickup", "o1:dropoff", "o2:pickup", "o2:dropoff"]);
    expect(state.route[0]).toEqual({
      orderId: "o1",
      kind: "pickup",
      location: store,
      storeId: "s1",
      pickupPointId: null,
      plannedAt: T0 + 600_000,
    });
    expect(events(effects)).toEqual(["job_assigned"]);
    expect(courierStatus(state)).toBe("busy");
  });

  it("confirms an accepted job without counting it twice against capacity", () => {
    let state = run(shifted(), offerMsg("o1"), asActor()).state;
    state = run(state, { type: "accept_offer", orderId: "o1" }).state;
    state = run(state, assignMsg("o2"), asActor()).state;
    const { state: confirmed } = run(state, assignMsg("o1"), asActor(T0 + 1000));
    expect(confirmed.jobs.o1).toMatchObject({
      phase: "assigned",
      acceptedAt: T0,
      assignedAt: T0 + 1000,
    });
    expect(freeCapacity(confirmed)).toBe(0);
  });

  it("inserts stops where dispatch says", () => {
    const state = run(
      withJob("o1"),
      assignMsg("o2", { pickupIndex: 0, dropoffIndex: 2 }),
      asActor(),
    ).state;
    expect(routeOf(state)).toEqual(["o2:pickup", "o1:pickup", "o2:dropoff", "o1:dropoff"]);
  });

  it("refuses a drop-off placed before its pickup and positions past the route", () => {
    expect(
      refusal(withJob("o1"), assignMsg("o2", { pickupIndex: 2, dropoffIndex: 1 }), asActor()),
    ).toBe("precedence_violation");
    expect(
      refusal(withJob("o1"), assignMsg("o2", { pickupIndex: 0, dropoffIndex: 9 }), asActor()),
    ).toBe("invalid_stop_index");
  });

  it("refuses a job beyond capacity, twice, while offline, or from a courier client", () => {
    const full = run(withJob("o1"), assignMsg("o2"), asActor()).state;
    expect(refusal(full, assignMsg("o3"), asActor())).toBe("over_capacity");
    expect(refusal(full, assignMsg("o1"), asActor())).toBe("already_assigned");
    expect(refusal(fresh(), assignMsg("o1"), asActor())).toBe("not_on_shift");
    expect(refusal(shifted(), assignMsg("o1"))).toBe("forbidden");
  });

  it("drops a pending offer for the same order when a dispatcher assigns it directly", () => {
    const offered = run(shifted(), offerMsg("o1"), asActor()).state;
    const { state, effects } = run(offered, assignMsg("o1"), asDispatcher());
    expect(state.offers).toEqual({});
    expect(state.jobs.o1).toMatchObject({ phase: "assigned", pickupCode: "K7Q2" });
    expect(effects.filter((e) => e.kind === "cancel")).toEqual([]);
  });

  it("completes the pickup, then the drop-off, as the order confirms them; the drop-off ends the job", () => {
    let state = withJob("o1");
    const picked = run(state, { type: "complete_stop", orderId: "o1", kind: "pickup" }, asActor());
    state = picked.state;
    expect(state.jobs.o1?.pickedUp).toBe(true);
    expect(routeOf(state)).toEqual(["o1:dropoff"]);
    const dropped = run(
      state,
      { type: "complete_stop", orderId: "o1", kind: "dropoff" },
      asActor(),
    );
    expect(events(dropped.effects)).toEqual(["stop_completed", "job_finished"]);
    expect(dropped.state.jobs).toEqual({});
    expect(courierStatus(dropped.state)).toBe("idle");
    expect(sentTo(dropped.effects, "market", "sh-pudong")).toMatchObject([
      { type: "courier_available", freeCapacity: 2 },
    ]);
  });

  it("does not echo a stop completion back to the order actor that confirmed it", () => {
    const { effects } = run(
      withJob("o1"),
      { type: "complete_stop", orderId: "o1", kind: "pickup" },
      asActor(),
    );
    expect(sentTo(effects, "order", "o1")).toEqual([]);
  });

  it("takes stop completions only from the order actor: proof is checked there", () => {
    const stop: CourierMessage = { type: "complete_stop", orderId: "o1", kind: "pickup" };
    expect(refusal(withJob("o1"), stop, asSelf())).toBe("forbidden");
    expect(refusal(withJob("o1"), stop, asDispatcher())).toBe("forbidden");
  });

  it("keeps the pickup code with the job, and drops it with the job", () => {
    const state = withJob("o1");
    expect(state.jobs.o1?.pickupCode).toBe("K7Q2");
    const released = run(state, { type: "job_released", orderId: "o1", reason: "x" }, asActor());
    expect(JSON.stringify(courierLogic.view!(released.state))).not.toContain("K7Q2");
  });

  it("refuses a drop-off before the pickup, a stop done twice and an unknown job", () => {
    const state = withJob("o1");
    expect(
      refusal(state, { type: "complete_stop", orderId: "o1", kind: "dropoff" }, asActor()),
    ).toBe("precedence_violation");
    const picked = run(
      state,
      { type: "complete_stop", orderId: "o1", kind: "pickup" },
      asActor(),
    ).state;
    expect(
      refusal(picked, { type: "complete_stop", orderId: "o1", kind: "pickup" }, asActor()),
    ).toBe("stop_not_found");
    expect(
      refusal(state, { type: "complete_stop", orderId: "o9", kind: "pickup" }, asActor()),
    ).toBe("job_not_found");
  });

  it("lets a dispatcher reorder stops that keep each pickup before its drop-off", () => {
    const state = run(withJob("o1"), assignMsg("o2"), asActor()).state;
    const stops = [
      { orderId: "o2", kind: "pickup" },
      { orderId: "o1", kind: "pickup" },
      { orderId: "o1", kind: "dropoff" },
      { orderId: "o2", kind: "dropoff" },
    ] as const;
    const { state: after, effects } = run(
      state,
      { type: "reorder_stops", stops: [...stops] },
      asDispatcher(),
    );
    expect(routeOf(after)).toEqual(["o2:pickup", "o1:pickup", "o1:dropoff", "o2:dropoff"]);
    expect(events(effects)).toEqual(["stops_reordered"]);
  });

  it("refuses a reorder that puts a drop-off before its pickup", () => {
    const state = run(withJob("o1"), assignMsg("o2"), asActor()).state;
    const stops = [
      { orderId: "o1", kind: "dropoff" },
      { orderId: "o1", kind: "pickup" },
      { orderId: "o2", kind: "pickup" },
      { orderId: "o2", kind: "dropoff" },
    ] as const;
    expect(refusal(state, { type: "reorder_stops", stops: [...stops] }, asDispatcher())).toBe(
      "precedence_violation",
    );
  });

  it("allows any place for the drop-off of an order already picked up", () => {
    let state = run(withJob("o1"), assignMsg("o2"), asActor()).state;
    state = run(state, { type: "complete_stop", orderId: "o1", kind: "pickup" }, asActor()).state;
    const stops = [
      { orderId: "o1", kind: "dropoff" },
      { orderId: "o2", kind: "pickup" },
      { orderId: "o2", kind: "dropoff" },
    ] as const;
    expect(
      routeOf(run(state, { type: "reorder_stops", stops: [...stops] }, asDispatcher()).state),
    ).toEqual(["o1:dropoff", "o2:pickup", "o2:dropoff"]);
  });

  it("refuses a reorder that does not list exactly the route's stops, or comes from a courier", () => {
    const state = withJob("o1");
    const pickup = { orderId: "o1", kind: "pickup" } as const;
    const dropoff = { orderId: "o1", kind: "dropoff" } as const;
    expect(refusal(state, { type: "reorder_stops", stops: [pickup] }, asDispatcher())).toBe(
      "route_mismatch",
    );
    expect(refusal(state, { type: "reorder_stops", stops: [pickup, pickup] }, asDispatcher())).toBe(
      "route_mismatch",
    );
    expect(
      refusal(
        state,
        { type: "reorder_stops", stops: [pickup, { orderId: "o9", kind: "dropoff" }] },
        asDispatcher(),
      ),
    ).toBe("route_mismatch");
    expect(refusal(state, { type: "reorder_stops", stops: [pickup, dropoff] })).toBe("forbidden");
    expect(
      run(state, { type: "reorder_stops", stops: [pickup, dropoff] }, asDispatcher()).effects,
    ).toEqual([]);
  });

  it("removes a released job's stops and tells the order when a dispatcher released it", () => {
    const state = run(withJob("o1"), assignMsg("o2"), asActor()).state;
    const { state: after, effects } = run(
      state,
      { type: "job_released", orderId: "o1", reason: "reassigned" },
      asDispatcher(),
    );
    expect(routeOf(after)).toEqual(["o2:pickup", "o2:dropoff"]);
    expect(after.jobs.o1).toBeUndefined();
    expect(events(effects)).toEqual(["job_released"]);
    expect(sentTo(effects, "order", "o1")).toEqual([
      { type: "courier_released", courierId: "c1", reason: "reassigned", at: T0 },
    ]);
    const fromOrder = run(
      state,
      { type: "job_released", orderId: "o1", reason: "cancelled" },
      asActor(),
    );
    expect(sentTo(fromOrder.effects, "order", "o1")).toEqual([]);
  });

  it("refuses releasing an unknown job or a courier releasing its own job", () => {
    expect(
      refusal(withJob("o1"), { type: "job_released", orderId: "o9", reason: "x" }, asActor()),
    ).toBe("job_not_found");
    expect(refusal(withJob("o1"), { type: "job_released", orderId: "o1", reason: "x" })).toBe(
      "forbidden",
    );
  });
});

describe("persistence", () => {
  it("survives persist → JSON → restore after many transitions and continues identically", () => {
    let state = fresh();
    let now = T0;
    const steps: [CourierMessage, (n: number) => TurnContext][] = [
      [onShift, asSelf],
      [{ type: "location", lat: 31.2, lng: 121.4, at: T0, accuracy: 5 }, asSelf],
      [offerMsg("o1", T0 + 60_000), asActor],
      [{ type: "accept_offer", orderId: "o1" }, asSelf],
      [assignMsg("o1"), asActor],
      [offerMsg("o2", T0 + 60_000), asActor],
      [{ type: "decline_offer", orderId: "o2", reason: "busy" }, asSelf],
      [offerMsg("o3", T0 + 60_000), asActor],
      [{ type: "complete_stop", orderId: "o1", kind: "pickup" }, asActor],
      [{ type: "location", lat: 31.21, lng: 121.41, at: T0 + 9_000 }, asSelf],
    ];
    for (const [msg, who] of steps) {
      now += 1_000;
      state = run(state, msg, who(now)).state;
    }
    const restored = courierLogic.restore!(
      JSON.parse(JSON.stringify(courierLogic.persist!(state))),
      1,
    );
    expect(restored).toEqual(state);
    const next: CourierMessage = { type: "accept_offer", orderId: "o3" };
    const c = asSelf(now + 1_000);
    expect(courierLogic.transition(restored, next, c)).toEqual(
      courierLogic.transition(state, next, c),
    );
  });

  it("reads a job persisted before it carried a pickup code", () => {
    const state = withJob("o1");
    const { pickupCode: _code, ...job } = state.jobs.o1!;
    const old = JSON.parse(JSON.stringify({ ...state, jobs: { o1: job } }));
    expect(courierLogic.restore!(old, 1).jobs.o1?.pickupCode).toBeNull();
  });

  it("refuses to restore an unknown version or a corrupt state", () => {
    expect(() => courierLogic.restore!(fresh(), 2)).toThrow();
    expect(() => courierLogic.restore!({ id: "c1" }, 1)).toThrow();
  });
});
