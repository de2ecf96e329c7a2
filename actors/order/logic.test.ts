import { describe, expect, it } from "vitest";
import type { Effect, Principal, TurnContext, TurnResult } from "../types.ts";
import { OrderMessage as OrderMessageSchema } from "../../protocol/actors/order.ts";
import type { OrderMessage } from "../../protocol/actors/order.ts";
import { CourierMessage } from "../../protocol/actors/courier.ts";
import { MarketMessage } from "../../protocol/actors/market.ts";
import { StoreMessage } from "../../protocol/actors/store.ts";
import { VehicleMessage } from "../../protocol/actors/vehicle.ts";
import { EXCURSION_LIMIT, TIMELINE_LIMIT, orderLogic, viewOrder } from "./logic.ts";
import type { Order, OrderState } from "./types.ts";
import { contexts, events, refusedWith } from "../testing/turns.ts";

// Monday 2 June 2025, 10:00 in Shanghai.
const T0 = Date.UTC(2025, 5, 2, 2, 0);
const MIN = 60_000;

const system: Principal = { role: "system", id: "shop-gateway" };
const dispatcher: Principal = { role: "dispatcher", id: "d-1" };
const admin: Principal = { role: "admin", id: "a-1" };
const store: Principal = { role: "store", id: "s-1" };
const otherStore: Principal = { role: "store", id: "s-2" };
const shopper: Principal = { role: "shopper", id: "u-1" };
const otherShopper: Principal = { role: "shopper", id: "u-2" };
const courier1: Principal = { role: "courier", id: "c-1" };
const courier2: Principal = { role: "courier", id: "c-2" };

const { ctx, fromActor, fromTimer } = contexts({ type: "order", id: "o-1" }, T0);

/** Runs a message as the runtime would: validated by the wire schema first. */
function run(state: OrderState, msg: OrderMessage, c: TurnContext): TurnResult<OrderState> {
  return orderLogic.transition(state, orderLogic.messages.parse(msg), c);
}

function ok(result: TurnResult<OrderState>): { state: Order; effects: readonly Effect[] } {
  if (!result.ok) throw new Error(`refused: ${result.refusal.code}: ${result.refusal.message}`);
  if (result.state.status === "none") throw new Error("no order");
  return { state: result.state, effects: result.effects };
}

const sends = (effects: readonly Effect[]) =>
  effects.flatMap((e) =>
    e.kind === "send" ? [`${e.command.to.type}/${e.command.to.id} ${e.command.msg.type}`] : [],
  );
const sent = (effects: readonly Effect[], to: string, type: string) =>
  effects.flatMap((e) =>
    e.kind === "send" &&
    `${e.command.to.type}/${e.command.to.id}` === to &&
    e.command.msg.type === type
      ? [e.command.msg]
      : [],
  )[0];
const timers = (effects: readonly Effect[]) =>
  effects.flatMap((e) =>
    e.kind === "schedule"
      ? [`schedule ${e.timer}`]
      : e.kind === "cancel"
        ? [`cancel ${e.timer}`]
        : [],
  );

const createMsg: Extract<OrderMessage, { type: "create" }> = {
  type: "create",
  storeId: "s-1",
  marketId: "m-sh",
  shopOrderId: "WX20250602-0001",
  shopperId: "u-1",
  temperatureClass: "chilled",
  items: { summary: "2 × 草莓 500g, 1 × 鲜牛奶 1L", count: 3 },
  amounts: { goodsFen: 5980, deliveryFeeFen: 500, discountFen: 300, totalFen: 6180 },
  pickup: { lat: 31.2252, lng: 121.4453 },
  dropoff: { kind: "door", location: { lat: 31.2304, lng: 121.4737 } },
  promisedAt: T0 + 45 * MIN,
  pickupCode: "K7Q2",
  deliveryPin: "4821",
};

const empty = orderLogic.initial({ type: "order", id: "o-1" });

function created(): Order {
  return ok(run(empty, createMsg, ctx(system))).state;
}
function accepted(): Order {
  return ok(
    run(
      created(),
      { type: "accept", readyAt: T0 + 15 * MIN, readyAtSource: "stated" },
      fromActor(T0 + MIN),
    ),
  ).state;
}
function offered(to = "c-1", expiresAt = T0 + 3 * MIN): Order {
  return ok(run(accepted(), { type: "offer", courierId: to, expiresAt }, fromActor(T0 + 2 * MIN)))
    .state;
}
function assigned(): Order {
  return ok(
    run(offered(), { type: "accept_offer", courierId: "c-1" }, ctx(courier1, T0 + 2 * MIN + 5000)),
  ).state;
}
function atStore(): Order {
  return ok(
    run(assigned(), { type: "arrive_at_store", courierId: "c-1" }, ctx(courier1, T0 + 10 * MIN)),
  ).state;
}
function pickedUp(): Order {
  return ok(
    run(
      atStore(),
      { type: "pick_up", pickupCode: "K7Q2", courierId: "c-1" },
      ctx(store, T0 + 16 * MIN),
    ),
  ).state;
}
function atCustomer(): Order {
  return ok(
    run(pickedUp(), { type: "arrive_at_customer", courierId: "c-1" }, ctx(courier1, T0 + 30 * MIN)),
  ).state;
}
function failed(): Order {
  return ok(
    run(
      atCustomer(),
      { type: "fail_delivery", courierId: "c-1", reason: "no_answer" },
      ctx(courier1, T0 + 35 * MIN),
    ),
  ).state;
}
function delivered(): Order {
  return ok(
    run(
      atCustomer(),
      { type: "deliver", courierId: "c-1", pin: "4821" },
      ctx(courier1, T0 + 32 * MIN),
    ),
  ).state;
}
function cancelled(): Order {
  return ok(run(accepted(), { type: "cancel", reason: "shopper_request" }, ctx(shopper))).state;
}

/** Picked up into chilled compartment C of van-1. */
const VAN = { vehicleId: "van-1", compartmentId: "C" } as const;
function pickedUpInVan(): Order {
  return ok(
    run(
      atStore(),
      { type: "pick_up", pickupCode: "K7Q2", courierId: "c-1", ...VAN },
      fromActor(T0 + 16 * MIN),
    ),
  ).state;
}
type ExcursionMsg = Extract<OrderMessage, { type: "cold_chain_excursion" }>;
type ExcursionEndedMsg = Extract<OrderMessage, { type: "cold_chain_excursion_ended" }>;
function excursion(over: Partial<ExcursionMsg> = {}): ExcursionMsg {
  return {
    type: "cold_chain_excursion",
    ...VAN,
    kind: "temperature",
    startedAt: T0 + 20 * MIN,
    detectedAt: T0 + 22 * MIN,
    celsius: 9.5,
    ...over,
  };
}
function excursionEnded(over: Partial<ExcursionEndedMsg> = {}): ExcursionEndedMsg {
  return {
    type: "cold_chain_excursion_ended",
    ...VAN,
    kind: "temperature",
    endedAt: T0 + 25 * MIN,
    ...over,
  };
}
/** In the van, with a temperature excursion that started and ended on the way. */
function markedInVan(): Order {
  const s = ok(run(pickedUpInVan(), excursion(), fromActor(T0 + 22 * MIN))).state;
  return ok(run(s, excursionEnded(), fromActor(T0 + 25 * MIN))).state;
}

function roundTrip(state: OrderState): OrderState {
  const json = JSON.parse(JSON.stringify(orderLogic.persist!(state)));
  return orderLogic.restore!(json, orderLogic.version);
}

describe("order: creation", () => {
  it("creates the order, records the timeline and tells the store", () => {
    const { state, effects } = ok(run(empty, createMsg, ctx(system)));
    expect(state.status).toBe("created");
    expect(state.placedAt).toBe(T0);
    expect(state.timeline).toEqual([{ status: "created", at: T0, by: "system" }]);
    expect(events(effects)).toEqual(["created"]);
    expect(sent(effects, "store/s-1", "order_placed")).toEqual({
      type: "order_placed",
      orderId: "o-1",
      shopOrderId: "WX20250602-0001",
      pickupCode: "K7Q2",
      promisedAt: T0 + 45 * MIN,
      temperatureClass: "chilled",
      itemsSummary: "2 × 草莓 500g, 1 × 鲜牛奶 1L",
    });
  });

  it("accepts a 社区自提 pickup-point drop-off and an order without a delivery PIN", () => {
    const { deliveryPin: _pin, ...noPin } = createMsg;
    const msg = {
      ...noPin,
      dropoff: {
        kind: "pickup_point" as const,
        pickupPointId: "pp-7",
        location: { lat: 31.24, lng: 121.5 },
      },
    };
    const { state } = ok(run(empty, msg, ctx(dispatcher)));
    expect(state.dropoff).toEqual({
      kind: "pickup_point",
      pickupPointId: "pp-7",
      location: { lat: 31.24, lng: 121.5 },
    });
    expect(state.deliveryPin).toBeNull();
  });

  it("lets a store create its own orders but not another store's", () => {
    expect(run(empty, createMsg, ctx(store)).ok).toBe(true);
    expect(refusedWith(run(empty, createMsg, ctx(otherStore)))).toBe("not_own_order");
  });

  it("refuses creation by couriers, shoppers, timers and anonymous clients", () => {
    expect(refusedWith(run(empty, createMsg, ctx(courier1)))).toBe("forbidden");
    expect(refusedWith(run(empty, createMsg, ctx(shopper)))).toBe("forbidden");
    expect(refusedWith(run(empty, createMsg, fromTimer()))).toBe("forbidden");
    expect(refusedWith(run(empty, createMsg, ctx(undefined)))).toBe("forbidden");
    expect(run(empty, createMsg, fromActor()).ok).toBe(true);
  });

  it("refuses a second create", () => {
    expect(refusedWith(run(created(), createMsg, ctx(system)))).toBe("already_exists");
  });

  it("refuses amounts that do not add up and a promised time in the past", () => {
    const amounts = { ...createMsg.amounts, totalFen: 1 };
    expect(refusedWith(run(empty, { ...createMsg, amounts }, ctx(system)))).toBe("invalid_amounts");
    expect(refusedWith(run(empty, { ...createMsg, promisedAt: T0 }, ctx(system)))).toBe(
      "invalid_promised_time",
    );
  });

  it("refuses every other message before the order exists", () => {
    expect(refusedWith(run(empty, { type: "mark_ready" }, ctx(dispatcher)))).toBe("unknown_order");
  });

  it("rejects malformed messages at the schema (wire contract)", () => {
    expect(orderLogic.messages.safeParse({ ...createMsg, pickupCode: "x" }).success).toBe(false);
    expect(
      orderLogic.messages.safeParse({
        ...createMsg,
        amounts: { ...createMsg.amounts, goodsFen: 1.5 },
      }).success,
    ).toBe(false);
    expect(orderLogic.messages.safeParse({ type: "teleport" }).success).toBe(false);
  });
});

describe("order: store side", () => {
  it("is accepted by the store actor and becomes dispatchable at the market", () => {
    const { state, effects } = ok(
      run(
        created(),
        { type: "accept", readyAt: T0 + 15 * MIN, readyAtSource: "predicted" },
        fromActor(T0 + MIN),
      ),
    );
    expect(state.status).toBe("accepted");
    expect(state.acceptedAt).toBe(T0 + MIN);
    expect(state.readyAt).toBe(T0 + 15 * MIN);
    expect(state.readyAtSource).toBe("predicted");
    expect(events(effects)).toEqual(["accepted"]);
    expect(sent(effects, "market/m-sh", "order_ready")).toEqual({
      type: "order_ready",
      orderId: "o-1",
      storeId: "s-1",
      pickup: { lat: 31.2252, lng: 121.4453 },
      dropoff: { lat: 31.2304, lng: 121.4737 },
      readyAt: T0 + 15 * MIN,
      promisedBy: T0 + 45 * MIN,
      temperatureClass: "chilled",
    });
    // The store actor sent it, so the store needs no notice.
    expect(sent(effects, "store/s-1", "order_accepted")).toBeUndefined();
  });

  it("tells the store actor of an acceptance that did not come through it", () => {
    const { effects } = ok(
      run(
        created(),
        { type: "accept", readyAt: T0 + 15 * MIN, readyAtSource: "stated" },
        ctx(dispatcher),
      ),
    );
    expect(sent(effects, "store/s-1", "order_accepted")).toMatchObject({
      orderId: "o-1",
      pickupCode: "K7Q2",
      acceptedAt: T0,
      readyAt: T0 + 15 * MIN,
    });
  });

  it("refuses acceptance by another store, a courier or a shopper", () => {
    const msg: OrderMessage = { type: "accept", readyAt: T0 + 15 * MIN, readyAtSource: "stated" };
    expect(refusedWith(run(created(), msg, ctx(otherStore)))).toBe("not_own_order");
    expect(refusedWith(run(created(), msg, ctx(courier1)))).toBe("forbidden");
    expect(refusedWith(run(created(), msg, ctx(shopper)))).toBe("forbidden");
    expect(run(created(), msg, ctx(store)).ok).toBe(true);
  });

  it("refuses a second acceptance and a ready-at before placement", () => {
    const msg: OrderMessage = { type: "accept", readyAt: T0 + 15 * MIN, readyAtSource: "stated" };
    expect(refusedWith(run(accepted(), msg, fromActor()))).toBe("invalid_transition");
    expect(refusedWith(run(created(), { ...msg, readyAt: T0 - 1 }, fromActor()))).toBe(
      "invalid_ready_at",
    );
  });

  it("does not offer a held order to the market when it is accepted", () => {
    const held = ok(
      run(created(), { type: "hold", reason: "address check" }, ctx(dispatcher)),
    ).state;
    const { effects } = ok(
      run(held, { type: "accept", readyAt: T0 + 15 * MIN, readyAtSource: "stated" }, fromActor()),
    );
    expect(sent(effects, "market/m-sh", "order_ready")).toBeUndefined();
  });

  it("moves through preparing to ready and tells the market", () => {
    const prep = ok(run(accepted(), { type: "start_preparing" }, fromActor(T0 + 2 * MIN)));
    expect(prep.state.status).toBe("preparing");
    expect(prep.state.prep).toBe("preparing");
    expect(events(prep.effects)).toEqual(["preparing"]);
    const ready = ok(run(prep.state, { type: "mark_ready" }, ctx(store, T0 + 12 * MIN)));
    expect(ready.state.status).toBe("ready");
    expect(ready.state.readyAt).toBe(T0 + 12 * MIN);
    expect(ready.state.readyAtSource).toBe("actual");
    expect(events(ready.effects)).toEqual(["ready"]);
    expect(sent(ready.effects, "market/m-sh", "order_ready")).toMatchObject({
      orderId: "o-1",
      readyAt: T0 + 12 * MIN,
    });
  });

  it("can be marked ready straight from accepted", () => {
    expect(ok(run(accepted(), { type: "mark_ready" }, fromActor())).state.status).toBe("ready");
  });

  it("keeps its courier status when the kitchen finishes after assignment", () => {
    const prep = ok(run(assigned(), { type: "start_preparing" }, fromActor()));
    expect(prep.state.status).toBe("assigned");
    expect(prep.state.prep).toBe("preparing");
    const ready = ok(run(prep.state, { type: "mark_ready" }, fromActor()));
    expect(ready.state.status).toBe("assigned");
    expect(ready.state.prep).toBe("ready");
    // Not waiting for a courier: the market has nothing to update.
    expect(sends(ready.effects)).toEqual([]);
  });

  it("refuses preparing twice, ready twice, and kitchen steps before acceptance or after pickup", () => {
    const prep = ok(run(accepted(), { type: "start_preparing" }, fromActor())).state;
    expect(refusedWith(run(prep, { type: "start_preparing" }, fromActor()))).toBe(
      "invalid_transition",
    );
    const ready = ok(run(prep, { type: "mark_ready" }, fromActor())).state;
    expect(refusedWith(run(ready, { type: "mark_ready" }, fromActor()))).toBe("already_ready");
    expect(refusedWith(run(created(), { type: "mark_ready" }, fromActor()))).toBe(
      "invalid_transition",
    );
    expect(refusedWith(run(pickedUp(), { type: "start_preparing" }, fromActor()))).toBe(
      "invalid_transition",
    );
  });

  it("changes the ready-at time and tells the market", () => {
    const { state, effects } = ok(
      run(accepted(), { type: "set_ready_at", readyAt: T0 + 25 * MIN }, ctx(store)),
    );
    expect(state.readyAt).toBe(T0 + 25 * MIN);
    expect(state.readyAtSource).toBe("stated");
    expect(events(effects)).toEqual(["ready_at_changed"]);
    expect(sends(effects)).toEqual(["market/m-sh order_ready"]);
    expect(sent(effects, "market/m-sh", "order_ready")).toMatchObject({ readyAt: T0 + 25 * MIN });
  });

  it("refuses a ready-at change once ready, before placement, or before acceptance", () => {
    const ready = ok(run(accepted(), { type: "mark_ready" }, fromActor())).state;
    expect(
      refusedWith(run(ready, { type: "set_ready_at", readyAt: T0 + 30 * MIN }, fromActor())),
    ).toBe("already_ready");
    expect(
      refusedWith(run(accepted(), { type: "set_ready_at", readyAt: T0 - MIN }, fromActor())),
    ).toBe("invalid_ready_at");
    expect(
      refusedWith(run(created(), { type: "set_ready_at", readyAt: T0 + MIN }, fromActor())),
    ).toBe("invalid_transition");
  });
});

describe("order: offers", () => {
  it("records the market's offer and its deadline, with no timer of its own", () => {
    const { state, effects } = ok(
      run(
        accepted(),
        { type: "offer", courierId: "c-1", expiresAt: T0 + 3 * MIN },
        fromActor(T0 + 2 * MIN),
      ),
    );
    expect(state.status).toBe("offered");
    expect(state.offer).toEqual({
      courierId: "c-1",
      offeredAt: T0 + 2 * MIN,
      expiresAt: T0 + 3 * MIN,
      seq: 1,
    });
    expect(events(effects)).toEqual(["offered"]);
    // The market tells the courier of its offer and owns its one time-out; the order only
    // keeps the record (and the deadline, to refuse late accepts).
    expect(timers(effects)).toEqual([]);
    expect(sends(effects)).toEqual([]);
  });

  it("refuses to offer a held order, an unaccepted order, or with an expiry in the past", () => {
    const held = ok(
      run(accepted(), { type: "hold", reason: "fraud check" }, ctx(dispatcher)),
    ).state;
    const msg: OrderMessage = { type: "offer", courierId: "c-1", expiresAt: T0 + 3 * MIN };
    expect(refusedWith(run(held, msg, fromActor()))).toBe("order_held");
    expect(refusedWith(run(created(), msg, fromActor()))).toBe("invalid_transition");
    expect(refusedWith(run(assigned(), msg, fromActor()))).toBe("invalid_transition");
    expect(refusedWith(run(accepted(), { ...msg, expiresAt: T0 }, fromActor(T0)))).toBe(
      "invalid_offer_expiry",
    );
  });

  it("takes a new offer from the market over one it still shows (the end is on its way)", () => {
    const msg: OrderMessage = { type: "offer", courierId: "c-2", expiresAt: T0 + 3 * MIN };
    const { state } = ok(run(offered(), msg, fromActor()));
    expect(state).toMatchObject({ status: "offered", offer: { courierId: "c-2", seq: 2 } });
    // The late decline of the first courier changes nothing.
    const late = ok(
      run(
        state,
        { type: "courier_declined", courierId: "c-1", marketId: "m-1", reason: "busy", at: T0 },
        fromActor(),
      ),
    );
    expect(late.state).toBe(state);
    expect(late.effects).toEqual([]);
  });

  it("refuses offers from couriers, stores and shoppers", () => {
    const msg: OrderMessage = { type: "offer", courierId: "c-1", expiresAt: T0 + 3 * MIN };
    expect(refusedWith(run(accepted(), msg, ctx(courier1)))).toBe("forbidden");
    expect(refusedWith(run(accepted(), msg, ctx(store)))).toBe("forbidden");
    expect(refusedWith(run(accepted(), msg, ctx(shopper)))).toBe("forbidden");
    expect(run(accepted(), msg, ctx(dispatcher)).ok).toBe(true);
  });

  it("is assigned when the offered courier accepts; the market ends its offer", () => {
    const { state, effects } = ok(
      run(offered(), { type: "accept_offer", courierId: "c-1" }, ctx(courier1)),
    );
    expect(state.status).toBe("assigned");
    expect(state.courierId).toBe("c-1");
    expect(state.offer).toBeNull();
    expect(timers(effects)).toEqual([]);
    expect(events(effects)).toEqual(["assigned"]);
    expect(sends(effects)).toEqual([
      "courier/c-1 job_assigned",
      "market/m-sh order_assigned",
      "store/s-1 courier_assigned",
    ]);
    expect(sent(effects, "courier/c-1", "job_assigned")).toEqual({
      type: "job_assigned",
      orderId: "o-1",
      temperatureClass: "chilled",
      pickup: {
        location: { lat: 31.2252, lng: 121.4453 },
        storeId: "s-1",
        plannedAt: T0 + 15 * MIN,
      },
      dropoff: { location: { lat: 31.2304, lng: 121.4737 }, plannedAt: T0 + 45 * MIN },
      pickupCode: "K7Q2",
    });
    expect(sent(effects, "market/m-sh", "order_assigned")).toEqual({
      type: "order_assigned",
      orderId: "o-1",
      courierId: "c-1",
    });
  });

  it("accepts an offer relayed by the courier actor", () => {
    expect(run(offered(), { type: "accept_offer", courierId: "c-1" }, fromActor()).ok).toBe(true);
  });

  it("refuses an offer accepted by another courier, or naming another courier", () => {
    expect(
      refusedWith(run(offered(), { type: "accept_offer", courierId: "c-2" }, ctx(courier2))),
    ).toBe("not_offered_courier");
    expect(
      refusedWith(run(offered(), { type: "accept_offer", courierId: "c-2" }, ctx(courier1))),
    ).toBe("not_offered_courier");
    expect(
      refusedWith(run(offered(), { type: "accept_offer", courierId: "c-2" }, fromActor())),
    ).toBe("not_offered_courier");
    expect(
      refusedWith(run(offered(), { type: "accept_offer", courierId: "c-1" }, ctx(store))),
    ).toBe("forbidden");
  });

  it("refuses an acceptance after the offer's deadline even before the timer fires", () => {
    expect(
      refusedWith(
        run(offered(), { type: "accept_offer", courierId: "c-1" }, ctx(courier1, T0 + 3 * MIN + 1)),
      ),
    ).toBe("offer_expired");
  });

  it("refuses accepting or declining when nothing is offered", () => {
    expect(
      refusedWith(run(accepted(), { type: "accept_offer", courierId: "c-1" }, fromActor())),
    ).toBe("not_offered_courier");
    expect(
      refusedWith(run(assigned(), { type: "decline_offer", courierId: "c-1" }, ctx(dispatcher))),
    ).toBe("not_offered_courier");
  });

  it("goes back to the pool when the courier declines here, and tells the market", () => {
    const { state, effects } = ok(
      run(offered(), { type: "decline_offer", courierId: "c-1", reason: "too_far" }, ctx(courier1)),
    );
    expect(state.status).toBe("accepted");
    expect(state.offer).toBeNull();
    expect(timers(effects)).toEqual([]);
    expect(events(effects)).toEqual(["offer_declined"]);
    // The market owns the offer: it takes it back from the courier actor (`via` "order").
    expect(sends(effects)).toEqual(["market/m-sh offer_declined", "market/m-sh order_ready"]);
    expect(sent(effects, "market/m-sh", "offer_declined")).toEqual({
      type: "offer_declined",
      orderId: "o-1",
      courierId: "c-1",
      reason: "too_far",
      via: "order",
    });
  });

  it("takes only the shared decline reasons", () => {
    expect(() =>
      orderLogic.messages.parse({ type: "decline_offer", courierId: "c-1", reason: "too far" }),
    ).toThrow();
  });

  it("returns to the stage its kitchen reached when an offer ends", () => {
    const ready = ok(run(accepted(), { type: "mark_ready" }, fromActor())).state;
    const offer = ok(
      run(ready, { type: "offer", courierId: "c-1", expiresAt: T0 + 3 * MIN }, fromActor()),
    ).state;
    expect(
      ok(run(offer, { type: "decline_offer", courierId: "c-1" }, ctx(courier1))).state.status,
    ).toBe("ready");
  });

  it("expires when the market says so: back to the pool, the market told", () => {
    const { state, effects } = ok(
      run(
        offered(),
        { type: "offer_expired", courierId: "c-1", expiresAt: T0 + 3 * MIN },
        fromActor(T0 + 3 * MIN),
      ),
    );
    expect(state.status).toBe("accepted");
    expect(state.offer).toBeNull();
    expect(events(effects)).toEqual(["offer_expired"]);
    expect(sends(effects)).toEqual(["market/m-sh order_ready"]);
    expect(timers(effects)).toEqual([]);
  });

  it("ignores the expiry or withdrawal of an earlier offer", () => {
    const first = offered();
    const declined = ok(
      run(first, { type: "decline_offer", courierId: "c-1" }, ctx(courier1)),
    ).state;
    const second = ok(
      run(
        declined,
        { type: "offer", courierId: "c-2", expiresAt: T0 + 5 * MIN },
        fromActor(T0 + 3 * MIN),
      ),
    ).state;
    expect(second.offer?.seq).toBe(2);
    // Facts about an offer that already ended change nothing (no refusal to retry in vain).
    const stale: OrderMessage = {
      type: "offer_expired",
      courierId: "c-1",
      expiresAt: T0 + 3 * MIN,
    };
    expect(ok(run(second, stale, fromActor())).state).toEqual(second);
    expect(ok(run(second, stale, fromActor())).effects).toEqual([]);
    expect(ok(run(declined, stale, fromActor())).effects).toEqual([]);
    // Same courier, another offer: told apart by the deadline.
    const again = ok(
      run(
        second,
        { type: "offer_expired", courierId: "c-2", expiresAt: T0 + 4 * MIN },
        fromActor(),
      ),
    );
    expect(again.effects).toEqual([]);
    const withdrawn: OrderMessage = {
      type: "offer_withdrawn",
      courierId: "c-1",
      reason: "order_locked",
    };
    expect(ok(run(second, withdrawn, fromActor())).effects).toEqual([]);
  });

  it("ends its offer when the market withdraws it", () => {
    const { state, effects } = ok(
      run(
        offered(),
        { type: "offer_withdrawn", courierId: "c-1", reason: "order_locked" },
        fromActor(),
      ),
    );
    expect(state).toMatchObject({ status: "accepted", offer: null });
    expect(events(effects)).toEqual(["offer_withdrawn"]);
    expect(sends(effects)).toEqual(["market/m-sh order_ready"]);
  });

  it("accepts offer_expired and offer_withdrawn only from the market actor", () => {
    const msg: OrderMessage = { type: "offer_expired", courierId: "c-1", expiresAt: T0 + 3 * MIN };
    expect(refusedWith(run(offered(), msg, ctx(dispatcher)))).toBe("forbidden");
    expect(refusedWith(run(offered(), msg, ctx(courier1)))).toBe("forbidden");
    expect(refusedWith(run(offered(), msg, fromTimer()))).toBe("forbidden");
    expect(run(offered(), msg, fromActor()).ok).toBe(true);
  });

  it("refuses every other message from a timer", () => {
    expect(refusedWith(run(accepted(), { type: "mark_ready" }, fromTimer()))).toBe("forbidden");
  });
});

describe("order: dispatcher overrides", () => {
  it("is force-assigned by a dispatcher, optionally locked", () => {
    const { state, effects } = ok(
      run(accepted(), { type: "assign", courierId: "c-2", lock: true }, ctx(dispatcher)),
    );
    expect(state.status).toBe("assigned");
    expect(state.courierId).toBe("c-2");
    expect(state.lock).toEqual({ reason: null, by: "dispatcher:d-1", at: T0 });
    expect(events(effects)).toEqual(["assigned"]);
    expect(effects).toContainEqual({
      kind: "emit",
      name: "assigned",
      data: { courierId: "c-2", via: "assign", locked: true },
    });
    expect(sends(effects)).toEqual([
      "courier/c-2 job_assigned",
      "market/m-sh order_assigned",
      "store/s-1 courier_assigned",
    ]);
  });

  it("leaves an open offer to another courier for the market to withdraw on order_assigned", () => {
    const { state, effects } = ok(
      run(offered("c-1"), { type: "assign", courierId: "c-2" }, ctx(dispatcher)),
    );
    expect(state).toMatchObject({ status: "assigned", courierId: "c-2", offer: null });
    expect(timers(effects)).toEqual([]);
    expect(sent(effects, "courier/c-1", "offer_withdrawn")).toBeUndefined();
    expect(sent(effects, "market/m-sh", "order_assigned")).toMatchObject({ courierId: "c-2" });
  });

  it("assigns to the courier it was offered to without any withdrawal", () => {
    const { effects } = ok(
      run(offered("c-1"), { type: "assign", courierId: "c-1" }, ctx(dispatcher)),
    );
    expect(timers(effects)).toEqual([]);
    expect(sends(effects)).toEqual([
      "courier/c-1 job_assigned",
      "market/m-sh order_assigned",
      "store/s-1 courier_assigned",
    ]);
  });

  it("lets the market assign directly but not lock, and never a held order", () => {
    expect(run(accepted(), { type: "assign", courierId: "c-1" }, fromActor()).ok).toBe(true);
    expect(
      refusedWith(run(accepted(), { type: "assign", courierId: "c-1", lock: true }, fromActor())),
    ).toBe("forbidden");
    const held = ok(run(accepted(), { type: "hold", reason: "x" }, ctx(dispatcher))).state;
    expect(refusedWith(run(held, { type: "assign", courierId: "c-1" }, ctx(dispatcher)))).toBe(
      "order_held",
    );
    expect(
      refusedWith(run(assigned(), { type: "assign", courierId: "c-2" }, ctx(dispatcher))),
    ).toBe("invalid_transition");
    expect(refusedWith(run(accepted(), { type: "assign", courierId: "c-1" }, ctx(courier1)))).toBe(
      "forbidden",
    );
  });

  it("is reassigned back to the pool, the previous courier released", () => {
    const { state, effects } = ok(
      run(atStore(), { type: "reassign", reason: "courier crashed bike" }, ctx(dispatcher)),
    );
    expect(state.status).toBe("accepted");
    expect(state.courierId).toBeNull();
    expect(events(effects)).toEqual(["reassigned"]);
    expect(sends(effects)).toEqual([
      "courier/c-1 job_released",
      "market/m-sh order_ready",
      "store/s-1 courier_assigned",
    ]);
    expect(sent(effects, "store/s-1", "courier_assigned")).toMatchObject({ courierId: null });
  });

  it("is reassigned straight to another courier", () => {
    const { state, effects } = ok(
      run(
        assigned(),
        { type: "reassign", reason: "closer courier", courierId: "c-2" },
        ctx(dispatcher),
      ),
    );
    expect(state.status).toBe("assigned");
    expect(state.courierId).toBe("c-2");
    expect(state.timeline.at(-1)).toEqual({ status: "assigned", at: T0, by: "dispatcher" });
    expect(sends(effects)).toEqual([
      "courier/c-1 job_released",
      "courier/c-2 job_assigned",
      "market/m-sh order_assigned",
      "store/s-1 courier_assigned",
    ]);
  });

  it("asks the market to take an open offer back when reassigned to the pool while offered", () => {
    const { state, effects } = ok(
      run(offered(), { type: "reassign", reason: "rebalance" }, fromActor()),
    );
    expect(state.status).toBe("accepted");
    expect(timers(effects)).toEqual([]);
    expect(sends(effects)).toEqual(["market/m-sh withdraw_offer", "market/m-sh order_ready"]);
    expect(sent(effects, "market/m-sh", "withdraw_offer")).toEqual({
      type: "withdraw_offer",
      orderId: "o-1",
      courierId: "c-1",
      reason: "reassigned",
    });
  });

  it("refuses reassignment after pickup, to the same courier, or before any courier", () => {
    expect(refusedWith(run(pickedUp(), { type: "reassign", reason: "x" }, ctx(dispatcher)))).toBe(
      "already_picked_up",
    );
    expect(
      refusedWith(
        run(assigned(), { type: "reassign", reason: "x", courierId: "c-1" }, ctx(dispatcher)),
      ),
    ).toBe("same_courier");
    expect(refusedWith(run(accepted(), { type: "reassign", reason: "x" }, ctx(dispatcher)))).toBe(
      "invalid_transition",
    );
    expect(refusedWith(run(assigned(), { type: "reassign", reason: "x" }, ctx(courier1)))).toBe(
      "forbidden",
    );
  });

  it("keeps a locked assignment from the market but lets a dispatcher override it", () => {
    const locked = ok(run(assigned(), { type: "lock", reason: "VIP" }, ctx(dispatcher))).state;
    expect(
      refusedWith(run(locked, { type: "reassign", reason: "re-optimised" }, fromActor())),
    ).toBe("assignment_locked");
    expect(
      refusedWith(run(locked, { type: "reassign", reason: "re-optimised" }, ctx(system))),
    ).toBe("assignment_locked");
    const { state } = ok(
      run(locked, { type: "reassign", reason: "override", courierId: "c-2" }, ctx(admin)),
    );
    expect(state.courierId).toBe("c-2");
    expect(state.lock).toBeNull();
  });

  it("locks and unlocks an assignment", () => {
    const lock = ok(run(assigned(), { type: "lock", reason: "VIP" }, ctx(dispatcher)));
    expect(lock.state.lock).toEqual({ reason: "VIP", by: "dispatcher:d-1", at: T0 });
    expect(events(lock.effects)).toEqual(["locked"]);
    expect(sends(lock.effects)).toEqual([]);
    const unlock = ok(run(lock.state, { type: "unlock" }, ctx(dispatcher)));
    expect(unlock.state.lock).toBeNull();
    expect(events(unlock.effects)).toEqual(["unlocked"]);
    expect(sends(unlock.effects)).toEqual([]);
  });

  it("refuses locking without an assignment, twice, unlocking what is not locked, and by others", () => {
    expect(refusedWith(run(accepted(), { type: "lock" }, ctx(dispatcher)))).toBe("no_assignment");
    const locked = ok(run(assigned(), { type: "lock" }, ctx(dispatcher))).state;
    expect(refusedWith(run(locked, { type: "lock" }, ctx(dispatcher)))).toBe("already_locked");
    expect(refusedWith(run(assigned(), { type: "unlock" }, ctx(dispatcher)))).toBe("not_locked");
    expect(refusedWith(run(accepted(), { type: "unlock" }, ctx(dispatcher)))).toBe(
      "invalid_transition",
    );
    expect(refusedWith(run(assigned(), { type: "lock" }, fromActor()))).toBe("forbidden");
    expect(refusedWith(run(assigned(), { type: "lock" }, ctx(store)))).toBe("forbidden");
  });

  it("is held and released, telling the market, which withdraws an open offer", () => {
    const hold = ok(run(offered(), { type: "hold", reason: "address unclear" }, ctx(dispatcher)));
    expect(hold.state.status).toBe("accepted");
    expect(hold.state.offer).toBeNull();
    expect(hold.state.hold).toEqual({ reason: "address unclear", by: "dispatcher:d-1", at: T0 });
    expect(events(hold.effects)).toEqual(["held"]);
    expect(timers(hold.effects)).toEqual([]);
    expect(sends(hold.effects)).toEqual(["market/m-sh order_held"]);
    const release = ok(run(hold.state, { type: "release_hold" }, ctx(dispatcher)));
    expect(release.state.hold).toBeNull();
    expect(events(release.effects)).toEqual(["hold_released"]);
    expect(sends(release.effects)).toEqual([
      "market/m-sh order_released",
      "market/m-sh order_ready",
    ]);
  });

  it("holds an order before the store accepts it without telling the market", () => {
    const hold = ok(run(created(), { type: "hold", reason: "x" }, ctx(dispatcher)));
    expect(sends(hold.effects)).toEqual([]);
    expect(sends(ok(run(hold.state, { type: "release_hold" }, ctx(dispatcher))).effects)).toEqual(
      [],
    );
  });

  it("refuses a hold twice, after assignment, a release when not held, and holds by others", () => {
    const held = ok(run(accepted(), { type: "hold", reason: "x" }, ctx(dispatcher))).state;
    expect(refusedWith(run(held, { type: "hold", reason: "x" }, ctx(dispatcher)))).toBe(
      "already_held",
    );
    expect(refusedWith(run(assigned(), { type: "hold", reason: "x" }, ctx(dispatcher)))).toBe(
      "invalid_transition",
    );
    expect(refusedWith(run(accepted(), { type: "release_hold" }, ctx(dispatcher)))).toBe(
      "not_held",
    );
    expect(refusedWith(run(assigned(), { type: "release_hold" }, ctx(dispatcher)))).toBe(
      "invalid_transition",
    );
    expect(refusedWith(run(accepted(), { type: "hold", reason: "x" }, fromActor()))).toBe(
      "forbidden",
    );
    expect(refusedWith(run(accepted(), { type: "hold", reason: "x" }, ctx(shopper)))).toBe(
      "forbidden",
    );
  });
});

describe("order: courier at the store and hand-off", () => {
  it("records the courier's arrival at the store", () => {
    const { state, effects } = ok(
      run(assigned(), { type: "arrive_at_store", courierId: "c-1" }, ctx(courier1)),
    );
    expect(state.status).toBe("at_store");
    expect(events(effects)).toEqual(["courier_arrived_at_store"]);
  });

  it("refuses an arrival by a courier the order is not assigned to, or at the wrong time", () => {
    expect(
      refusedWith(run(assigned(), { type: "arrive_at_store", courierId: "c-2" }, ctx(courier2))),
    ).toBe("not_assigned_courier");
    expect(
      refusedWith(run(assigned(), { type: "arrive_at_store", courierId: "c-2" }, ctx(courier1))),
    ).toBe("not_assigned_courier");
    expect(
      refusedWith(run(atStore(), { type: "arrive_at_store", courierId: "c-1" }, ctx(courier1))),
    ).toBe("invalid_transition");
  });

  it("is picked up with the right code, via the store actor", () => {
    const { state, effects } = ok(
      run(
        atStore(),
        { type: "pick_up", pickupCode: "K7Q2", courierId: "c-1" },
        fromActor(T0 + 16 * MIN),
      ),
    );
    expect(state.status).toBe("picked_up");
    expect(state.pickedUpAt).toBe(T0 + 16 * MIN);
    // Never marked ready: picking up proves it was.
    expect(state.prep).toBe("ready");
    expect(state.readyAt).toBe(T0 + 16 * MIN);
    expect(events(effects)).toEqual(["picked_up"]);
    expect(sends(effects)).toEqual(["courier/c-1 complete_stop", "market/m-sh order_picked_up"]);
    expect(sent(effects, "courier/c-1", "complete_stop")).toEqual({
      type: "complete_stop",
      orderId: "o-1",
      kind: "pickup",
    });
    expect(sent(effects, "market/m-sh", "order_picked_up")).toEqual({
      type: "order_picked_up",
      orderId: "o-1",
      courierId: "c-1",
    });
  });

  it("tells the store actor when picked up without going through it", () => {
    const { effects } = ok(run(assigned(), { type: "pick_up", pickupCode: "K7Q2" }, ctx(store)));
    expect(sent(effects, "store/s-1", "order_closed")).toEqual({
      type: "order_closed",
      orderId: "o-1",
      reason: "picked_up",
    });
  });

  it("refuses a wrong pickup code, a missing code from the store, and another courier's name", () => {
    expect(refusedWith(run(atStore(), { type: "pick_up", pickupCode: "ZZZZ" }, ctx(store)))).toBe(
      "wrong_pickup_code",
    );
    expect(
      refusedWith(run(atStore(), { type: "pick_up", pickupCode: "ZZZZ" }, ctx(dispatcher))),
    ).toBe("wrong_pickup_code");
    expect(refusedWith(run(atStore(), { type: "pick_up" }, ctx(store)))).toBe(
      "pickup_code_required",
    );
    expect(refusedWith(run(atStore(), { type: "pick_up" }, fromActor()))).toBe(
      "pickup_code_required",
    );
    expect(
      refusedWith(
        run(atStore(), { type: "pick_up", pickupCode: "K7Q2", courierId: "c-2" }, ctx(store)),
      ),
    ).toBe("not_assigned_courier");
  });

  it("lets a dispatcher confirm a pickup without the code, flagged as an override", () => {
    const { effects } = ok(run(atStore(), { type: "pick_up" }, ctx(dispatcher)));
    expect(effects).toContainEqual({
      kind: "emit",
      name: "picked_up",
      data: { courierId: "c-1", override: true, vehicleId: null, compartmentId: null },
    });
  });

  it("refuses a pickup by the courier itself, by another store, or without a courier", () => {
    expect(
      refusedWith(run(atStore(), { type: "pick_up", pickupCode: "K7Q2" }, ctx(courier1))),
    ).toBe("forbidden");
    expect(
      refusedWith(run(atStore(), { type: "pick_up", pickupCode: "K7Q2" }, ctx(otherStore))),
    ).toBe("not_own_order");
    expect(refusedWith(run(accepted(), { type: "pick_up", pickupCode: "K7Q2" }, ctx(store)))).toBe(
      "no_courier_assigned",
    );
    expect(refusedWith(run(pickedUp(), { type: "pick_up", pickupCode: "K7Q2" }, ctx(store)))).toBe(
      "invalid_transition",
    );
  });
});

describe("order: delivery", () => {
  it("records the courier's arrival at the customer", () => {
    const { state, effects } = ok(
      run(pickedUp(), { type: "arrive_at_customer", courierId: "c-1" }, ctx(courier1)),
    );
    expect(state.status).toBe("at_customer");
    expect(events(effects)).toEqual(["courier_arrived_at_customer"]);
    expect(
      refusedWith(run(atStore(), { type: "arrive_at_customer", courierId: "c-1" }, ctx(courier1))),
    ).toBe("invalid_transition");
  });

  it("is delivered with the shopper's PIN, on time, and the courier and market told", () => {
    const { state, effects } = ok(
      run(
        atCustomer(),
        { type: "deliver", courierId: "c-1", pin: "4821" },
        ctx(courier1, T0 + 32 * MIN),
      ),
    );
    expect(state.status).toBe("delivered");
    expect(state.deliveredAt).toBe(T0 + 32 * MIN);
    expect(state.proof).toEqual({ photoRef: null, pinVerified: true });
    expect(effects).toContainEqual({
      kind: "emit",
      name: "delivered",
      data: {
        courierId: "c-1",
        onTime: true,
        lateByMs: 0,
        photo: false,
        pinVerified: true,
        temperatureClass: "chilled",
        pickedUpAt: T0 + 16 * MIN,
        coldChain: null,
      },
    });
    expect(sent(effects, "courier/c-1", "complete_stop")).toEqual({
      type: "complete_stop",
      orderId: "o-1",
      kind: "dropoff",
    });
    expect(sent(effects, "market/m-sh", "order_finished")).toEqual({
      type: "order_finished",
      orderId: "o-1",
      courierId: "c-1",
      outcome: "delivered",
    });
    expect(sends(effects)).toEqual(["courier/c-1 complete_stop", "market/m-sh order_finished"]);
  });

  it("is delivered late with a photo only, straight from picked up", () => {
    const { state, effects } = ok(
      run(
        pickedUp(),
        { type: "deliver", photoRef: "oss://proof/o-1.jpg" },
        ctx(courier1, T0 + 50 * MIN),
      ),
    );
    expect(state.proof).toEqual({ photoRef: "oss://proof/o-1.jpg", pinVerified: false });
    expect(effects).toContainEqual({
      kind: "emit",
      name: "delivered",
      data: {
        courierId: "c-1",
        onTime: false,
        lateByMs: 5 * MIN,
        photo: true,
        pinVerified: false,
        temperatureClass: "chilled",
        pickedUpAt: T0 + 16 * MIN,
        coldChain: null,
      },
    });
  });

  it("refuses a delivery without proof, with a wrong PIN, or by another courier", () => {
    expect(
      refusedWith(run(atCustomer(), { type: "deliver", courierId: "c-1" }, ctx(courier1))),
    ).toBe("proof_required");
    expect(refusedWith(run(atCustomer(), { type: "deliver", pin: "0000" }, ctx(courier1)))).toBe(
      "wrong_delivery_pin",
    );
    expect(refusedWith(run(atCustomer(), { type: "deliver", pin: "4821" }, ctx(courier2)))).toBe(
      "not_assigned_courier",
    );
    expect(
      refusedWith(
        run(atCustomer(), { type: "deliver", pin: "4821", courierId: "c-2" }, fromActor()),
      ),
    ).toBe("not_assigned_courier");
    expect(refusedWith(run(atCustomer(), { type: "deliver", pin: "4821" }, ctx(shopper)))).toBe(
      "forbidden",
    );
    expect(refusedWith(run(atStore(), { type: "deliver", pin: "4821" }, ctx(courier1)))).toBe(
      "invalid_transition",
    );
  });

  it("refuses a PIN for an order that has none", () => {
    const { deliveryPin: _pin, ...noPin } = createMsg;
    let s: OrderState = ok(run(empty, noPin, ctx(system))).state;
    s = ok(
      run(s, { type: "accept", readyAt: T0 + MIN, readyAtSource: "stated" }, fromActor()),
    ).state;
    s = ok(run(s, { type: "assign", courierId: "c-1" }, ctx(dispatcher))).state;
    s = ok(run(s, { type: "pick_up", pickupCode: "K7Q2" }, fromActor())).state;
    expect(refusedWith(run(s, { type: "deliver", pin: "1234" }, ctx(courier1)))).toBe(
      "wrong_delivery_pin",
    );
  });

  it("fails delivery with a reason, then is returned to the store", () => {
    const fail = ok(
      run(
        atCustomer(),
        { type: "fail_delivery", courierId: "c-1", reason: "no_answer", note: "3 calls" },
        ctx(courier1),
      ),
    );
    expect(fail.state.status).toBe("delivery_failed");
    expect(fail.state.failure).toEqual({ reason: "no_answer", note: "3 calls", at: T0 });
    expect(events(fail.effects)).toEqual(["delivery_failed"]);
    expect(sends(fail.effects)).toEqual([]);
    const ret = ok(run(fail.state, { type: "mark_returned" }, ctx(store)));
    expect(ret.state.status).toBe("returned");
    expect(events(ret.effects)).toEqual(["returned"]);
    expect(sent(ret.effects, "courier/c-1", "job_released")).toEqual({
      type: "job_released",
      orderId: "o-1",
      reason: "returned_to_store",
    });
    expect(sends(ret.effects)).toEqual(["courier/c-1 job_released", "market/m-sh order_finished"]);
    expect(sent(ret.effects, "market/m-sh", "order_finished")).toMatchObject({
      outcome: "returned",
    });
  });

  it("lets a dispatcher record a failed delivery; the courier keeps the goods until returned", () => {
    const { state, effects } = ok(
      run(pickedUp(), { type: "fail_delivery", reason: "wrong_address" }, ctx(dispatcher)),
    );
    expect(state.courierId).toBe("c-1");
    expect(sends(effects)).toEqual([]);
  });

  it("completes the courier's drop-off stop whoever relayed the proof: it is the only way", () => {
    const { effects } = ok(
      run(atCustomer(), { type: "deliver", courierId: "c-1", pin: "4821" }, fromActor()),
    );
    expect(sends(effects)).toEqual(["courier/c-1 complete_stop", "market/m-sh order_finished"]);
  });

  it("refuses a failed delivery before pickup or by another courier, and a return before failure", () => {
    expect(
      refusedWith(run(atStore(), { type: "fail_delivery", reason: "refused" }, ctx(courier1))),
    ).toBe("invalid_transition");
    expect(
      refusedWith(run(pickedUp(), { type: "fail_delivery", reason: "refused" }, ctx(courier2))),
    ).toBe("not_assigned_courier");
    expect(refusedWith(run(delivered(), { type: "mark_returned" }, ctx(store)))).toBe(
      "invalid_transition",
    );
    expect(refusedWith(run(failed(), { type: "mark_returned" }, ctx(courier1)))).toBe("forbidden");
    expect(refusedWith(run(failed(), { type: "mark_returned" }, ctx(otherStore)))).toBe(
      "not_own_order",
    );
  });
});

describe("order: cancellation", () => {
  it("is cancelled by its shopper before pickup, telling the market and the store", () => {
    const { state, effects } = ok(
      run(accepted(), { type: "cancel", reason: "shopper_request" }, ctx(shopper)),
    );
    expect(state.status).toBe("cancelled");
    expect(state.cancellation).toEqual({
      reason: "shopper_request",
      note: null,
      by: "shopper:u-1",
      at: T0,
    });
    expect(events(effects)).toEqual(["cancelled"]);
    expect(sends(effects)).toEqual(["market/m-sh order_cancelled", "store/s-1 order_closed"]);
  });

  it("releases an assigned courier when cancelled", () => {
    const { effects } = ok(run(atStore(), { type: "cancel", reason: "out_of_stock" }, ctx(store)));
    expect(sent(effects, "courier/c-1", "job_released")).toMatchObject({ reason: "cancelled" });
  });

  it("leaves an open offer for the market to withdraw on order_cancelled", () => {
    const { state, effects } = ok(
      run(offered(), { type: "cancel", reason: "other", note: "dup" }, ctx(dispatcher)),
    );
    expect(state.offer).toBeNull();
    expect(timers(effects)).toEqual([]);
    expect(sent(effects, "courier/c-1", "offer_withdrawn")).toBeUndefined();
    expect(sent(effects, "market/m-sh", "order_cancelled")).toEqual({
      type: "order_cancelled",
      orderId: "o-1",
    });
  });

  it("does not tell the market of an order it never had", () => {
    const { effects } = ok(run(created(), { type: "cancel", reason: "store_closed" }, fromActor()));
    expect(sends(effects)).toEqual(["store/s-1 order_closed"]);
  });

  it("refuses cancellation after pickup, twice, and by strangers", () => {
    expect(refusedWith(run(pickedUp(), { type: "cancel", reason: "other" }, ctx(dispatcher)))).toBe(
      "already_picked_up",
    );
    expect(
      refusedWith(run(delivered(), { type: "cancel", reason: "other" }, ctx(dispatcher))),
    ).toBe("already_picked_up");
    expect(
      refusedWith(run(cancelled(), { type: "cancel", reason: "other" }, ctx(dispatcher))),
    ).toBe("already_cancelled");
    expect(
      refusedWith(run(accepted(), { type: "cancel", reason: "other" }, ctx(otherShopper))),
    ).toBe("not_own_order");
    expect(refusedWith(run(accepted(), { type: "cancel", reason: "other" }, ctx(otherStore)))).toBe(
      "not_own_order",
    );
    expect(refusedWith(run(assigned(), { type: "cancel", reason: "other" }, ctx(courier1)))).toBe(
      "forbidden",
    );
  });

  it("refuses a shopper's cancel on an order created without a shopper", () => {
    const { shopperId: _s, ...anonymous } = createMsg;
    const order = ok(run(empty, anonymous, ctx(system))).state;
    expect(refusedWith(run(order, { type: "cancel", reason: "other" }, ctx(shopper)))).toBe(
      "not_own_order",
    );
  });

  it("refuses everything but queries once finished", () => {
    for (const done of [delivered(), cancelled()]) {
      expect(refusedWith(run(done, { type: "mark_ready" }, fromActor()))).toBe(
        "invalid_transition",
      );
      expect(refusedWith(run(done, { type: "hold", reason: "x" }, ctx(dispatcher)))).toBe(
        "invalid_transition",
      );
      expect(
        refusedWith(
          run(done, { type: "offer", courierId: "c-1", expiresAt: T0 + MIN }, fromActor()),
        ),
      ).toBe("invalid_transition");
    }
  });
});

describe("order: facts from the courier and market actors", () => {
  const fact = (type: "courier_accepted" | "courier_declined", courierId = "c-1") =>
    type === "courier_accepted"
      ? ({ type, courierId, marketId: "m-sh", at: T0 } as const)
      : ({ type, courierId, marketId: "m-sh", reason: "too_far", at: T0 } as const);

  it("gives a waiting order to the courier that accepted the market's offer", () => {
    const { state, effects } = ok(run(accepted(), fact("courier_accepted"), fromActor()));
    expect(state.status).toBe("assigned");
    expect(state.courierId).toBe("c-1");
    expect(sends(effects)).toEqual([
      "courier/c-1 job_assigned",
      "market/m-sh order_assigned",
      "store/s-1 courier_assigned",
    ]);
  });

  it("completes its own open offer when that courier accepts through its actor", () => {
    const { state, effects } = ok(run(offered(), fact("courier_accepted"), fromActor()));
    expect(state.status).toBe("assigned");
    expect(timers(effects)).toEqual([]);
  });

  it("turns away an acceptance at or after the offer's deadline, releasing the courier", () => {
    const late = ok(run(offered(), fact("courier_accepted"), fromActor(T0 + 3 * MIN)));
    expect(late.state.status).toBe("offered");
    expect(sent(late.effects, "courier/c-1", "job_released")).toEqual({
      type: "job_released",
      orderId: "o-1",
      reason: "offer_expired",
    });
  });

  it("turns away a courier when the order is held, taken or cancelled, releasing the job", () => {
    const held = ok(run(accepted(), { type: "hold", reason: "x" }, ctx(dispatcher))).state;
    const cases: [Order, string][] = [
      [held, "order_held"],
      [assigned(), "order_taken"],
      [offered("c-2"), "order_taken"],
      [cancelled(), "order_cancelled"],
    ];
    for (const [order, reason] of cases) {
      const result = run(order, fact("courier_accepted", "c-3"), fromActor());
      const { state, effects } = ok(result);
      expect(state).toBe(order);
      expect(events(effects)).toEqual(["courier_turned_away"]);
      expect(sent(effects, "courier/c-3", "job_released")).toEqual({
        type: "job_released",
        orderId: "o-1",
        reason,
      });
    }
  });

  it("ignores a repeated acceptance by the courier that has the job", () => {
    const order = assigned();
    expect(run(order, fact("courier_accepted"), fromActor())).toEqual({
      ok: true,
      state: order,
      effects: [],
    });
  });

  it("ends its open offer when that courier declines, and ignores other declines", () => {
    const { state, effects } = ok(run(offered(), fact("courier_declined"), fromActor()));
    expect(state.status).toBe("accepted");
    expect(events(effects)).toEqual(["offer_declined"]);
    expect(sends(effects)).toEqual(["market/m-sh order_ready"]);
    const other = accepted();
    expect(run(other, fact("courier_declined"), fromActor())).toEqual({
      ok: true,
      state: other,
      effects: [],
    });
  });

  it("goes back to the pool when its courier drops the job before pickup", () => {
    const msg = {
      type: "courier_released",
      courierId: "c-1",
      reason: "off_shift",
      at: T0,
    } as const;
    const { state, effects } = ok(run(atStore(), msg, fromActor()));
    expect(state.status).toBe("accepted");
    expect(state.courierId).toBeNull();
    expect(events(effects)).toEqual(["courier_released"]);
    expect(sends(effects)).toEqual(["market/m-sh order_ready", "store/s-1 courier_assigned"]);
    expect(refusedWith(run(pickedUp(), msg, fromActor()))).toBe("already_picked_up");
    const other = assigned();
    expect(run(other, { ...msg, courierId: "c-9" }, fromActor())).toEqual({
      ok: true,
      state: other,
      effects: [],
    });
  });

  it("needs the store's code and the delivery proof: a bare stop report is not a message", () => {
    // Stops are confirmed here (pick_up with the code, deliver with proof), never reported.
    expect(
      OrderMessageSchema.safeParse({
        type: "courier_stop_completed",
        courierId: "c-1",
        kind: "pickup",
        at: T0,
      }).success,
    ).toBe(false);
    expect(refusedWith(run(atStore(), { type: "pick_up", courierId: "c-1" }, fromActor()))).toBe(
      "pickup_code_required",
    );
    expect(
      refusedWith(run(atCustomer(), { type: "deliver", courierId: "c-1" }, ctx(courier1))),
    ).toBe("proof_required");
  });

  it("accepts courier facts only from actors, never from clients or other couriers", () => {
    const msg = fact("courier_accepted");
    expect(refusedWith(run(accepted(), msg, ctx(courier1)))).toBe("forbidden");
    expect(refusedWith(run(accepted(), msg, ctx(store)))).toBe("forbidden");
    expect(refusedWith(run(accepted(), msg, fromTimer()))).toBe("forbidden");
    expect(refusedWith(run(accepted(), msg, ctx(courier2, T0, "actor")))).toBe("forbidden");
    expect(run(accepted(), msg, ctx(courier1, T0, "actor")).ok).toBe(true);
    expect(run(accepted(), msg, ctx(system)).ok).toBe(true);
  });

  const forced = (courierId: string, role: "dispatcher" | "admin" | "courier" = "dispatcher") =>
    ({
      type: "dispatcher_assigned",
      courierId,
      marketId: "m-sh",
      by: { role, id: "d-1" },
      reason: "closest to the store",
      at: T0,
    }) as const;

  it("is force-assigned through the market, winning over a hold", () => {
    const held = ok(run(accepted(), { type: "hold", reason: "x" }, ctx(dispatcher))).state;
    const { state, effects } = ok(run(held, forced("c-2"), fromActor()));
    expect(state.status).toBe("assigned");
    expect(state.courierId).toBe("c-2");
    expect(state.hold).toBeNull();
    expect(effects).toContainEqual({
      kind: "emit",
      name: "assigned",
      data: { courierId: "c-2", via: "dispatcher", locked: false },
    });
  });

  it("is force-reassigned through the market, winning over a lock", () => {
    const locked = ok(run(assigned(), { type: "lock" }, ctx(dispatcher))).state;
    const { state, effects } = ok(run(locked, forced("c-2"), fromActor()));
    expect(state.courierId).toBe("c-2");
    expect(state.lock).toBeNull();
    expect(events(effects)).toEqual(["reassigned"]);
    expect(sent(effects, "courier/c-1", "job_released")).toMatchObject({ reason: "reassigned" });
  });

  it("confirms a force to the courier that already has it, and refuses it after pickup", () => {
    const { effects } = ok(run(assigned(), forced("c-1"), fromActor()));
    expect(sends(effects)).toEqual(["market/m-sh order_assigned"]);
    expect(refusedWith(run(pickedUp(), forced("c-2"), fromActor()))).toBe("already_picked_up");
    expect(refusedWith(run(created(), forced("c-2"), fromActor()))).toBe("invalid_transition");
    expect(refusedWith(run(accepted(), forced("c-2", "courier"), fromActor()))).toBe("forbidden");
    expect(refusedWith(run(accepted(), forced("c-2"), ctx(courier2)))).toBe("forbidden");
  });
});

describe("order: cold chain in a van", () => {
  it("records the van compartment it is picked up into, and the event says which", () => {
    const { state, effects } = ok(
      run(
        atStore(),
        { type: "pick_up", pickupCode: "K7Q2", courierId: "c-1", ...VAN },
        fromActor(T0 + 16 * MIN),
      ),
    );
    expect(state.coldChain).toEqual({ ...VAN, loadedAt: T0 + 16 * MIN, excursions: [] });
    expect(effects).toContainEqual({
      kind: "emit",
      name: "picked_up",
      data: { courierId: "c-1", override: false, ...VAN },
    });
    // The vehicle loaded it before the hand-off: the order tells it nothing at pickup.
    expect(sends(effects)).toEqual(["courier/c-1 complete_stop", "market/m-sh order_picked_up"]);
    expect(pickedUp().coldChain).toBeNull();
    expect(created().coldChain).toBeNull();
  });

  it("takes a vehicle and a compartment together or not at all (wire contract)", () => {
    const base = { type: "pick_up", pickupCode: "K7Q2" };
    expect(OrderMessageSchema.safeParse({ ...base, vehicleId: "van-1" }).success).toBe(false);
    expect(OrderMessageSchema.safeParse({ ...base, compartmentId: "C" }).success).toBe(false);
    expect(OrderMessageSchema.safeParse({ ...base, ...VAN }).success).toBe(true);
  });

  it("is marked when an excursion starts in its compartment, and the mark closes when it ends", () => {
    const start = ok(run(pickedUpInVan(), excursion(), fromActor(T0 + 22 * MIN)));
    expect(start.state.status).toBe("picked_up");
    expect(start.state.coldChain?.excursions).toEqual([
      {
        kind: "temperature",
        startedAt: T0 + 20 * MIN,
        detectedAt: T0 + 22 * MIN,
        endedAt: null,
        celsius: 9.5,
      },
    ]);
    expect(start.effects).toEqual([
      {
        kind: "emit",
        name: "cold_chain_excursion_marked",
        data: {
          orderId: "o-1",
          ...VAN,
          kind: "temperature",
          startedAt: T0 + 20 * MIN,
          detectedAt: T0 + 22 * MIN,
          celsius: 9.5,
          temperatureClass: "chilled",
        },
      },
    ]);
    const end = ok(run(start.state, excursionEnded(), fromActor(T0 + 25 * MIN)));
    expect(end.state.coldChain?.excursions).toEqual([
      {
        kind: "temperature",
        startedAt: T0 + 20 * MIN,
        detectedAt: T0 + 22 * MIN,
        endedAt: T0 + 25 * MIN,
        celsius: 9.5,
      },
    ]);
    expect(end.effects).toEqual([
      {
        kind: "emit",
        name: "cold_chain_excursion_cleared",
        data: {
          orderId: "o-1",
          ...VAN,
          kind: "temperature",
          startedAt: T0 + 20 * MIN,
          endedAt: T0 + 25 * MIN,
          durationMs: 5 * MIN,
        },
      },
    ]);
  });

  it("shows the mark in its view, for the tracking pages and the store", () => {
    const at = ok(run(pickedUpInVan(), excursion(), fromActor(T0 + 22 * MIN))).state;
    const view = viewOrder(at);
    expect(view).toMatchObject({
      status: "picked_up",
      coldChain: { ...VAN, excursions: [{ kind: "temperature", endedAt: null, celsius: 9.5 }] },
    });
  });

  it("keeps a silent sensor and a temperature excursion apart, at the customer too", () => {
    let s: Order = ok(
      run(pickedUpInVan(), { type: "arrive_at_customer", courierId: "c-1" }, ctx(courier1)),
    ).state;
    s = ok(run(s, excursion(), fromActor())).state;
    const silent = excursion({
      kind: "sensor_silent",
      startedAt: T0 + 23 * MIN,
      detectedAt: T0 + 23 * MIN,
      celsius: null,
    });
    s = ok(run(s, silent, fromActor())).state;
    const ended = ok(
      run(s, excursionEnded({ kind: "sensor_silent", endedAt: T0 + 24 * MIN }), fromActor()),
    );
    expect(ended.state.coldChain?.excursions.map((e) => [e.kind, e.celsius, e.endedAt])).toEqual([
      ["temperature", 9.5, null],
      ["sensor_silent", null, T0 + 24 * MIN],
    ]);
    expect(events(ended.effects)).toEqual(["cold_chain_excursion_cleared"]);
  });

  it("ignores notices about another compartment or van, repeats, and orders not in a van", () => {
    const inVan = pickedUpInVan();
    const marked = ok(run(inVan, excursion(), fromActor())).state;
    const unchanged: [OrderState, OrderMessage][] = [
      [inVan, excursion({ compartmentId: "F" })],
      [inVan, excursion({ vehicleId: "van-2" })],
      [inVan, excursionEnded()], // it started before the order went in
      [marked, excursion()], // the same excursion again
      [marked, excursionEnded({ kind: "sensor_silent" })],
      [pickedUp(), excursion()],
      [atStore(), excursion()],
    ];
    for (const [state, msg] of unchanged) {
      const result = run(state, msg, fromActor());
      expect(result).toEqual({ ok: true, state, effects: [] });
    }
  });

  it("ignores notices that cross the unload after delivery or return (facts in flight)", () => {
    const atDoor = ok(
      run(pickedUpInVan(), { type: "arrive_at_customer", courierId: "c-1" }, ctx(courier1)),
    ).state;
    const done = ok(
      run(atDoor, { type: "deliver", pin: "4821" }, ctx(courier1, T0 + 30 * MIN)),
    ).state;
    expect(run(done, excursion(), fromActor())).toEqual({ ok: true, state: done, effects: [] });
    const open = ok(run(pickedUpInVan(), excursion(), fromActor())).state;
    const failedOpen = ok(
      run(open, { type: "fail_delivery", reason: "no_answer" }, ctx(courier1)),
    ).state;
    const back = ok(run(failedOpen, { type: "mark_returned" }, ctx(store))).state;
    expect(run(back, excursionEnded(), fromActor())).toEqual({
      ok: true,
      state: back,
      effects: [],
    });
  });

  it("takes cold-chain notices from actors only", () => {
    const inVan = pickedUpInVan();
    for (const c of [ctx(system), ctx(dispatcher), ctx(admin), ctx(courier1), fromTimer()]) {
      expect(refusedWith(run(inVan, excursion(), c))).toBe("forbidden");
      expect(refusedWith(run(inVan, excursionEnded(), c))).toBe("forbidden");
    }
    // A vehicle turn caused by the sensor bridge carries the bridge's principal: still an actor.
    const bridged: TurnContext = { ...fromActor(), by: system };
    expect(run(inVan, excursion(), bridged).ok).toBe(true);
  });

  it("keeps the latest excursions only", () => {
    let s: Order = pickedUpInVan();
    for (let i = 0; i < EXCURSION_LIMIT + 3; i += 1) {
      const at = T0 + 17 * MIN + i * 1000;
      s = ok(run(s, excursion({ startedAt: at, detectedAt: at }), fromActor())).state;
      s = ok(run(s, excursionEnded({ endedAt: at + 500 }), fromActor())).state;
    }
    expect(s.coldChain?.excursions).toHaveLength(EXCURSION_LIMIT);
    expect(s.coldChain?.excursions[0]?.startedAt).toBe(T0 + 17 * MIN + 3000);
  });

  it("tells the van to unload when delivered; the delivered event carries the cold chain", () => {
    const atDoor = ok(
      run(markedInVan(), { type: "arrive_at_customer", courierId: "c-1" }, ctx(courier1)),
    ).state;
    const { state, effects } = ok(
      run(atDoor, { type: "deliver", pin: "4821" }, ctx(courier1, T0 + 32 * MIN)),
    );
    expect(sends(effects)).toEqual([
      "courier/c-1 complete_stop",
      "market/m-sh order_finished",
      "vehicle/van-1 unload",
    ]);
    expect(sent(effects, "vehicle/van-1", "unload")).toEqual({ type: "unload", orderId: "o-1" });
    const coldChain = {
      ...VAN,
      loadedAt: T0 + 16 * MIN,
      excursions: [
        {
          kind: "temperature",
          startedAt: T0 + 20 * MIN,
          detectedAt: T0 + 22 * MIN,
          endedAt: T0 + 25 * MIN,
          celsius: 9.5,
        },
      ],
    };
    expect(effects).toContainEqual({
      kind: "emit",
      name: "delivered",
      data: {
        courierId: "c-1",
        onTime: true,
        lateByMs: 0,
        photo: false,
        pinVerified: true,
        temperatureClass: "chilled",
        pickedUpAt: T0 + 16 * MIN,
        coldChain,
      },
    });
    // The record stays with the order.
    expect(state.coldChain).toEqual(coldChain);
  });

  it("keeps the goods in the van through a failed delivery and unloads them on return", () => {
    const fail = ok(
      run(pickedUpInVan(), { type: "fail_delivery", reason: "no_answer" }, ctx(courier1)),
    );
    expect(sends(fail.effects)).toEqual([]);
    // Still in the van on the way back: still marked.
    const marked = ok(run(fail.state, excursion(), fromActor()));
    expect(events(marked.effects)).toEqual(["cold_chain_excursion_marked"]);
    const ret = ok(run(marked.state, { type: "mark_returned" }, ctx(store)));
    expect(sends(ret.effects)).toEqual([
      "vehicle/van-1 unload",
      "courier/c-1 job_released",
      "market/m-sh order_finished",
    ]);
    expect(ret.state.coldChain?.excursions).toHaveLength(1);
  });

  it("restores an order stored before the cold chain existed, without one", () => {
    for (const s of [pickedUp(), delivered(), accepted()]) {
      const { coldChain: _gone, ...old } = JSON.parse(JSON.stringify(orderLogic.persist!(s)));
      expect(old).not.toHaveProperty("coldChain");
      const restored = orderLogic.restore!(old, orderLogic.version);
      expect(restored).toStrictEqual(s);
      expect(restored.status !== "none" && restored.coldChain).toBeNull();
    }
    // And it goes on: delivered without a van, nothing sent to any vehicle.
    const { coldChain: _gone, ...old } = JSON.parse(
      JSON.stringify(orderLogic.persist!(atCustomer())),
    );
    const restored = orderLogic.restore!(old, orderLogic.version);
    const { effects } = ok(run(restored, { type: "deliver", pin: "4821" }, ctx(courier1)));
    expect(sends(effects)).toEqual(["courier/c-1 complete_stop", "market/m-sh order_finished"]);
  });
});

describe("order: cross-actor contract", () => {
  it("sends only messages the courier, market and store schemas accept", () => {
    const schemas: Record<string, { safeParse(v: unknown): { success: boolean } }> = {
      courier: CourierMessage,
      market: MarketMessage,
      store: StoreMessage,
      vehicle: VehicleMessage,
    };
    const results = [
      run(empty, createMsg, ctx(system)),
      run(created(), { type: "accept", readyAt: T0 + MIN, readyAtSource: "stated" }, ctx(store)),
      run(accepted(), { type: "mark_ready" }, fromActor()),
      run(offered(), { type: "accept_offer", courierId: "c-1" }, ctx(courier1)),
      run(offered(), { type: "hold", reason: "x" }, ctx(dispatcher)),
      run(offered(), { type: "reassign", reason: "x" }, ctx(dispatcher)),
      run(offered(), { type: "decline_offer", courierId: "c-1", reason: "busy" }, ctx(courier1)),
      run(atStore(), { type: "reassign", reason: "x" }, ctx(dispatcher)),
      run(atStore(), { type: "pick_up", pickupCode: "K7Q2" }, ctx(store)),
      run(atCustomer(), { type: "deliver", photoRef: "oss://p.jpg" }, ctx(courier1)),
      run(failed(), { type: "mark_returned" }, ctx(store)),
      run(pickedUpInVan(), { type: "deliver", photoRef: "oss://p.jpg" }, ctx(courier1)),
      run(atStore(), { type: "cancel", reason: "out_of_stock" }, ctx(store)),
      run(
        accepted(),
        { type: "courier_accepted", courierId: "c-1", marketId: "m-sh", at: T0 },
        fromActor(),
      ),
      run(
        cancelled(),
        { type: "courier_accepted", courierId: "c-1", marketId: "m-sh", at: T0 },
        fromActor(),
      ),
    ];
    let checked = 0;
    for (const result of results) {
      for (const e of ok(result).effects) {
        if (e.kind !== "send") continue;
        const schema = schemas[e.command.to.type];
        expect(schema, e.command.to.type).toBeDefined();
        expect(schema!.safeParse(e.command.msg).success, JSON.stringify(e.command.msg)).toBe(true);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(15);
  });

  it("keeps no timers of its own: offers end on the market's timer", () => {
    const all = [
      run(accepted(), { type: "offer", courierId: "c-1", expiresAt: T0 + MIN }, fromActor()),
      run(offered(), { type: "hold", reason: "x" }, ctx(dispatcher)),
      run(offered(), { type: "cancel", reason: "other" }, ctx(dispatcher)),
      run(offered(), { type: "decline_offer", courierId: "c-1" }, ctx(courier1)),
    ];
    for (const result of all) expect(timers(ok(result).effects)).toEqual([]);
  });
});

describe("order: timeline, view and persistence", () => {
  it("records every status change with its time and role", () => {
    expect(delivered().timeline.map((e) => e.status)).toEqual([
      "created",
      "accepted",
      "offered",
      "assigned",
      "at_store",
      "picked_up",
      "at_customer",
      "delivered",
    ]);
  });

  it("keeps only the latest timeline entries", () => {
    let s: Order = accepted();
    for (let i = 0; i < TIMELINE_LIMIT; i += 1) {
      s = ok(
        run(s, { type: "offer", courierId: "c-1", expiresAt: T0 + 10 * MIN }, fromActor()),
      ).state;
      s = ok(run(s, { type: "decline_offer", courierId: "c-1" }, fromActor())).state;
    }
    expect(s.timeline).toHaveLength(TIMELINE_LIMIT);
    expect(s.timeline.at(-1)?.status).toBe("accepted");
    expect(s.offerCount).toBe(TIMELINE_LIMIT);
  });

  it("hides the pickup code and the delivery PIN from queries", () => {
    const view = viewOrder(assigned());
    expect(view).not.toHaveProperty("pickupCode");
    expect(view).not.toHaveProperty("deliveryPin");
    expect(view).toMatchObject({ hasPickupCode: true, hasDeliveryPin: true, courierId: "c-1" });
    expect(JSON.stringify(view)).not.toContain("K7Q2");
    expect(JSON.stringify(view)).not.toContain("4821");
    expect(viewOrder(empty)).toEqual(empty);
    expect(orderLogic.view).toBe(viewOrder);
  });

  it("round-trips every state of the lifecycle through persist → JSON → restore", () => {
    const states: OrderState[] = [
      empty,
      created(),
      accepted(),
      offered(),
      assigned(),
      atStore(),
      pickedUp(),
      atCustomer(),
      delivered(),
      failed(),
      cancelled(),
      ok(run(assigned(), { type: "lock", reason: "VIP" }, ctx(dispatcher))).state,
      ok(run(accepted(), { type: "hold", reason: "check" }, ctx(dispatcher))).state,
      pickedUpInVan(),
      markedInVan(),
      ok(run(pickedUpInVan(), excursion({ celsius: null, kind: "sensor_silent" }), fromActor()))
        .state,
    ];
    for (const s of states) expect(roundTrip(s)).toStrictEqual(s);
  });

  it("round-trips after many transitions and keeps behaving the same after restore", () => {
    let s: OrderState = empty;
    const steps: [OrderMessage, TurnContext][] = [
      [createMsg, ctx(system)],
      [{ type: "hold", reason: "address check" }, ctx(dispatcher, T0 + 10)],
      [{ type: "accept", readyAt: T0 + 12 * MIN, readyAtSource: "predicted" }, fromActor(T0 + 20)],
      [{ type: "release_hold" }, ctx(dispatcher, T0 + 30)],
      [{ type: "start_preparing" }, fromActor(T0 + MIN)],
      [{ type: "set_ready_at", readyAt: T0 + 14 * MIN }, ctx(store, T0 + 2 * MIN)],
      [{ type: "offer", courierId: "c-1", expiresAt: T0 + 4 * MIN }, fromActor(T0 + 3 * MIN)],
      [
        { type: "offer_expired", courierId: "c-1", expiresAt: T0 + 4 * MIN },
        fromActor(T0 + 4 * MIN),
      ],
      [{ type: "offer", courierId: "c-2", expiresAt: T0 + 6 * MIN }, fromActor(T0 + 5 * MIN)],
      [{ type: "accept_offer", courierId: "c-2" }, ctx(courier2, T0 + 5 * MIN + 10)],
      [{ type: "lock", reason: "VIP" }, ctx(dispatcher, T0 + 6 * MIN)],
      [{ type: "reassign", reason: "c-2 stuck", courierId: "c-1" }, ctx(dispatcher, T0 + 7 * MIN)],
      [{ type: "mark_ready" }, fromActor(T0 + 13 * MIN)],
      [
        {
          type: "courier_released",
          courierId: "c-1",
          reason: "flat tyre",
          at: T0 + 13 * MIN + 100,
        },
        fromActor(T0 + 13 * MIN + 100),
      ],
      [
        { type: "courier_accepted", courierId: "c-1", marketId: "m-sh", at: T0 + 13 * MIN + 200 },
        fromActor(T0 + 13 * MIN + 200),
      ],
      [{ type: "arrive_at_store", courierId: "c-1" }, ctx(courier1, T0 + 14 * MIN)],
      [{ type: "pick_up", pickupCode: "K7Q2", courierId: "c-1" }, fromActor(T0 + 15 * MIN)],
      [{ type: "arrive_at_customer", courierId: "c-1" }, ctx(courier1, T0 + 30 * MIN)],
    ];
    for (const [msg, c] of steps) {
      s = ok(run(s, msg, c)).state;
      expect(roundTrip(s)).toStrictEqual(s);
    }
    const last: OrderMessage = {
      type: "deliver",
      courierId: "c-1",
      pin: "4821",
      photoRef: "oss://p/1.jpg",
    };
    const direct = run(s, last, ctx(courier1, T0 + 31 * MIN));
    const restored = run(roundTrip(s), last, ctx(courier1, T0 + 31 * MIN));
    expect(restored).toEqual(direct);
  });

  it("refuses to restore an unknown version or a corrupted value", () => {
    const data = JSON.parse(JSON.stringify(orderLogic.persist!(assigned())));
    expect(() => orderLogic.restore!(data, 2)).toThrow(/version 2/);
    expect(() => orderLogic.restore!({ ...data, status: "teleported" }, 1)).toThrow();
  });

  it("is deterministic: the same messages at the same times give the same result", () => {
    expect(delivered()).toStrictEqual(delivered());
  });
});

describe("order: the shopper's contact (ciphertext only)", () => {
  // Shaped like pii/cipher.ts output; the order never decrypts, it only keeps and hands on.
  const ct = (n: string) => `v1.k1.${"A".repeat(16)}.${n}.${"B".repeat(22)}`;
  const contact = {
    name: ct("bmFtZQ"),
    phone: ct("cGhvbmU"),
    address: ct("YWRkcg"),
    doorNote: null,
  };
  const withContact = () => ok(run(empty, { ...createMsg, contact }, ctx(system)));

  it("keeps the encrypted contact, shows it in the view and hands it to the projector in `created`", () => {
    const { state, effects } = withContact();
    expect(state.contact).toEqual(contact);
    expect(viewOrder(state)).toMatchObject({ contact });
    const createdEvent = effects.find((e) => e.kind === "emit" && e.name === "created");
    expect(createdEvent).toMatchObject({
      data: { contact, amounts: createMsg.amounts, dropoff: createMsg.dropoff },
    });
    // Nothing else hears of it: not the store (which gets the order placed).
    for (const e of effects) {
      if (e.kind === "send") expect(JSON.stringify(e.command.msg)).not.toContain("cGhvbmU");
    }
  });

  it("refuses a contact that is not ciphertext (plaintext never reaches the order)", () => {
    for (const phone of ["13812341234", "v1.k1.short.x.y", ct("a b")]) {
      const parsed = OrderMessageSchema.safeParse({ ...createMsg, contact: { ...contact, phone } });
      expect(parsed.success, phone).toBe(false);
    }
  });

  it("creates orders without a contact as before (null)", () => {
    expect(created().contact).toBeNull();
    expect(roundTrip(created())).toStrictEqual(created());
  });

  it("round-trips the contact and restores an order stored before contacts existed", () => {
    const s = withContact().state;
    expect(roundTrip(s)).toStrictEqual(s);
    const { contact: _gone, ...old } = JSON.parse(JSON.stringify(orderLogic.persist!(s)));
    const restored = orderLogic.restore!(old, orderLogic.version);
    expect(restored.status !== "none" && restored.contact).toBeNull();
  });

  it("records an admin's reveal with who and why, and changes nothing else", () => {
    const s = withContact().state;
    const r = ok(run(s, { type: "reveal_contact", reason: "配送失败，联系顾客" }, ctx(admin)));
    expect(r.state).toStrictEqual(s);
    expect(r.effects).toEqual([
      {
        kind: "emit",
        name: "contact_revealed",
        data: {
          orderId: "o-1",
          by: "admin:a-1",
          reason: "配送失败，联系顾客",
          fields: ["name", "phone", "address"],
        },
      },
    ]);
  });

  it("lets nobody but an admin reveal, and refuses an order without a contact", () => {
    const s = withContact().state;
    for (const who of [dispatcher, store, shopper, courier1, system]) {
      expect(refusedWith(run(s, { type: "reveal_contact", reason: "curious" }, ctx(who)))).toBe(
        "forbidden",
      );
    }
    expect(refusedWith(run(s, { type: "reveal_contact", reason: "x" }, fromActor()))).toBe(
      "forbidden",
    );
    expect(refusedWith(run(created(), { type: "reveal_contact", reason: "x" }, ctx(admin)))).toBe(
      "no_contact",
    );
    expect(refusedWith(run(empty, { type: "reveal_contact", reason: "x" }, ctx(admin)))).toBe(
      "unknown_order",
    );
  });
});
