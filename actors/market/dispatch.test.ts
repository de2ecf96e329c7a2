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
