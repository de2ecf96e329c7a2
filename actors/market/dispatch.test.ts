/**
 * The market running the dispatch engine: offers on events and ticks, re-planning after a
 * decline, alerts raised once, couriers far behind relieved of unstarted orders, manual mode.
 */
import { describe, expect, it } from "vitest";
import type { Effect, TurnResult } from "../types.ts";
import { MarketMessage } from "../../protocol/actors/market.ts";
import { BEHIND_LIMIT_MS, engineInput, marketLogic, planGapMs } from "./logic.ts";
import type { MarketState } from "./types.ts";
import { contexts, events } from "../testing/turns.ts";

const T0 = Date.UTC(2026, 10, 22, 4, 0, 0);
const self = { type: "market", id: "km-wuhua" };
const { ctx, fromActor, fromTimer } = contexts(self, T0);
const dispatcher = { role: "dispatcher" as const, id: "d1" };
const STORE = { lat: 25.04, lng: 102.71 };

function run(
  state: MarketState,
  msg: MarketMessage,
  c = fromActor(),
): TurnResult<MarketState> & {
  ok: true;
} {
  const result = marketLogic.transition(state, MarketMessage.parse(msg), c);
  if (!result.ok) throw new Error(`refused ${result.refusal.code}: ${result.refusal.message}`);
  return result;
}
const offersIn = (effects: readonly Effect[]) =>
  effects.flatMap((e) =>
    e.kind === "send" && e.command.to.type === "courier" && e.command.msg.type === "offer"
      ? [[String(e.command.msg.orderId), e.command.to.id]]
      : [],
  );
const ready = (orderId: string, extra: Partial<Record<string, unknown>> = {}): MarketMessage =>
  MarketMessage.parse({
    type: "order_ready",
    orderId,
    storeId: "s1",
    pickup: STORE,
    dropoff: { lat: 25.05, lng: 102.71 },
    readyAt: T0,
    temperatureClass: "ambient",
    ...extra,
  });
const available = (courierId: string, lat: number, capacity = 1, at = T0): MarketMessage => ({
  type: "courier_available",
  courierId,
  mode: "ebike",
  vehicleId: null,
  freeCapacity: capacity,
  freeSlots: null,
  position: { lat, lng: 102.71, at, accuracy: 10 },
});

function market(): MarketState {
  return marketLogic.initial(self);
}

describe("market dispatch", () => {
  it("offers a ready order to the best courier in the same turn the order arrives", () => {
    let state = run(market(), available("near", 25.041)).state;
    state = run(state, available("far", 25.06), fromActor(T0 + 1000)).state;
    const turn = run(state, ready("o1"), fromActor(T0 + 2000));
    expect(offersIn(turn.effects)).toEqual([["o1", "near"]]);
    expect(events(turn.effects)).toEqual(["order_queued", "dispatch_offered", "offer_made"]);
    expect(turn.state.offers.o1?.courierId).toBe("near");
    // The offer has its one durable time-out.
    expect(turn.effects).toContainEqual(
      expect.objectContaining({ kind: "schedule", timer: "offer:o1" }),
    );
  });

  it("plans at most once per gap on a burst of events, and ticks when the gap is over", () => {
    let state = run(market(), available("c1", 25.041)).state;
    state = run(state, ready("o1"), fromActor(T0 + 1000)).state;
    expect(state.lastPlannedAt).toBe(T0 + 1000);
    // A small market: the gap is a few tens of milliseconds, a city-sized one's up to 250 ms.
    const gap = planGapMs(state);
    expect(gap).toBeGreaterThanOrEqual(20);
    expect(gap).toBeLessThan(50);
    const big = {
      ...state,
      couriers: Object.fromEntries(
        Array.from({ length: 6000 }, (_, i) => [
          `x${i}`,
          { ...state.couriers.c1!, courierId: `x${i}` },
        ]),
      ),
    };
    expect(planGapMs(big)).toBe(250);
    // Inside the gap: no plan now, the tick is brought forward to the end of the gap.
    const burst = run(state, ready("o2"), fromActor(T0 + 1005));
    expect(offersIn(burst.effects)).toEqual([]);
    expect(burst.state.tickDueAt).toBe(T0 + 1000 + gap);
    expect(burst.effects).toContainEqual({
      kind: "schedule",
      timer: "tick",
      at: T0 + 1000 + gap,
      msg: { type: "tick" },
    });
  });

  it("re-plans after a decline, never back to the courier who declined", () => {
    let state = run(market(), available("c1", 25.041)).state;
    state = run(state, available("c2", 25.045), fromActor(T0 + 1000)).state;
    state = run(state, ready("o1"), fromActor(T0 + 2000)).state;
    expect(state.offers.o1?.courierId).toBe("c1");
    const declined = run(
      state,
      { type: "offer_declined", orderId: "o1", courierId: "c1", reason: "too_far" },
      fromActor(T0 + 5000),
    );
    expect(offersIn(declined.effects)).toEqual([["o1", "c2"]]);
    expect(declined.state.passedBy.o1).toEqual(["c1"]);
  });

  it("re-plans when an offer runs out", () => {
    let state = run(market(), available("c1", 25.041)).state;
    state = run(state, available("c2", 25.045), fromActor(T0 + 1000)).state;
    state = run(state, ready("o1"), fromActor(T0 + 2000)).state;
    const expiresAt = state.offers.o1!.expiresAt;
    const timedOut = run(
      state,
      { type: "offer_timeout", orderId: "o1", courierId: "c1", expiresAt },
      fromTimer(expiresAt),
    );
    expect(offersIn(timedOut.effects)).toEqual([["o1", "c2"]]);
  });

  it("offers on the tick what could not be offered before, and matches the whole tick", () => {
    let state = run(market(), ready("o1", { storeId: "s1", pickup: STORE })).state;
    state = run(
      state,
      ready("o2", { storeId: "s2", pickup: { lat: 25.046, lng: 102.71 } }),
      fromActor(T0 + 10),
    ).state;
    // Couriers arrive within one gap: the second does not plan by itself.
    state = run(state, available("a", 25.043), fromActor(T0 + 300)).state;
    const second = run(state, available("b", 25.038), fromActor(T0 + 305));
    state = second.state;
    expect(Object.keys(state.offers)).toHaveLength(1);
    const tick = run(state, { type: "tick" }, fromTimer(state.tickDueAt!));
    expect(Object.keys(tick.state.offers).sort()).toEqual(["o1", "o2"]);
  });

  it("raises each alert once per order", () => {
    let state = run(market(), available("c1", 25.041)).state;
    state = run(state, ready("o1"), fromActor(T0 + 1000)).state;
    for (const c of ["x1", "x2", "x3", "x4"]) {
      state = {
        ...state,
        passedBy: { ...state.passedBy, o1: [...(state.passedBy.o1 ?? []), c] },
      };
    }
    const declined = run(
      state,
      { type: "offer_declined", orderId: "o1", courierId: "c1", reason: "busy" },
      fromActor(T0 + 5000),
    );
    expect(events(declined.effects)).toContain("dispatch_alert");
    expect(declined.state.alerted.o1).toEqual(["many_declines"]);
    const tick = run(declined.state, { type: "tick" }, fromTimer(T0 + 7000));
    expect(events(tick.effects)).not.toContain("dispatch_alert");
  });

  it("puts an unstarted order back in the pool when its courier has fallen far behind", () => {
    let state = run(market(), available("slow", 25.041, 2)).state;
    state = run(state, ready("o1"), fromActor(T0 + 1000)).state;
    state = run(state, { type: "order_assigned", orderId: "o1", courierId: "slow" }).state;
    // The courier is 20 km away when the order has been ready for the limit.
    const later = T0 + BEHIND_LIMIT_MS;
    state = run(
      state,
      {
        type: "courier_position",
        courierId: "slow",
        position: { lat: 25.22, lng: 102.71, at: later, accuracy: 10 },
      },
      fromActor(later),
    ).state;
    // Unstarted work keeps the tick going even with no open order.
    expect(state.tickDueAt).not.toBeNull();
    const tick = run(state, { type: "tick" }, fromTimer(later + 2000));
    expect(events(tick.effects)).toContain("dispatch_reassigned");
    expect(tick.effects).toContainEqual({
      kind: "send",
      command: {
        to: { type: "order", id: "o1" },
        msg: expect.objectContaining({ type: "reassign" }),
        asSelf: true,
      },
    });
    expect(tick.state.assigned.o1).toBeUndefined();
    expect(tick.state.passedBy.o1).toEqual(["slow"]);
  });

  it("gives an unstarted job back to the pool when a free courier is much sooner", () => {
    // `far` accepted the order from 8 km away; then `near` comes on shift next to the store.
    let state = run(market(), available("far", 25.112, 2)).state;
    state = run(state, ready("o1"), fromActor(T0 + 1000)).state;
    state = run(state, { type: "order_assigned", orderId: "o1", courierId: "far" }).state;
    const joined = run(state, available("near", 25.041), fromActor(T0 + 5000));
    expect(events(joined.effects)).toContain("dispatch_reassigned");
    expect(joined.effects).toContainEqual({
      kind: "send",
      command: {
        to: { type: "order", id: "o1" },
        msg: expect.objectContaining({ type: "reassign" }),
        asSelf: true,
      },
    });
    expect(joined.state.assigned.o1).toBeUndefined();
    expect(joined.state.passedBy.o1).toEqual(["far"]);
  });

  it("never takes a picked-up or locked order from its courier", () => {
    let state = run(market(), available("slow", 25.041, 3)).state;
    state = run(state, ready("o1"), fromActor(T0 + 1000)).state;
    state = run(state, { type: "order_assigned", orderId: "o1", courierId: "slow" }).state;
    state = run(state, { type: "order_picked_up", orderId: "o1", courierId: "slow" }).state;
    state = run(state, ready("o2")).state;
    state = run(
      state,
      { type: "lock", orderId: "o2", courierId: "slow", reason: "regular customer" },
      ctx(dispatcher),
    ).state;
    state = run(state, { type: "order_assigned", orderId: "o2", courierId: "slow" }).state;
    expect(state.assigned.o2?.locked).toBe(true);
    const later = T0 + 3 * BEHIND_LIMIT_MS;
    state = run(
      state,
      {
        type: "courier_position",
        courierId: "slow",
        position: { lat: 25.5, lng: 102.71, at: later, accuracy: 10 },
      },
      fromActor(later),
    ).state;
    state = run(state, ready("o3"), fromActor(later)).state;
    const tick = run(state, { type: "tick" }, fromTimer(later + 2000));
    expect(events(tick.effects)).not.toContain("dispatch_reassigned");
  });

  it("plans around pending offers and carried orders", () => {
    let state = run(market(), available("c1", 25.041, 3)).state;
    state = run(state, ready("o1"), fromActor(T0 + 1000)).state;
    const input = engineInput(state, T0 + 2000);
    expect(input.couriers[0]!.capacityLeft).toBe(2);
    expect(input.couriers[0]!.carrying.map((c) => c.orderId)).toEqual(["o1"]);
    expect(input.orders).toEqual([]);
  });

  it("takes the tracker's batch of positions, the newer of each, for known couriers only", () => {
    let state = run(market(), available("c1", 25.041, 1, T0)).state;
    state = run(state, available("c2", 25.05, 1, T0)).state;
    const batch = run(
      state,
      {
        type: "courier_positions",
        positions: [
          {
            courierId: "c1",
            position: { lat: 25.045, lng: 102.71, at: T0 + 5000, accuracy: null },
          },
          // Older than what the market has: kept as it is.
          { courierId: "c2", position: { lat: 25.2, lng: 102.71, at: T0 - 5000, accuracy: null } },
          { courierId: "stranger", position: { lat: 25, lng: 102.7, at: T0, accuracy: null } },
        ],
      },
      ctx({ role: "system", id: "tracker" }, T0 + 6000),
    );
    expect(batch.state.couriers.c1!.position).toMatchObject({ lat: 25.045, at: T0 + 5000 });
    expect(batch.state.couriers.c2!.position).toMatchObject({ lat: 25.05, at: T0 });
    expect(batch.state.couriers.stranger).toBeUndefined();
    expect(events(batch.effects)).toEqual(["couriers_moved"]);
    // A courier may not send it.
    const refused = marketLogic.transition(
      state,
      MarketMessage.parse({
        type: "courier_positions",
        positions: [{ courierId: "c1", position: { lat: 25, lng: 102.7, at: T0, accuracy: null } }],
      }),
      ctx({ role: "courier", id: "c1" }),
    );
    expect(refused.ok).toBe(false);
  });

  it("gives the engine each order's thermal budget: the bag budget until pickup, a deadline after", () => {
    const MIN = 60_000;
    let state = run(
      market(),
      { type: "configure", name: "五华", city: "昆明", autoDispatch: false },
      ctx(dispatcher),
    ).state;
    state = run(state, available("c1", 25.041, 4)).state;
    state = run(state, {
      type: "courier_available",
      courierId: "van",
      mode: "van",
      vehicleId: "v1",
      freeCapacity: 4,
      freeSlots: { ambient: 2, chilled: 2, frozen: 1 },
      position: { lat: 25.045, lng: 102.71, at: T0, accuracy: 10 },
    }).state;
    for (const [id, cls] of [
      ["bagged", "chilled"],
      ["waiting-frozen", "frozen"],
      ["offered", "ambient"],
      ["in-van", "chilled"],
      ["open-chilled", "chilled"],
      ["open-ambient", "ambient"],
    ] as const) {
      state = run(state, ready(id, { temperatureClass: cls })).state;
    }
    const assign = (orderId: string, courierId: string) =>
      run(state, { type: "order_assigned", orderId, courierId }).state;
    state = assign("bagged", "c1");
    state = assign("waiting-frozen", "c1");
    state = assign("in-van", "van");
    for (const [orderId, courierId] of [
      ["bagged", "c1"],
      ["in-van", "van"],
    ] as const) {
      state = run(
        state,
        { type: "order_picked_up", orderId, courierId },
        fromActor(T0 + 5 * MIN),
      ).state;
    }
    state = run(
      state,
      { type: "offer", orderId: "offered", courierId: "c1" },
      ctx(dispatcher, T0 + 6 * MIN),
    ).state;

    const input = engineInput(state, T0 + 25 * MIN);
    const thermal = (o: { orderId: string; safeMs?: number; safeUntil?: number }) => [
      o.orderId,
      o.safeMs,
      o.safeUntil,
    ];
    // Open orders wait in the store's fridge: the whole bag budget, from pickup on.
    expect(input.orders.map(thermal)).toEqual([
      ["open-ambient", Infinity, undefined],
      ["open-chilled", 60 * MIN, undefined],
    ]);
    const carrying = (id: string) =>
      input.couriers.find((c) => c.courierId === id)!.carrying.map(thermal);
    expect(carrying("c1")).toEqual([
      // Picked up at 5 min into a bag: an hour from then.
      ["bagged", Infinity, T0 + 65 * MIN],
      ["waiting-frozen", 30 * MIN, Infinity],
      ["offered", Infinity, undefined],
    ]);
    // In the van's chilled compartment the budget does not run.
    expect(carrying("van")).toEqual([["in-van", Infinity, Infinity]]);

    // The van's chilled compartment goes warm (9 °C: 1 + 5/5 = twice the bag rate) at 20 min:
    // no new chilled goods for it, and what it carries spends from then on.
    const warm = run(
      state,
      {
        type: "vehicle_condition",
        vehicleId: "v1",
        warm: [{ temperatureClass: "chilled", since: T0 + 20 * MIN, celsius: 9 }],
      },
      fromActor(T0 + 21 * MIN),
    ).state;
    const hot = engineInput(warm, T0 + 25 * MIN);
    const van = hot.couriers.find((c) => c.courierId === "van")!;
    expect(van.freeSlots).toMatchObject({ chilled: 0, frozen: 1 });
    // 5 min at twice the rate = 10 min spent; 50 min left at twice the rate = 25 min.
    expect(van.carrying.map(thermal)).toEqual([["in-van", Infinity, T0 + 50 * MIN]]);
    // Back in range: as before.
    const cool = run(
      warm,
      { type: "vehicle_condition", vehicleId: "v1", warm: [] },
      fromActor(T0 + 26 * MIN),
    ).state;
    expect(cool.warmVehicles).toEqual({});
    expect(
      engineInput(cool, T0 + 27 * MIN)
        .couriers.find((c) => c.courierId === "van")!
        .carrying.map(thermal),
    ).toEqual([["in-van", Infinity, Infinity]]);
  });

  it("offers chilled goods only to a van when an e-bike could not bring them within the hour", () => {
    // The door is 15 km north: ~72 min by e-bike (straight line × 1.3 at 4.5 m/s).
    const far = { dropoff: { lat: 25.175, lng: 102.71 } };
    let state = run(market(), available("c1", 25.041, 2)).state;
    const chilled = run(
      state,
      ready("chilled-far", { ...far, temperatureClass: "chilled" }),
      fromActor(T0 + 1000),
    );
    expect(offersIn(chilled.effects)).toEqual([]);
    state = chilled.state;
    // The same trip with ambient goods is the e-bike's.
    const ambient = run(state, ready("ambient-far", far), fromActor(T0 + 2000));
    expect(offersIn(ambient.effects)).toEqual([["ambient-far", "c1"]]);
    state = ambient.state;
    const van = run(
      state,
      {
        type: "courier_available",
        courierId: "van",
        mode: "van",
        vehicleId: "v1",
        freeCapacity: 2,
        freeSlots: { ambient: 1, chilled: 1, frozen: 0 },
        position: { lat: 25.06, lng: 102.71, at: T0 + 3000, accuracy: 10 },
      },
      fromActor(T0 + 3000),
    );
    expect(offersIn(van.effects)).toEqual([["chilled-far", "van"]]);
  });

  it("in manual dispatch, offers nothing by itself", () => {
    let state = run(
      market(),
      { type: "configure", name: "五华", city: "昆明", autoDispatch: false },
      ctx(dispatcher),
    ).state;
    state = run(state, available("c1", 25.041)).state;
    const turn = run(state, ready("o1"), fromActor(T0 + 1000));
    expect(offersIn(turn.effects)).toEqual([]);
    const tick = run(turn.state, { type: "tick" }, fromTimer(turn.state.tickDueAt!));
    expect(offersIn(tick.effects)).toEqual([]);
  });
});
