/**
 * Cross-actor scenarios: the real order, store, courier, market and vehicle logics in one World,
 * driven the way the apps drive them. Each scenario checks that no command an actor sent (or a
 * reminder delivered) was refused, unless the scenario is about exactly that refusal.
 *
 * The contract (also in actors/CONTRACT.md; the order owns the lifecycle, the market owns offers):
 *
 * | from → to          | message                                   | when                                          |
 * |--------------------|-------------------------------------------|-----------------------------------------------|
 * | order → store      | order_placed                              | create                                        |
 * | order → store      | order_accepted                            | accept not via the store actor (override)     |
 * | order → store      | courier_assigned {courierId or null}      | every assignment / un-assignment              |
 * | order → store      | order_closed {cancelled, picked_up}       | cancel; pick_up not via the store actor       |
 * | store → order      | accept, start_preparing, mark_ready,      | staff actions, forwarded with the staff's     |
 * |                    | set_ready_at, cancel, pick_up {code}      | principal (hand_off checks the code first)    |
 * | order → market     | order_ready (upsert)                      | whenever it waits for a courier, not held     |
 * | order → market     | order_assigned / order_cancelled          | assignment / cancel (once the market had it)  |
 * | order → market     | order_held / order_released               | dispatcher hold / release at the order        |
 * | order → market     | order_picked_up / order_finished          | pick_up / delivered or returned               |
 * | order → market     | withdraw_offer {reason}                   | reassign of an offered order back to the pool |
 * | order → market     | offer_declined {via: "order"}             | the courier declined at the order             |
 * | market → courier   | offer {expiresAt, …}                      | dispatcher `offer` (later: dispatch on tick)  |
 * | market → order     | offer {courierId, expiresAt}              | the same offer                                |
 * | market → both      | offer_expired                             | the market's `offer:<orderId>` timer fired    |
 * | market → courier   | offer_withdrawn {reason}                  | order held/cancelled/assigned elsewhere, …    |
 * | market → order     | offer_withdrawn {reason}                  | market lock to another courier                |
 * | market → order     | hold / release_hold                       | dispatcher hold/release at the market         |
 * | market → order     | dispatcher_assigned                       | dispatcher force_assign                       |
 * | courier → order    | courier_accepted / courier_declined       | the driver answers the offer at its actor     |
 * | courier → order    | courier_released                          | off shift / dispatcher job_released           |
 * | courier → market   | courier_available / _unavailable /        | shift and capacity changes / fixes            |
 * |                    | courier_position, offer_declined          | decline (reason: the shared DeclineReason)    |
 * | order → courier    | job_assigned {…, pickupCode}              | every assignment                              |
 * | order → courier    | job_released                              | cancel, reassign, returned, turned away       |
 * | order → courier    | complete_stop {pickup / dropoff}          | pick_up confirmed / delivered (the only way)  |
 * | driver → order     | arrive_at_store, arrive_at_customer,      | directly, as the courier principal: proof is  |
 * |                    | deliver {pin or photoRef}, fail_delivery  | checked where it is kept, answered at once    |
 *
 * Timers: market `tick` (while it has open orders) and `offer:<orderId>` (one per pending offer,
 * the only offer time-out); store `resume`; vehicle `grace:<c>` / `silence:<c>`. The order and
 * the courier keep no offer timers: they record `expiresAt` and refuse late accepts.
 */
import { describe, expect, it } from "vitest";
import { courierLogic } from "../courier/logic.ts";
import type { CourierState } from "../courier/types.ts";
import { marketLogic } from "../market/logic.ts";
import type { MarketState } from "../market/types.ts";
import { orderLogic } from "../order/logic.ts";
import type { Order, OrderState } from "../order/types.ts";
import { storeLogic } from "../store/logic.ts";
import type { StoreState } from "../store/types.ts";
import { vehicleLogic } from "../vehicle/logic.ts";
import type { Principal } from "../types.ts";
import { World, ref } from "./world.ts";

const T0 = Date.UTC(2025, 5, 2, 2, 0); // Monday 10:00 in Shanghai
const MIN = 60_000;
const OFFER_TIMEOUT_MS = 30_000;

const admin: Principal = { role: "admin", id: "a-1" };
const system: Principal = { role: "system", id: "shop" };
const dispatcher: Principal = { role: "dispatcher", id: "d-1" };
const staff: Principal = { role: "store", id: "s-1" };
const shopper: Principal = { role: "shopper", id: "u-1" };
const courierC1: Principal = { role: "courier", id: "c-1" };
const courierC2: Principal = { role: "courier", id: "c-2" };

const market = ref("market", "m-1");
const store = ref("store", "s-1");
const order = ref("order", "o-1");
const c1 = ref("courier", "c-1");
const c2 = ref("courier", "c-2");
const van = ref("vehicle", "v-1");

const STORE_AT = { lat: 31.2304, lng: 121.4737 };
const DOOR = { lat: 31.2243, lng: 121.4768 };
const ALL_DAY = [{ open: "00:00", close: "24:00" }];
const PICKUP_CODE = "AB12";
const PIN = "4321";

function newWorld(): World {
  const w = new World({
    logics: [orderLogic, storeLogic, courierLogic, marketLogic, vehicleLogic],
    start: T0,
  });
  expectOk(
    w.send(
      market,
      // Manual dispatch: these scenarios are about the actors' contract, so the dispatcher
      // makes each offer (the "dispatch" scenarios below let the engine do it).
      {
        type: "configure",
        name: "浦东",
        city: "上海",
        offerTimeoutMs: OFFER_TIMEOUT_MS,
        autoDispatch: false,
      },
      { by: dispatcher },
    ),
  );
  expectOk(
    w.send(
      store,
      {
        type: "register",
        name: "鲜果铺",
        marketId: "m-1",
        location: STORE_AT,
        openHours: {
          "1": ALL_DAY,
          "2": ALL_DAY,
          "3": ALL_DAY,
          "4": ALL_DAY,
          "5": ALL_DAY,
          "6": ALL_DAY,
          "7": ALL_DAY,
        },
      },
      { by: admin },
    ),
  );
  return w;
}

function expectOk(outcome: { ok: boolean } & Record<string, unknown>): void {
  expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
}

function expectRefused(outcome: { ok: boolean } & Record<string, unknown>, code: string): void {
  expect(outcome).toMatchObject({ ok: false, refusal: { code } });
}

function onShift(w: World, courier = c1, by = courierC1, extra: Record<string, unknown> = {}) {
  expectOk(
    w.send(
      courier,
      {
        type: "go_on_shift",
        marketId: "m-1",
        vehicle: { mode: "ebike" },
        capacity: { maxOrders: 3 },
        ...extra,
      },
      { by },
    ),
  );
  expectOk(w.send(courier, { type: "location", lat: 31.229, lng: 121.474, at: w.now }, { by }));
}

function createOrder(w: World, temperatureClass: "ambient" | "chilled" = "ambient") {
  expectOk(
    w.send(
      order,
      {
        type: "create",
        storeId: "s-1",
        marketId: "m-1",
        shopOrderId: "wx-1001",
        shopperId: "u-1",
        temperatureClass,
        items: { summary: "2 × 草莓 500g, 1 × 鲜牛奶", count: 3 },
        amounts: { goodsFen: 5600, deliveryFeeFen: 500, discountFen: 0, totalFen: 6100 },
        pickup: STORE_AT,
        dropoff: { kind: "door", location: DOOR },
        promisedAt: w.now + 60 * MIN,
        pickupCode: PICKUP_CODE,
        deliveryPin: PIN,
      },
      { by: system },
    ),
  );
}

/** Store registered, courier on shift, order created, accepted and ready at the market. */
function readyOrder(temperatureClass: "ambient" | "chilled" = "ambient"): World {
  const w = newWorld();
  onShift(w);
  createOrder(w, temperatureClass);
  expectOk(w.send(store, { type: "accept_order", orderId: "o-1" }, { by: staff }));
  w.advance(5 * MIN);
  expectOk(w.send(store, { type: "mark_ready", orderId: "o-1" }, { by: staff }));
  return w;
}

function offerTo(w: World, courierId = "c-1") {
  expectOk(w.send(market, { type: "offer", orderId: "o-1", courierId }, { by: dispatcher }));
}

const orderOf = (w: World) => w.state<OrderState>(order) as Order;
const marketOf = (w: World) => w.state<MarketState>(market);
const courierOf = (w: World, c = c1) => w.state<CourierState>(c);

describe("scenario: the happy path", () => {
  it("goes from a shopper's order to a delivery with no cascaded command refused", () => {
    const w = readyOrder();
    expect(orderOf(w)).toMatchObject({ status: "ready", prep: "ready" });
    expect(Object.keys(marketOf(w).orders)).toEqual(["o-1"]);
    expect(marketOf(w).couriers["c-1"]).toMatchObject({ freeCapacity: 3 });
    expect(w.state<StoreState>(store)).toMatchObject({ status: "active" });

    offerTo(w);
    expect(orderOf(w)).toMatchObject({ status: "offered", offer: { courierId: "c-1" } });
    expect(courierOf(w).offers["o-1"]).toMatchObject({ expiresAt: w.now + OFFER_TIMEOUT_MS });
    // One offer, one time-out, and it is the market's.
    expect(w.reminders().filter((r) => r.name.startsWith("offer"))).toEqual([
      expect.objectContaining({ ref: market, name: "offer:o-1" }),
    ]);

    w.advance(10_000);
    expectOk(w.send(c1, { type: "accept_offer", orderId: "o-1" }, { by: courierC1 }));
    expect(orderOf(w)).toMatchObject({ status: "assigned", courierId: "c-1", offer: null });
    expect(courierOf(w).jobs["o-1"]).toMatchObject({ phase: "assigned", pickupCode: PICKUP_CODE });
    expect(courierOf(w).route.map((s) => s.kind)).toEqual(["pickup", "dropoff"]);
    expect(marketOf(w).orders).toEqual({});
    expect(marketOf(w).offers).toEqual({});
    expect(marketOf(w).assigned["o-1"]).toMatchObject({ courierId: "c-1", pickedUp: false });
    expect(w.reminders(market).map((r) => r.name)).toEqual([]);
    expect(marketOf(w).couriers["c-1"]).toMatchObject({ freeCapacity: 2 });

    w.advance(5 * MIN);
    expectOk(w.send(order, { type: "arrive_at_store", courierId: "c-1" }, { by: courierC1 }));
    // The courier shows the code it was given; the store types it in.
    const code = courierOf(w).jobs["o-1"]!.pickupCode!;
    expectOk(w.send(store, { type: "hand_off", orderId: "o-1", pickupCode: code }, { by: staff }));
    expect(orderOf(w)).toMatchObject({ status: "picked_up" });
    expect(courierOf(w).jobs["o-1"]).toMatchObject({ pickedUp: true });
    expect(courierOf(w).route.map((s) => s.kind)).toEqual(["dropoff"]);
    expect(marketOf(w).assigned["o-1"]).toMatchObject({ pickedUp: true });

    w.advance(12 * MIN);
    expectOk(w.send(order, { type: "arrive_at_customer", courierId: "c-1" }, { by: courierC1 }));
    expectOk(w.send(order, { type: "deliver", courierId: "c-1", pin: PIN }, { by: courierC1 }));

    expect(orderOf(w)).toMatchObject({
      status: "delivered",
      proof: { pinVerified: true, photoRef: null },
    });
    expect(w.view<{ status: string }>(c1).status).toBe("idle");
    expect(courierOf(w)).toMatchObject({ jobs: {}, route: [], offers: {} });
    expect(marketOf(w)).toMatchObject({ orders: {}, offers: {}, assigned: {}, passedBy: {} });
    expect(marketOf(w).couriers["c-1"]).toMatchObject({ freeCapacity: 3 });
    const pending = (w.state<StoreState>(store) as { pending: ReadonlyMap<string, unknown> })
      .pending;
    expect(pending.size).toBe(0);
    expect(w.eventNames(order)).toEqual([
      "created",
      "accepted",
      "ready",
      "offered",
      "assigned",
      "courier_arrived_at_store",
      "picked_up",
      "courier_arrived_at_customer",
      "delivered",
    ]);
    expect(w.refusals).toEqual([]);
    // The market's tick stops once it has nothing open.
    w.advance(10 * MIN);
    expect(w.reminders()).toEqual([]);
    expect(w.refusals).toEqual([]);
  });

  it("hides the pickup code from the courier once the job is no longer theirs", () => {
    const w = readyOrder();
    offerTo(w);
    expect(courierOf(w).offers["o-1"]).not.toHaveProperty("pickupCode");
    expectOk(w.send(c1, { type: "accept_offer", orderId: "o-1" }, { by: courierC1 }));
    expect(JSON.stringify(w.view(c1))).toContain(PICKUP_CODE);
    expectOk(w.send(order, { type: "reassign", reason: "too slow" }, { by: dispatcher }));
    expect(JSON.stringify(w.view(c1))).not.toContain(PICKUP_CODE);
    expect(w.refusals).toEqual([]);
  });
});

describe("scenario: the courier declines", () => {
  it("puts the order back on offer and the market records who passed", () => {
    const w = readyOrder();
    offerTo(w);
    expectOk(
      w.send(c1, { type: "decline_offer", orderId: "o-1", reason: "too_far" }, { by: courierC1 }),
    );
    expect(orderOf(w)).toMatchObject({ status: "ready", offer: null });
    expect(marketOf(w).offers).toEqual({});
    expect(marketOf(w).orders["o-1"]).toBeDefined();
    expect(marketOf(w).passedBy["o-1"]).toEqual(["c-1"]);
    expect(w.eventsOf({ type: "market", name: "offer_declined" })[0]!.data).toMatchObject({
      courierId: "c-1",
      reason: "too_far",
    });
    expect(w.eventsOf({ type: "order", name: "offer_declined" })[0]!.data).toMatchObject({
      reason: "too_far",
    });
    expect(courierOf(w).stats.declined.too_far).toBe(1);
    expect(w.reminders(market).map((r) => r.name)).not.toContain("offer:o-1");
    // Not offered to the same courier again; another courier can have it.
    expectRefused(
      w.send(market, { type: "offer", orderId: "o-1", courierId: "c-1" }, { by: dispatcher }),
      "already_passed",
    );
    onShift(w, c2, courierC2);
    offerTo(w, "c-2");
    expect(orderOf(w)).toMatchObject({ status: "offered", offer: { courierId: "c-2" } });
    expect(w.refusals).toEqual([]);
  });

  it("keeps the courier actor in step when the driver declines at the order", () => {
    const w = readyOrder();
    offerTo(w);
    expectOk(
      w.send(order, { type: "decline_offer", courierId: "c-1", reason: "busy" }, { by: courierC1 }),
    );
    expect(orderOf(w)).toMatchObject({ status: "ready", offer: null });
    expect(courierOf(w).offers).toEqual({});
    expect(marketOf(w).offers).toEqual({});
    expect(marketOf(w).passedBy["o-1"]).toEqual(["c-1"]);
    expect(w.refusals).toEqual([]);
  });
});

describe("scenario: the offer times out", () => {
  it("ends the offer once, on the market's timer, everywhere", () => {
    const w = readyOrder();
    offerTo(w);
    w.advance(OFFER_TIMEOUT_MS - 1);
    expect(orderOf(w).status).toBe("offered");
    w.advance(1);
    expect(orderOf(w)).toMatchObject({ status: "ready", offer: null });
    expect(courierOf(w).offers).toEqual({});
    expect(courierOf(w).stats.expired).toBe(1);
    expect(marketOf(w).offers).toEqual({});
    expect(marketOf(w).passedBy["o-1"]).toEqual(["c-1"]);
    // Exactly one expiry path: the market's timer, one message to each of order and courier.
    const fired = w.log.filter(
      (e) => e.envelope?.origin === "timer" && e.envelope.msg.type !== "tick",
    );
    expect(fired.map((e) => [e.to.type, e.envelope!.msg.type])).toEqual([
      ["market", "offer_timeout"],
    ]);
    expect(w.delivered(order, "offer_expired")).toHaveLength(1);
    expect(w.delivered(c1, "offer_expired")).toHaveLength(1);
    expect(
      w
        .eventsOf({ name: "offer_expired" })
        .map((e) => e.actor.type)
        .sort(),
    ).toEqual(["courier", "market", "order"]);
    expect(w.refusals).toEqual([]);
  });

  it("refuses an accept once the market's timer has ended the offer, changing nothing", () => {
    const w = readyOrder();
    offerTo(w);
    const expiresAt = courierOf(w).offers["o-1"]!.expiresAt;
    w.advanceTo(expiresAt);
    expect(orderOf(w).status).toBe("ready");
    expectRefused(
      w.send(c1, { type: "accept_offer", orderId: "o-1" }, { by: courierC1 }),
      "offer_not_found",
    );
    expect(courierOf(w).jobs).toEqual({});
    // (An accept that crosses the time-out is turned away by the order on its recorded
    // deadline: see the order's unit tests; the World delivers one interleaving only.)
    expect(w.refusals).toEqual([]);
  });

  it("does not expire an offer that was answered in time", () => {
    const w = readyOrder();
    offerTo(w);
    expectOk(w.send(c1, { type: "accept_offer", orderId: "o-1" }, { by: courierC1 }));
    w.advance(2 * OFFER_TIMEOUT_MS);
    expect(orderOf(w)).toMatchObject({ status: "assigned", courierId: "c-1" });
    expect(w.delivered(market, "offer_timeout")).toEqual([]);
    expect(w.refusals).toEqual([]);
  });
});

describe("scenario: a dispatcher holds the order", () => {
  it("keeps a held order out of dispatch at the market, and back in on release", () => {
    const w = readyOrder();
    offerTo(w);
    expectOk(w.send(order, { type: "hold", reason: "shopper called" }, { by: dispatcher }));
    expect(orderOf(w)).toMatchObject({
      status: "ready",
      offer: null,
      hold: { reason: "shopper called" },
    });
    expect(marketOf(w).orders["o-1"]).toMatchObject({ held: true });
    expect(marketOf(w).offers).toEqual({});
    expect(courierOf(w).offers).toEqual({});
    expect(w.reminders(market).map((r) => r.name)).not.toContain("offer:o-1");
    expectRefused(
      w.send(market, { type: "offer", orderId: "o-1", courierId: "c-1" }, { by: dispatcher }),
      "order_held",
    );

    expectOk(w.send(order, { type: "release_hold" }, { by: dispatcher }));
    expect(marketOf(w).orders["o-1"]).toMatchObject({ held: false });
    offerTo(w);
    expect(orderOf(w)).toMatchObject({ status: "offered" });
    expect(w.refusals).toEqual([]);
  });

  it("forwards a hold and a release made at the market to the order, which owns them", () => {
    const w = readyOrder();
    expectOk(
      w.send(market, { type: "hold", orderId: "o-1", reason: "fraud check" }, { by: dispatcher }),
    );
    expect(orderOf(w).hold).toMatchObject({ reason: "fraud check", by: "dispatcher:d-1" });
    expect(marketOf(w).orders["o-1"]).toMatchObject({ held: true });
    expect(marketOf(w).audit.map((a) => a.action)).toEqual(["hold"]);
    expectOk(
      w.send(market, { type: "release", orderId: "o-1", reason: "cleared" }, { by: dispatcher }),
    );
    expect(orderOf(w).hold).toBeNull();
    expect(marketOf(w).orders["o-1"]).toMatchObject({ held: false });
    expect(w.refusals).toEqual([]);
  });
});

describe("scenario: cancelled before pickup", () => {
  it("releases the courier and closes the hand-off at the store", () => {
    const w = readyOrder();
    offerTo(w);
    expectOk(w.send(c1, { type: "accept_offer", orderId: "o-1" }, { by: courierC1 }));
    expectOk(w.send(order, { type: "cancel", reason: "shopper_request" }, { by: shopper }));
    expect(orderOf(w)).toMatchObject({ status: "cancelled" });
    expect(courierOf(w)).toMatchObject({ jobs: {}, route: [] });
    expect(w.view<{ status: string }>(c1).status).toBe("idle");
    const s = w.state<StoreState>(store) as { pending: ReadonlyMap<string, unknown> };
    expect(s.pending.has("o-1")).toBe(false);
    expect(w.eventNames(store)).toContain("order_closed");
    expect(marketOf(w)).toMatchObject({ orders: {}, assigned: {}, offers: {} });
    expect(marketOf(w).couriers["c-1"]).toMatchObject({ freeCapacity: 3 });
    expect(w.refusals).toEqual([]);
  });

  it("withdraws an open offer from the courier when cancelled while offered", () => {
    const w = readyOrder();
    offerTo(w);
    expectOk(w.send(order, { type: "cancel", reason: "shopper_request" }, { by: shopper }));
    expect(courierOf(w).offers).toEqual({});
    expect(courierOf(w).stats.withdrawn).toBe(1);
    expect(w.reminders(market).map((r) => r.name)).not.toContain("offer:o-1");
    expect(w.refusals).toEqual([]);
  });
});

describe("scenario: refusals", () => {
  function pickedUpWorld(): World {
    const w = readyOrder();
    offerTo(w);
    expectOk(w.send(c1, { type: "accept_offer", orderId: "o-1" }, { by: courierC1 }));
    expectOk(
      w.send(store, { type: "hand_off", orderId: "o-1", pickupCode: PICKUP_CODE }, { by: staff }),
    );
    return w;
  }

  it("refuses a cancel after pickup", () => {
    const w = pickedUpWorld();
    expectRefused(
      w.send(order, { type: "cancel", reason: "shopper_request" }, { by: shopper }),
      "already_picked_up",
    );
    expect(orderOf(w).status).toBe("picked_up");
    expect(courierOf(w).jobs["o-1"]).toMatchObject({ pickedUp: true });
    expect(w.refusals).toEqual([]);
  });

  it("refuses a wrong pickup code at the store, and nothing moves", () => {
    const w = readyOrder();
    offerTo(w);
    expectOk(w.send(c1, { type: "accept_offer", orderId: "o-1" }, { by: courierC1 }));
    expectRefused(
      w.send(store, { type: "hand_off", orderId: "o-1", pickupCode: "ZZ99" }, { by: staff }),
      "wrong_pickup_code",
    );
    expect(orderOf(w).status).toBe("assigned");
    expect(courierOf(w).jobs["o-1"]).toMatchObject({ pickedUp: false });
    expect(w.refusals).toEqual([]);
  });

  it("refuses a delivery with a wrong PIN to the driver directly", () => {
    const w = pickedUpWorld();
    expectRefused(
      w.send(order, { type: "deliver", courierId: "c-1", pin: "0000" }, { by: courierC1 }),
      "wrong_delivery_pin",
    );
    expect(courierOf(w).jobs["o-1"]).toBeDefined();
  });

  it("refuses a force-assignment of a picked-up order at the market", () => {
    const w = pickedUpWorld();
    onShift(w, c2, courierC2);
    expectRefused(
      w.send(
        market,
        { type: "force_assign", orderId: "o-1", courierId: "c-2", reason: "faster" },
        { by: dispatcher },
      ),
      "already_picked_up",
    );
    expect(w.refusals).toEqual([]);
  });

  it("refuses loading a chilled order into a wrong-class or out-of-range compartment", () => {
    const w = readyOrder("chilled");
    expectOk(
      w.send(
        van,
        {
          type: "configure",
          driverId: "c-1",
          compartments: [
            { id: "dry", class: "ambient", graceSeconds: 60 },
            { id: "cold", class: "chilled", graceSeconds: 60 },
          ],
        },
        { by: dispatcher },
      ),
    );
    const load = (compartmentId: string) =>
      w.send(
        van,
        { type: "load", compartmentId, orderId: "o-1", temperatureClass: "chilled" },
        { by: courierC1 },
      );
    expectRefused(load("dry"), "wrong_temperature_class");
    expectOk(
      w.send(
        van,
        {
          type: "readings",
          readings: [
            { seq: 1, compartmentId: "cold", celsius: 9, at: w.now, source: "courier:c-1" },
          ],
        },
        { by: { role: "system", id: "telemetry-bridge" } },
      ),
    );
    w.advance(2 * MIN); // past the grace period: an excursion
    expectRefused(load("cold"), "compartment_out_of_range");
    expectOk(
      w.send(
        van,
        {
          type: "readings",
          readings: [
            { seq: 2, compartmentId: "cold", celsius: 2, at: w.now, source: "courier:c-1" },
          ],
        },
        { by: { role: "system", id: "telemetry-bridge" } },
      ),
    );
    expectOk(load("cold"));
    expect(w.refusals).toEqual([]);
  });
});

describe("scenario: the engine dispatches", () => {
  it("offers the ready order by itself, moves on after a decline, and delivers", () => {
    const w = newWorld();
    expectOk(
      w.send(
        market,
        { type: "configure", name: "浦东", city: "上海", autoDispatch: true },
        { by: dispatcher },
      ),
    );
    onShift(w);
    // c-2 on shift a little further from the store than c-1.
    expectOk(
      w.send(
        c2,
        {
          type: "go_on_shift",
          marketId: "m-1",
          vehicle: { mode: "ebike" },
          capacity: { maxOrders: 3 },
        },
        { by: courierC2 },
      ),
    );
    expectOk(
      w.send(c2, { type: "location", lat: 31.236, lng: 121.474, at: w.now }, { by: courierC2 }),
    );
    createOrder(w);
    expectOk(w.send(store, { type: "accept_order", orderId: "o-1" }, { by: staff }));
    // The couriers' arrival planned a moment ago: the order waits for the end of the gap.
    w.advance(1_000);

    // Nobody offered it by hand: the market's engine did, to the nearer courier, as soon as
    // the store took the order on (it will be ready within the engine's look-ahead).
    expect(orderOf(w)).toMatchObject({ status: "offered", offer: { courierId: "c-1" } });
    expect(courierOf(w).offers["o-1"]).toBeDefined();

    w.advance(5_000);
    expectOk(
      w.send(c1, { type: "decline_offer", orderId: "o-1", reason: "busy" }, { by: courierC1 }),
    );
    // The decline re-plans at once: the next best courier has the offer.
    expect(orderOf(w)).toMatchObject({ status: "offered", offer: { courierId: "c-2" } });
    expect(marketOf(w).passedBy["o-1"]).toEqual(["c-1"]);

    w.advance(5_000);
    expectOk(w.send(c2, { type: "accept_offer", orderId: "o-1" }, { by: courierC2 }));
    expect(orderOf(w)).toMatchObject({ status: "assigned", courierId: "c-2" });
    expect(marketOf(w).assigned["o-1"]).toMatchObject({ courierId: "c-2", pickup: STORE_AT });
    w.advance(5 * MIN);
    expectOk(w.send(store, { type: "mark_ready", orderId: "o-1" }, { by: staff }));

    w.advance(5 * MIN);
    expectOk(w.send(order, { type: "arrive_at_store", courierId: "c-2" }, { by: courierC2 }));
    const code = courierOf(w, c2).jobs["o-1"]!.pickupCode!;
    expectOk(w.send(store, { type: "hand_off", orderId: "o-1", pickupCode: code }, { by: staff }));
    w.advance(10 * MIN);
    expectOk(w.send(order, { type: "arrive_at_customer", courierId: "c-2" }, { by: courierC2 }));
    expectOk(w.send(order, { type: "deliver", courierId: "c-2", pin: PIN }, { by: courierC2 }));
    expect(orderOf(w)).toMatchObject({ status: "delivered" });
    expect(marketOf(w)).toMatchObject({ orders: {}, offers: {}, assigned: {} });
    expect(w.refusals).toEqual([]);
    w.advance(10 * MIN);
    expect(w.reminders()).toEqual([]);
  });
});
