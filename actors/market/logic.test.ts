import { describe, expect, it } from "vitest";
import type { Effect, Principal, TurnContext } from "../types.ts";
import { CourierMessage } from "../../protocol/actors/courier.ts";
import { MarketMessage } from "../../protocol/actors/market.ts";
import { OrderMessage } from "../../protocol/actors/order.ts";
import { AUDIT_LIMIT, dispatchInput, makeOffer, marketLogic } from "./logic.ts";
import type { MarketState } from "./types.ts";
import { events } from "../testing/turns.ts";

const T0 = Date.UTC(2025, 7, 1, 3, 0, 0);
const self = { type: "market", id: "sh-pudong" };
const dispatcher: Principal = { role: "dispatcher", id: "d1" };

let seq = 0;
function ctx(
  now: number,
  by: Principal | undefined,
  origin: TurnContext["origin"] = "client",
): TurnContext {
  seq += 1;
  return { self, now, commandId: `cmd-${seq}`, seq, origin, by };
}
const asDispatcher = (now = T0) => ctx(now, dispatcher);
const asActor = (now = T0) => ctx(now, { role: "system", id: "rt" }, "actor");
const asTimer = (now = T0) => ctx(now, { role: "system", id: "rt" }, "timer");
const asCourier = (now = T0) => ctx(now, { role: "courier", id: "c1" });

function run(state: MarketState, msg: MarketMessage, c: TurnContext) {
  const result = marketLogic.transition(state, marketLogic.messages.parse(msg), c);
  if (!result.ok) throw new Error(`refused ${result.refusal.code}: ${result.refusal.message}`);
  for (const s of sends(result.effects)) if (s.to.type === "courier") CourierMessage.parse(s.msg);
  return result;
}
function refusal(state: MarketState, msg: MarketMessage, c: TurnContext): string {
  const result = marketLogic.transition(state, msg, c);
  if (result.ok) throw new Error(`expected a refusal for ${msg.type}`);
  return result.refusal.code;
}
/** The order actor confirmed a hold (a dispatcher's, at the order or forwarded from here). */
function held(state: MarketState, orderId: string): MarketState {
  return run(state, { type: "order_held", orderId }, asActor()).state;
}
function offered(state: MarketState, orderId: string, courierId: string, now = T0): MarketState {
  const result = makeOffer(state, orderId, courierId, now);
  if (!result.ok) throw new Error(`refused ${result.refusal.code}`);
  return result.state;
}
function offerRefusal(state: MarketState, orderId: string, courierId: string): string {
  const result = makeOffer(state, orderId, courierId, T0);
  if (result.ok) throw new Error("expected a refusal");
  return result.refusal.code;
}

const sends = (effects: readonly Effect[]) =>
  effects.flatMap((e) => (e.kind === "send" ? [e.command] : []));
const timers = (effects: readonly Effect[]) =>
  effects.filter((e) => e.kind === "schedule" || e.kind === "cancel");

/** A market in manual dispatch: these tests are about its bookkeeping, not the engine's plan. */
const fresh = (): MarketState => {
  const initial = marketLogic.initial(self);
  return { ...initial, config: { ...initial.config, autoDispatch: false } };
};
const ready = (
  orderId: string,
  extra: Partial<Extract<MarketMessage, { type: "order_ready" }>> = {},
): MarketMessage => ({
  type: "order_ready",
  orderId,
  storeId: "s1",
  pickup: { lat: 31.23, lng: 121.47 },
  dropoff: { lat: 31.24, lng: 121.48 },
  readyAt: T0 + 600_000,
  temperatureClass: "chilled",
  ...extra,
});
const available = (courierId: string, freeCapacity = 2, at = T0): MarketMessage => ({
  type: "courier_available",
  courierId,
  mode: "ebike",
  vehicleId: null,
  freeCapacity,
  freeSlots: null,
  position: { lat: 31.22, lng: 121.46, at, accuracy: 10 },
});

/** A market with orders o1, o2 and couriers c1 (capacity 2), c2 (capacity 1). */
function busy(): MarketState {
  let state = fresh();
  for (const msg of [ready("o1"), ready("o2"), available("c1"), available("c2", 1)]) {
    state = run(state, msg, asActor()).state;
  }
  return state;
}

describe("configuration", () => {
  it("starts with the default configuration in Asia/Shanghai", () => {
    expect(marketLogic.initial(self).config).toEqual({
      name: "sh-pudong",
      city: null,
      timezone: "Asia/Shanghai",
      tickIntervalMs: 2000,
      offerTimeoutMs: 30_000,
      h3Resolution: 8,
      minPlanGapMs: 250,
      autoDispatch: true,
    });
  });

  it("lets a dispatcher configure the market", () => {
    const { state, effects } = run(
      fresh(),
      {
        type: "configure",
        name: "浦东",
        city: "上海",
        tickIntervalMs: 1000,
        offerTimeoutMs: 20_000,
      },
      asDispatcher(),
    );
    expect(state.config).toMatchObject({
      name: "浦东",
      city: "上海",
      tickIntervalMs: 1000,
      offerTimeoutMs: 20_000,
      h3Resolution: 8,
    });
    expect(events(effects)).toEqual(["configured"]);
  });

  it("refuses configuration from couriers and any timezone but Asia/Shanghai", () => {
    expect(refusal(fresh(), { type: "configure", name: "x", city: "y" }, asCourier())).toBe(
      "forbidden",
    );
    expect(
      marketLogic.messages.safeParse({ type: "configure", name: "x", city: "y", timezone: "UTC" })
        .success,
    ).toBe(false);
  });
});

describe("orders", () => {
  it("queues a ready order and starts the tick", () => {
    const { state, effects } = run(fresh(), ready("o1"), asActor());
    expect(state.orders.o1).toMatchObject({
      storeId: "s1",
      held: false,
      lockedTo: null,
      queuedAt: T0,
    });
    expect(events(effects)).toEqual(["order_queued"]);
    expect(timers(effects)).toEqual([
      { kind: "schedule", timer: "tick", at: T0 + 2000, msg: { type: "tick" } },
    ]);
    expect(state.tickDueAt).toBe(T0 + 2000);
  });

  it("does not push back a tick already due when more orders arrive", () => {
    const state = run(fresh(), ready("o1"), asActor()).state;
    const { effects } = run(state, ready("o2"), asActor(T0 + 500));
    expect(timers(effects)).toEqual([]);
  });

  it("updates an order that is ready again, keeping dispatcher holds", () => {
    let state = run(fresh(), ready("o1"), asActor()).state;
    state = held(state, "o1");
    const { state: after, effects } = run(
      state,
      ready("o1", { readyAt: T0 + 900_000 }),
      asActor(T0 + 100),
    );
    expect(after.orders.o1).toMatchObject({ readyAt: T0 + 900_000, held: true, queuedAt: T0 });
    expect(events(effects)).toEqual(["order_updated"]);
  });

  it("accepts order facts only from actors", () => {
    expect(refusal(fresh(), ready("o1"), asDispatcher())).toBe("forbidden");
    expect(refusal(fresh(), ready("o1"), asCourier())).toBe("forbidden");
    expect(refusal(fresh(), { type: "order_cancelled", orderId: "o1" }, asTimer())).toBe(
      "forbidden",
    );
  });

  it("forgets an assigned order and stops the tick when none are left", () => {
    let state = run(fresh(), ready("o1"), asActor()).state;
    const { state: after, effects } = run(
      state,
      { type: "order_assigned", orderId: "o1", courierId: "c1" },
      asActor(),
    );
    expect(after.orders).toEqual({});
    expect(after.tickDueAt).toBeNull();
    expect(events(effects)).toEqual(["order_assigned"]);
    expect(timers(effects)).toEqual([{ kind: "cancel", timer: "tick" }]);
    state = after;
    expect(
      run(state, { type: "order_assigned", orderId: "o1", courierId: "c1" }, asActor()).state,
    ).toBe(state);
  });

  it("withdraws another courier's offer when the order is assigned elsewhere", () => {
    const state = offered(busy(), "o1", "c2");
    const { effects } = run(
      state,
      { type: "order_assigned", orderId: "o1", courierId: "c1" },
      asActor(),
    );
    expect(sends(effects)).toEqual([
      {
        to: { type: "courier", id: "c2" },
        msg: { type: "offer_withdrawn", orderId: "o1", reason: "assigned_elsewhere" },
      },
    ]);
    const same = run(state, { type: "order_assigned", orderId: "o1", courierId: "c2" }, asActor());
    expect(sends(same.effects)).toEqual([]);
    expect(same.state.offers).toEqual({});
  });

  it("drops a cancelled order and withdraws its pending offer", () => {
    const state = offered(busy(), "o1", "c1");
    const { state: after, effects } = run(
      state,
      { type: "order_cancelled", orderId: "o1" },
      asActor(),
    );
    expect(after.orders.o1).toBeUndefined();
    expect(after.offers).toEqual({});
    expect(events(effects)).toEqual(["order_cancelled"]);
    expect(sends(effects)).toEqual([
      {
        to: { type: "courier", id: "c1" },
        msg: { type: "offer_withdrawn", orderId: "o1", reason: "order_cancelled" },
      },
    ]);
    expect(run(after, { type: "order_cancelled", orderId: "o1" }, asActor()).effects).toEqual([]);
  });
});

describe("couriers", () => {
  it("adds a courier who becomes available and updates them on later reports", () => {
    const joined = run(fresh(), available("c1"), asActor());
    expect(events(joined.effects)).toEqual(["courier_joined"]);
    const updated = run(joined.state, available("c1", 1, T0 + 10), asActor(T0 + 20));
    expect(events(updated.effects)).toEqual(["courier_updated"]);
    expect(updated.state.couriers.c1).toMatchObject({
      freeCapacity: 1,
      since: T0,
      updatedAt: T0 + 20,
    });
  });

  it("keeps the newer position when an availability report is older than a position update", () => {
    let state = run(fresh(), available("c1"), asActor()).state;
    const newer = { lat: 31.3, lng: 121.5, at: T0 + 5000, accuracy: null };
    state = run(
      state,
      { type: "courier_position", courierId: "c1", position: newer },
      asActor(T0 + 5000),
    ).state;
    state = run(state, available("c1", 1, T0 + 1000), asActor(T0 + 6000)).state;
    expect(state.couriers.c1?.position).toEqual(newer);
  });

  it("moves a courier on a newer position and ignores older or unknown ones", () => {
    const state = run(fresh(), available("c1"), asActor()).state;
    const pos = (at: number) => ({ lat: 31.25, lng: 121.45, at, accuracy: 5 });
    const moved = run(
      state,
      { type: "courier_position", courierId: "c1", position: pos(T0 + 1) },
      asActor(),
    );
    expect(events(moved.effects)).toEqual(["courier_moved"]);
    expect(
      run(moved.state, { type: "courier_position", courierId: "c1", position: pos(T0) }, asActor())
        .state,
    ).toBe(moved.state);
    expect(
      run(state, { type: "courier_position", courierId: "c9", position: pos(T0 + 1) }, asActor())
        .state,
    ).toBe(state);
  });

  it("removes a courier who becomes unavailable", () => {
    const state = run(fresh(), available("c1"), asActor()).state;
    const { state: after, effects } = run(
      state,
      { type: "courier_unavailable", courierId: "c1", reason: "off_shift" },
      asActor(),
    );
    expect(after.couriers).toEqual({});
    expect(events(effects)).toEqual(["courier_left"]);
    expect(run(after, { type: "courier_unavailable", courierId: "c1" }, asDispatcher()).state).toBe(
      after,
    );
    expect(refusal(state, available("c1"), asCourier())).toBe("forbidden");
  });
});

describe("offers (the dispatch seam)", () => {
  it("records an offer, its one time-out timer, and tells the courier and the order", () => {
    const result = makeOffer(busy(), "o1", "c1", T0 + 100);
    if (!result.ok) throw new Error(result.refusal.code);
    expect(result.state.offers.o1).toEqual({
      orderId: "o1",
      courierId: "c1",
      offeredAt: T0 + 100,
      expiresAt: T0 + 30_100,
    });
    expect(events(result.effects)).toEqual(["offer_made"]);
    const [command, toOrder] = sends(result.effects);
    expect(command?.to).toEqual({ type: "courier", id: "c1" });
    expect(CourierMessage.parse(command?.msg)).toMatchObject({
      type: "offer",
      orderId: "o1",
      marketId: "sh-pudong",
      expiresAt: T0 + 30_100,
    });
    expect(toOrder).toEqual({
      to: { type: "order", id: "o1" },
      msg: OrderMessage.parse({ type: "offer", courierId: "c1", expiresAt: T0 + 30_100 }),
    });
    expect(timers(result.effects)).toEqual([
      {
        kind: "schedule",
        timer: "offer:o1",
        at: T0 + 30_100,
        msg: { type: "offer_timeout", orderId: "o1", courierId: "c1", expiresAt: T0 + 30_100 },
      },
    ]);
    const [schedule] = timers(result.effects);
    // The reminder's message is one the market's own schema accepts.
    expect(schedule?.kind === "schedule" && MarketMessage.safeParse(schedule.msg).success).toBe(
      true,
    );
  });

  it("lets a dispatcher make an offer, and no one else", () => {
    const { state, effects } = run(
      busy(),
      { type: "offer", orderId: "o1", courierId: "c1" },
      asDispatcher(),
    );
    expect(state.offers.o1).toMatchObject({ courierId: "c1" });
    expect(events(effects)).toEqual(["offer_made"]);
    expect(refusal(busy(), { type: "offer", orderId: "o1", courierId: "c1" }, asCourier())).toBe(
      "forbidden",
    );
    expect(refusal(busy(), { type: "offer", orderId: "o9", courierId: "c1" }, asDispatcher())).toBe(
      "unknown_order",
    );
  });

  it("refuses offers the bookkeeping forbids", () => {
    const state = busy();
    expect(offerRefusal(state, "o9", "c1")).toBe("unknown_order");
    expect(offerRefusal(state, "o1", "c9")).toBe("unknown_courier");
    expect(offerRefusal(offered(state, "o1", "c1"), "o1", "c2")).toBe("offer_pending");
    expect(offerRefusal(offered(state, "o1", "c2"), "o2", "c2")).toBe("over_capacity");
    expect(offerRefusal(held(state, "o1"), "o1", "c1")).toBe("order_held");
    const locked = run(
      state,
      { type: "lock", orderId: "o1", courierId: "c2", reason: "r" },
      asDispatcher(),
    ).state;
    expect(offerRefusal(locked, "o1", "c1")).toBe("order_locked");
    const forced = run(
      state,
      { type: "force_assign", orderId: "o1", courierId: "c2", reason: "r" },
      asDispatcher(),
    ).state;
    expect(offerRefusal(forced, "o1", "c1")).toBe("order_forced");
    const passed = run(
      offered(state, "o1", "c1"),
      { type: "offer_declined", orderId: "o1", courierId: "c1", reason: "busy" },
      asActor(),
    ).state;
    expect(offerRefusal(passed, "o1", "c1")).toBe("already_passed");
  });

  it("refuses an offer to a van with no free slot of the order's temperature class", () => {
    const van: MarketMessage = {
      ...available("v1", 4),
      mode: "van",
      vehicleId: "van-1",
      freeSlots: { ambient: 2, chilled: 1, frozen: 0 },
    } as MarketMessage;
    let state = run(busy(), van, asActor()).state;
    state = run(state, ready("o3", { temperatureClass: "frozen" }), asActor()).state;
    expect(offerRefusal(state, "o3", "v1")).toBe("over_capacity");
    state = offered(state, "o1", "v1");
    expect(offerRefusal(state, "o2", "v1")).toBe("over_capacity");
  });

  it("records a decline and never offers that order to the courier again", () => {
    const state = offered(busy(), "o1", "c1");
    const { state: after, effects } = run(
      state,
      { type: "offer_declined", orderId: "o1", courierId: "c1", reason: "too_far" },
      asActor(),
    );
    expect(after.offers).toEqual({});
    expect(after.passedBy).toEqual({ o1: ["c1"] });
    expect(events(effects)).toEqual(["offer_declined"]);
    expect(timers(effects)).toEqual([{ kind: "cancel", timer: "offer:o1" }]);
    // The courier told us itself: nothing to send back.
    expect(sends(effects)).toEqual([]);
    expect(
      run(
        state,
        { type: "offer_declined", orderId: "o1", courierId: "c2", reason: "busy" },
        asActor(),
      ).state,
    ).toBe(state);
  });

  it("withdraws the offer at the courier actor when the courier declined at the order", () => {
    const state = offered(busy(), "o1", "c1");
    const { state: after, effects } = run(
      state,
      { type: "offer_declined", orderId: "o1", courierId: "c1", reason: "busy", via: "order" },
      asActor(),
    );
    expect(after.passedBy).toEqual({ o1: ["c1"] });
    expect(sends(effects)).toEqual([
      {
        to: { type: "courier", id: "c1" },
        msg: { type: "offer_withdrawn", orderId: "o1", reason: "declined" },
      },
    ]);
  });

  it("ends an offer on its own timer and tells the order and the courier", () => {
    const state = offered(busy(), "o1", "c1");
    const expiresAt = state.offers.o1!.expiresAt;
    const { state: after, effects } = run(
      state,
      { type: "offer_timeout", orderId: "o1", courierId: "c1", expiresAt },
      asTimer(expiresAt),
    );
    expect(after.offers).toEqual({});
    expect(after.passedBy).toEqual({ o1: ["c1"] });
    expect(events(effects)).toEqual(["offer_expired"]);
    expect(sends(effects)).toEqual([
      {
        to: { type: "order", id: "o1" },
        msg: { type: "offer_expired", courierId: "c1", expiresAt },
      },
      { to: { type: "courier", id: "c1" }, msg: { type: "offer_expired", orderId: "o1" } },
    ]);
    for (const s of sends(effects)) {
      if (s.to.type === "order") OrderMessage.parse(s.msg);
    }
  });

  it("ignores a time-out of an offer that already ended or was replaced, and refuses one not from its timer", () => {
    const state = offered(busy(), "o1", "c1");
    const expiresAt = state.offers.o1!.expiresAt;
    const timeout: MarketMessage = {
      type: "offer_timeout",
      orderId: "o1",
      courierId: "c1",
      expiresAt,
    };
    const answered = run(
      state,
      { type: "offer_declined", orderId: "o1", courierId: "c1", reason: "busy" },
      asActor(),
    ).state;
    expect(run(answered, timeout, asTimer(expiresAt)).effects).toEqual([]);
    const again = offered(answered, "o1", "c2", T0 + 5_000);
    expect(run(again, timeout, asTimer(expiresAt)).effects).toEqual([]);
    expect(refusal(state, timeout, asActor())).toBe("forbidden");
  });

  it("follows an assigned order to pickup and forgets it when finished", () => {
    let state = offered(busy(), "o1", "c1");
    state = run(state, { type: "order_assigned", orderId: "o1", courierId: "c1" }, asActor()).state;
    expect(state.orders.o1).toBeUndefined();
    // With where and when, so dispatch plans the courier's route around it.
    expect(state.assigned.o1).toEqual({
      orderId: "o1",
      courierId: "c1",
      pickedUp: false,
      since: T0,
      pickup: { lat: 31.23, lng: 121.47 },
      dropoff: { lat: 31.24, lng: 121.48 },
      readyAt: T0 + 600_000,
      promisedBy: null,
      temperatureClass: "chilled",
      locked: false,
      pickedUpAt: null,
    });
    state = run(
      state,
      { type: "order_picked_up", orderId: "o1", courierId: "c1" },
      asActor(T0 + 700_000),
    ).state;
    expect(state.assigned.o1?.pickedUp).toBe(true);
    // The chilled goods' time out of refrigeration starts now; a repeated report keeps it.
    expect(state.assigned.o1?.pickedUpAt).toBe(T0 + 700_000);
    const repeated = run(
      state,
      { type: "order_picked_up", orderId: "o1", courierId: "c1" },
      asActor(T0 + 760_000),
    ).state;
    expect(repeated.assigned.o1?.pickedUpAt).toBe(T0 + 700_000);
    expect(
      refusal(
        state,
        { type: "force_assign", orderId: "o1", courierId: "c2", reason: "faster" },
        asDispatcher(),
      ),
    ).toBe("already_picked_up");
    const done = run(
      state,
      { type: "order_finished", orderId: "o1", courierId: "c1", outcome: "delivered" },
      asActor(),
    );
    expect(done.state.assigned).toEqual({});
    expect(events(done.effects)).toEqual(["order_finished"]);
    // Back in the pool (released by its courier): no longer assigned.
    const back = run(state, ready("o1"), asActor()).state;
    expect(back.assigned).toEqual({});
    expect(back.orders.o1).toBeDefined();
  });

  it("reads a state persisted before assignments were tracked", () => {
    const { assigned: _assigned, ...old } = busy();
    expect(marketLogic.restore!(JSON.parse(JSON.stringify(old)), 1).assigned).toEqual({});
  });

  it("reads an assigned order persisted before its pickup moment was kept", () => {
    let state = offered(busy(), "o1", "c1");
    state = run(state, { type: "order_assigned", orderId: "o1", courierId: "c1" }, asActor()).state;
    const { pickedUpAt: _pickedUpAt, ...old } = state.assigned.o1!;
    const restored = marketLogic.restore!(
      JSON.parse(JSON.stringify({ ...state, assigned: { o1: { ...old, pickedUp: true } } })),
      1,
    );
    expect(restored.assigned.o1?.pickedUpAt).toBeNull();
  });

  it("withdraws an offer when the order asks, without counting it as a pass", () => {
    const state = offered(busy(), "o1", "c1");
    const { state: after, effects } = run(
      state,
      { type: "withdraw_offer", orderId: "o1", courierId: "c1", reason: "reassigned" },
      asActor(),
    );
    expect(after.offers).toEqual({});
    expect(after.passedBy).toEqual({});
    expect(timers(effects)).toEqual([{ kind: "cancel", timer: "offer:o1" }]);
    expect(sends(effects)).toEqual([
      {
        to: { type: "courier", id: "c1" },
        msg: { type: "offer_withdrawn", orderId: "o1", reason: "reassigned" },
      },
    ]);
    expect(
      run(
        state,
        { type: "withdraw_offer", orderId: "o1", courierId: "c2", reason: "reassigned" },
        asActor(),
      ).effects,
    ).toEqual([]);
  });

  it("gives dispatch only what it may plan", () => {
    let state = busy();
    state = run(state, ready("o3"), asActor()).state;
    state = run(state, ready("o4"), asActor()).state;
    state = held(state, "o2");
    state = run(
      state,
      { type: "lock", orderId: "o3", courierId: "c1", reason: "r" },
      asDispatcher(),
    ).state;
    state = offered(state, "o1", "c2");
    state = run(
      state,
      { type: "offer_declined", orderId: "o1", courierId: "c2", reason: "busy" },
      asActor(),
    ).state;
    state = offered(state, "o4", "c2");
    const input = dispatchInput(state, T0 + 5);
    expect(input.orders.map((o) => o.orderId)).toEqual(["o1", "o3"]);
    expect(input.couriers.map((c) => [c.courierId, c.capacityLeft])).toEqual([["c1", 2]]);
    expect(input.passedBy).toEqual({ o1: ["c2"] });
    expect(input.locks).toEqual({ o3: "c1" });
    expect(input).toMatchObject({ now: T0 + 5, offerTimeoutMs: 30_000, h3Resolution: 8 });
  });
});

describe("tick", () => {
  it("leaves offers to their own timers, and keeps ticking while orders are open", () => {
    let state = busy();
    state = offered(state, "o1", "c1", T0);
    state = offered(state, "o2", "c2", T0 + 10_000);
    const { state: after, effects } = run(state, { type: "tick" }, asTimer(T0 + 30_000));
    // One expiry path: the offer:o1 timer (offer_timeout), not the tick.
    expect(Object.keys(after.offers)).toEqual(["o1", "o2"]);
    expect(after.passedBy).toEqual({});
    expect(events(effects)).toEqual([]);
    expect(sends(effects)).toEqual([]);
    expect(timers(effects)).toEqual([
      { kind: "schedule", timer: "tick", at: T0 + 32_000, msg: { type: "tick" } },
    ]);
  });

  it("stays quiet when nothing changed, but schedules the next tick", () => {
    const { effects } = run(busy(), { type: "tick" }, asTimer(T0 + 2000));
    expect(events(effects)).toEqual([]);
    expect(timers(effects)).toEqual([
      { kind: "schedule", timer: "tick", at: T0 + 4000, msg: { type: "tick" } },
    ]);
  });

  it("stops ticking when no order is open, and ignores a tick that outlived its cancel", () => {
    let state = run(fresh(), ready("o1"), asActor()).state;
    state = { ...state, orders: {} };
    const { state: idle, effects } = run(state, { type: "tick" }, asTimer(T0 + 2000));
    expect(idle.tickDueAt).toBeNull();
    expect(effects).toEqual([]);
    expect(run(idle, { type: "tick" }, asTimer(T0 + 4000)).state).toBe(idle);
  });

  it("refuses a tick that is not from its timer", () => {
    expect(refusal(busy(), { type: "tick" }, asDispatcher())).toBe("forbidden");
    expect(refusal(busy(), { type: "tick" }, asActor())).toBe("forbidden");
  });
});

describe("dispatcher overrides", () => {
  it("forwards a hold to the order actor, auditing who, when and why", () => {
    const state = offered(busy(), "o1", "c1");
    const { state: after, effects } = run(
      state,
      { type: "hold", orderId: "o1", reason: "address unclear" },
      asDispatcher(T0 + 7),
    );
    // The order owns holds: nothing changes here until it confirms with order_held.
    expect(after.orders.o1?.held).toBe(false);
    expect(after.offers).toEqual(state.offers);
    expect(after.audit).toEqual([
      {
        at: T0 + 7,
        commandId: expect.any(String),
        by: dispatcher,
        action: "hold",
        orderId: "o1",
        courierId: null,
        reason: "address unclear",
      },
    ]);
    expect(events(effects)).toEqual(["hold_requested"]);
    expect(sends(effects)).toEqual([
      { to: { type: "order", id: "o1" }, msg: { type: "hold", reason: "address unclear" } },
    ]);
  });

  it("marks an order held when the order confirms, withdrawing its offer", () => {
    const state = offered(busy(), "o1", "c1");
    const { state: after, effects } = run(state, { type: "order_held", orderId: "o1" }, asActor());
    expect(after.orders.o1?.held).toBe(true);
    expect(after.offers).toEqual({});
    expect(events(effects)).toEqual(["order_held"]);
    expect(timers(effects)).toEqual([{ kind: "cancel", timer: "offer:o1" }]);
    expect(sends(effects)).toEqual([
      {
        to: { type: "courier", id: "c1" },
        msg: { type: "offer_withdrawn", orderId: "o1", reason: "order_held" },
      },
    ]);
    const released = run(after, { type: "order_released", orderId: "o1" }, asActor());
    expect(released.state.orders.o1?.held).toBe(false);
    expect(events(released.effects)).toEqual(["order_released"]);
    // Repeats and unknown orders are facts that change nothing.
    expect(run(after, { type: "order_held", orderId: "o1" }, asActor()).effects).toEqual([]);
    expect(run(after, { type: "order_held", orderId: "o9" }, asActor()).effects).toEqual([]);
  });

  it("refuses holding twice, an unknown order, without a reason, or by a courier", () => {
    const held = run(busy(), { type: "order_held", orderId: "o1" }, asActor()).state;
    expect(refusal(held, { type: "hold", orderId: "o1", reason: "r" }, asDispatcher())).toBe(
      "invalid_transition",
    );
    expect(refusal(held, { type: "hold", orderId: "o9", reason: "r" }, asDispatcher())).toBe(
      "unknown_order",
    );
    expect(refusal(held, { type: "hold", orderId: "o2", reason: "r" }, asCourier())).toBe(
      "forbidden",
    );
    expect(refusal(held, { type: "hold", orderId: "o2", reason: "r" }, asActor())).toBe(
      "forbidden",
    );
    expect(
      marketLogic.messages.safeParse({ type: "hold", orderId: "o2", reason: "  " }).success,
    ).toBe(false);
  });

  it("releases a lock here and a hold through the order, and refuses releasing a free order", () => {
    let state = run(busy(), { type: "hold", orderId: "o1", reason: "r" }, asDispatcher()).state;
    state = held(state, "o1");
    state = run(
      state,
      { type: "lock", orderId: "o1", courierId: "c1", reason: "regular" },
      asDispatcher(),
    ).state;
    const { state: after, effects } = run(
      state,
      { type: "release", orderId: "o1", reason: "ok now" },
      asDispatcher(),
    );
    expect(after.orders.o1).toMatchObject({ held: true, lockedTo: null });
    expect(events(effects)).toEqual(["release_requested"]);
    expect(sends(effects)).toEqual([
      { to: { type: "order", id: "o1" }, msg: { type: "release_hold" } },
    ]);
    expect(after.audit.map((a) => a.action)).toEqual(["hold", "lock", "release"]);
    const confirmed = run(after, { type: "order_released", orderId: "o1" }, asActor()).state;
    expect(
      refusal(confirmed, { type: "release", orderId: "o1", reason: "r" }, asDispatcher()),
    ).toBe("invalid_transition");
    expect(refusal(after, { type: "release", orderId: "o9", reason: "r" }, asDispatcher())).toBe(
      "unknown_order",
    );
  });

  it("locks an order to a courier, keeping that courier's offer and withdrawing another's", () => {
    const mine = offered(busy(), "o1", "c1");
    const kept = run(
      mine,
      { type: "lock", orderId: "o1", courierId: "c1", reason: "r" },
      asDispatcher(),
    );
    expect(kept.state.offers.o1?.courierId).toBe("c1");
    expect(sends(kept.effects)).toEqual([]);
    const other = run(
      mine,
      { type: "lock", orderId: "o1", courierId: "c2", reason: "r" },
      asDispatcher(),
    );
    expect(other.state.offers).toEqual({});
    expect(other.state.orders.o1?.lockedTo).toBe("c2");
    // The courier loses the offer, and the order hears it (the market, not the order, ended it).
    expect(sends(other.effects)).toEqual([
      {
        to: { type: "courier", id: "c1" },
        msg: { type: "offer_withdrawn", orderId: "o1", reason: "order_locked" },
      },
      {
        to: { type: "order", id: "o1" },
        msg: { type: "offer_withdrawn", courierId: "c1", reason: "order_locked" },
      },
    ]);
    expect(
      refusal(
        other.state,
        { type: "lock", orderId: "o1", courierId: "c2", reason: "r" },
        asDispatcher(),
      ),
    ).toBe("invalid_transition");
    expect(
      refusal(
        other.state,
        { type: "lock", orderId: "o9", courierId: "c2", reason: "r" },
        asDispatcher(),
      ),
    ).toBe("unknown_order");
  });

  it("forces an open order to a courier through the order actor", () => {
    const state = offered(busy(), "o1", "c1");
    const { state: after, effects } = run(
      state,
      { type: "force_assign", orderId: "o1", courierId: "c2", reason: "VIP" },
      asDispatcher(T0 + 3),
    );
    expect(after.orders.o1?.forcedTo).toBe("c2");
    expect(after.audit.at(-1)).toMatchObject({ action: "force", courierId: "c2", reason: "VIP" });
    expect(events(effects)).toEqual(["order_force_assigned"]);
    expect(sends(effects)).toEqual([
      {
        to: { type: "courier", id: "c1" },
        msg: { type: "offer_withdrawn", orderId: "o1", reason: "order_forced" },
      },
      {
        to: { type: "order", id: "o1" },
        msg: {
          type: "dispatcher_assigned",
          courierId: "c2",
          marketId: "sh-pudong",
          by: dispatcher,
          reason: "VIP",
          at: T0 + 3,
        },
      },
    ]);
  });

  it("records forcing an order that is no longer open as a reassign", () => {
    const { state, effects } = run(
      fresh(),
      { type: "force_assign", orderId: "o7", courierId: "c2", reason: "courier crashed" },
      asDispatcher(),
    );
    expect(state.audit.at(-1)).toMatchObject({ action: "reassign", orderId: "o7" });
    expect(sends(effects).map((s) => s.to)).toEqual([{ type: "order", id: "o7" }]);
    expect(
      refusal(
        fresh(),
        { type: "force_assign", orderId: "o7", courierId: "c2", reason: "x" },
        asCourier(),
      ),
    ).toBe("forbidden");
    expect(
      marketLogic.messages.safeParse({ type: "force_assign", orderId: "o7", courierId: "c2" })
        .success,
    ).toBe(false);
  });

  it("keeps only the latest audit entries", () => {
    let state = busy();
    for (let i = 0; i < AUDIT_LIMIT + 10; i += 1) {
      const msg: MarketMessage =
        i % 2 === 0
          ? { type: "lock", orderId: "o1", courierId: "c1", reason: `n${i}` }
          : { type: "release", orderId: "o1", reason: `n${i}` };
      state = run(state, msg, asDispatcher(T0 + i)).state;
    }
    expect(state.audit).toHaveLength(AUDIT_LIMIT);
    expect(state.audit[0]?.reason).toBe("n10");
    expect(state.audit.at(-1)?.reason).toBe(`n${AUDIT_LIMIT + 9}`);
  });
});

describe("persistence", () => {
  it("survives persist → JSON → restore after many transitions and continues identically", () => {
    let state = busy();
    state = run(state, { type: "configure", name: "浦东", city: "上海" }, asDispatcher()).state;
    state = offered(state, "o1", "c1");
    state = run(
      state,
      { type: "offer_declined", orderId: "o1", courierId: "c1", reason: "busy" },
      asActor(),
    ).state;
    state = offered(state, "o2", "c2");
    state = run(
      state,
      { type: "lock", orderId: "o1", courierId: "c1", reason: "r" },
      asDispatcher(),
    ).state;
    state = run(
      state,
      ready("o3", { dropoff: undefined, promisedBy: T0 + 3_600_000 }),
      asActor(),
    ).state;
    state = run(
      state,
      { type: "force_assign", orderId: "o3", courierId: "c1", reason: "r" },
      asDispatcher(),
    ).state;
    state = run(
      state,
      {
        type: "courier_position",
        courierId: "c2",
        position: { lat: 31.2, lng: 121.4, at: T0 + 9, accuracy: null },
      },
      asActor(),
    ).state;
    state = run(state, { type: "tick" }, asTimer(T0 + 2000)).state;
    const restored = marketLogic.restore!(
      JSON.parse(JSON.stringify(marketLogic.persist!(state))),
      1,
    );
    expect(restored).toEqual(state);
    const c = asTimer(T0 + 40_000);
    expect(marketLogic.transition(restored, { type: "tick" }, c)).toEqual(
      marketLogic.transition(state, { type: "tick" }, c),
    );
  });

  it("refuses to restore an unknown version", () => {
    expect(() => marketLogic.restore!(fresh(), 0)).toThrow();
  });
});
