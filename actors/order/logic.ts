/**
 * The order actor (`order/<id>`): one delivery from creation to delivered, returned or cancelled.
 *
 * Lifecycle:
 *   created → accepted → preparing → ready → offered → assigned → at_store → picked_up
 *     → at_customer → delivered
 *   delivery failed (picked_up / at_customer) → delivery_failed → returned
 *   cancelled: from any state before pickup
 *   reassign: offered / assigned / at_store → back to the pool (or straight to another courier)
 *   hold / release_hold: a dispatcher hold; a held order is never offered or assigned
 *   lock / unlock: a dispatcher lock of an assignment; the market may not reassign it
 * The kitchen's progress (`prep`) is kept apart from `status`: a courier may be offered or
 * assigned an order that is still being prepared, and the store marks it ready meanwhile.
 *
 * Cross-actor commands SENT (after the turn commits):
 *   → store/<storeId>   (protocol/actors/store.ts)
 *       order_placed      {orderId, shopOrderId, pickupCode, promisedAt, temperatureClass,
 *                          itemsSummary}                                   on create
 *       order_accepted    {orderId, shopOrderId, acceptedAt, readyAt, readyAtSource, pickupCode,
 *                          promisedAt, temperatureClass, itemsSummary}
 *                         on accept, only when it did not come from the store actor (an override)
 *       courier_assigned  {orderId, courierId | null}   on every assignment and un-assignment
 *       order_closed      {orderId, reason: "cancelled" | "picked_up"}
 *                         on cancel; on pick_up only when it did not come from the store actor
 *   → courier/<courierId>   (protocol/actors/courier.ts)
 *       job_assigned     {orderId, temperatureClass, pickup: StopPlace, dropoff: StopPlace,
 *                         pickupCode}  on every assignment
 *       job_released     {orderId, reason}   "cancelled" | "reassigned" | "returned_to_store", or
 *                                            why a courier_accepted was turned away
 *       complete_stop    {orderId, kind}     "pickup" on pick_up, "dropoff" on deliver: the
 *                                            only way a courier's stops complete
 *   → market/<marketId>   (protocol/actors/market.ts)
 *       order_ready      {orderId, storeId, pickup, dropoff, readyAt, promisedBy, temperatureClass}
 *                        an upsert whenever the order waits for a courier (accepted, ready-at
 *                        changed, offer ended, hold released, back from a courier) and is not held
 *       order_assigned   {orderId, courierId}   on every assignment (the market withdraws an
 *                                               open offer to anyone else)
 *       order_cancelled  {orderId}              on cancel, if the market ever had the order (the
 *                                               market withdraws an open offer)
 *       order_held / order_released {orderId}   on hold / release_hold, if the market had it
 *       order_picked_up  {orderId, courierId}   on pick_up
 *       order_finished   {orderId, courierId, outcome: "delivered" | "returned"}
 *       withdraw_offer   {orderId, courierId, reason: "reassigned"}   reassign of an offered
 *                                                                      order back to the pool
 *       offer_declined   {orderId, courierId, reason, via: "order"}   decline_offer here
 *   → vehicle/<vehicleId>   (protocol/actors/vehicle.ts), only for an order picked up into a van
 *       unload           {orderId}   on deliver and on mark_returned: the goods left the van
 *
 * Cross-actor commands EXPECTED (origin "actor", usually without a principal):
 *   from store/<storeId>: accept, start_preparing, mark_ready, set_ready_at, pick_up, cancel
 *     (the store actor forwards its staff's actions; see actors/store/logic.ts)
 *   from market/<marketId>: offer {courierId, expiresAt}, offer_expired {courierId, expiresAt}
 *     (its offer timer ran out), offer_withdrawn {courierId, reason}, hold / release_hold
 *     (forwarded dispatcher overrides), assign, reassign (refused on a locked assignment), and
 *     dispatcher_assigned {courierId, marketId, by, reason, at} (a force: wins over hold and lock)
 *   from courier/<courierId>: courier_accepted, courier_declined, courier_released
 *   from vehicle/<vehicleId>: cold_chain_excursion {vehicleId, compartmentId, kind, startedAt,
 *     detectedAt, celsius}, cold_chain_excursion_ended {vehicleId, compartmentId, kind, endedAt}
 *     (to every order inside the compartment when an excursion starts or ends)
 *   from the driver app directly (principal courier:<id>, checked against the offer or the
 *     assignment): accept_offer, decline_offer, arrive_at_store, arrive_at_customer, deliver,
 *     fail_delivery
 * This order keeps no timers: the market owns each offer and its one time-out. The order
 * records `expiresAt` and refuses (or turns away) an acceptance at or after it.
 *
 * Decisions:
 * - Facts from couriers and the market about offers this order did not make or jobs it did not
 *   give (a decline of someone else's offer, the expiry of an offer already answered, a release
 *   by a courier who no longer has it) change nothing and are accepted without effects. A
 *   courier_accepted the order cannot honour (held, taken, cancelled, too late) is accepted and
 *   answered with job_released, so the courier frees its capacity.
 * - Pickup is confirmed by the store with the courier's code (store hand_off → pick_up), delivery
 *   by the driver app sending `deliver` with the PIN or a photo straight to this order, so a
 *   wrong PIN is refused to the driver at once. The order then completes the courier's stop
 *   (complete_stop); a courier never reports a stop on its own (see actors/CONTRACT.md).
 * - Cold chain: a `pick_up` naming `vehicleId` + `compartmentId` (the gateway had the vehicle
 *   `load` it first) records the compartment in `coldChain`. Excursion notices from that vehicle
 *   about that compartment mark the order while it is carried (picked up, at the customer, or
 *   failed and not yet returned); notices about another vehicle or compartment, or arriving
 *   after the order left the van, cross in flight with `unload` and change nothing. The goods
 *   leave the van on `deliver` and on `mark_returned` (after a failed delivery the courier keeps
 *   them, in the van, until the store takes them back), and the order then tells the vehicle to
 *   `unload` them. `coldChain` stays as the order's record; the `delivered` event carries it
 *   with the class and the pickup time, so a certificate can be built from the event alone.
 * - The shopper's contact arrives encrypted by the gateway (`create.contact`, one ciphertext per
 *   field); the order keeps it, shows it in its view and hands it to the projector in `created`,
 *   and never sends it to another actor. `reveal_contact` (admins only) changes nothing but emits
 *   `contact_revealed` with who and why: the gateway decrypts for an admin only after it.
 */
import { accept, emit, refuse } from "../logic.ts";
import type { ActorLogic, ActorRef, Effect, TurnContext, TurnResult } from "../types.ts";
import { OrderMessage } from "../../protocol/actors/order.ts";
import type { StoreMessage } from "../../protocol/actors/store.ts";
import type { WaveMessage } from "../../protocol/actors/wave.ts";
import type {
  ColdChain,
  CourierJobMessage,
  MarketOrderMessage,
  Order,
  OrderState,
  OrderStatus,
  OrderView,
  PrepStage,
  VehicleOrderMessage,
} from "./types.ts";
import { parsePersistedOrder } from "./persisted.ts";

/** The timeline keeps the latest status changes only, so the state stays small. */
export const TIMELINE_LIMIT = 64;
/** Excursions kept in `coldChain` (the latest); the vehicle's own events keep every one. */
export const EXCURSION_LIMIT = 64;

type Msg<T extends OrderMessage["type"]> = Extract<OrderMessage, { type: T }>;
type Result = TurnResult<OrderState>;

const POOL: readonly OrderStatus[] = ["accepted", "preparing", "ready"];
const WITH_COURIER: readonly OrderStatus[] = ["assigned", "at_store"];
const CARRYING: readonly OrderStatus[] = ["picked_up", "at_customer"];
const AFTER_PICKUP: readonly OrderStatus[] = [
  "picked_up",
  "at_customer",
  "at_pickup_point",
  "delivered",
  "delivery_failed",
  "returned",
];
/** Statuses in which the goods are with the courier (and in the van, if picked up into one). */
const IN_TRANSIT: readonly OrderStatus[] = [...CARRYING, "delivery_failed"];

// ---- authorization ----

/**
 * Who may send a message. Dispatchers and admins may always override unless `operator` is
 * false; a `system` principal counts as an operator. Other actors (origin "actor" without a
 * principal) are trusted only where `actor` is set.
 */
interface Rule {
  readonly operator?: boolean;
  readonly actor?: boolean;
  readonly timer?: boolean;
  /** The order's own store (principal id === store id). */
  readonly store?: boolean;
  /** The order's shopper (principal id === shopper id). */
  readonly shopper?: boolean;
  /** A courier, if it is the one the order is offered to / assigned to. */
  readonly courier?: "offered" | "assigned";
}

function authorize(order: Order, ctx: TurnContext, rule: Rule): Result | null {
  if (ctx.origin === "timer") {
    return rule.timer ? null : refuse("forbidden", "a timer may not send this message");
  }
  const by = ctx.by;
  if (by === undefined) {
    if (ctx.origin === "actor" && rule.actor) return null;
    return refuse("forbidden", "this message needs an authorized sender");
  }
  switch (by.role) {
    case "dispatcher":
    case "admin":
    case "system":
      if (rule.operator !== false) return null;
      return refuse("forbidden", `a ${by.role} may not send this message`);
    case "store":
      if (!rule.store) return refuse("forbidden", "a store may not send this message");
      if (by.id !== order.storeId) {
        return refuse("not_own_order", `order ${order.id} belongs to another store`);
      }
      return null;
    case "shopper":
      if (!rule.shopper) return refuse("forbidden", "a shopper may not send this message");
      if (order.shopperId === null || by.id !== order.shopperId) {
        return refuse("not_own_order", `order ${order.id} belongs to another shopper`);
      }
      return null;
    case "courier": {
      if (rule.courier === undefined) {
        return refuse("forbidden", "a courier may not send this message");
      }
      const expected = rule.courier === "offered" ? order.offer?.courierId : order.courierId;
      if (by.id !== expected) return courierMismatch(order, rule.courier, by.id);
      return null;
    }
  }
}

function courierMismatch(order: Order, kind: "offered" | "assigned", courierId: string): Result {
  return kind === "offered"
    ? refuse("not_offered_courier", `order ${order.id} is not offered to courier ${courierId}`)
    : refuse("not_assigned_courier", `order ${order.id} is not assigned to courier ${courierId}`);
}

/** A `courierId` named in a message must be the courier the order is offered / assigned to. */
function checkClaimedCourier(
  order: Order,
  kind: "offered" | "assigned",
  claimed: string | undefined,
): Result | null {
  if (claimed === undefined) return null;
  const expected = kind === "offered" ? order.offer?.courierId : order.courierId;
  return claimed === expected ? null : courierMismatch(order, kind, claimed);
}

function isOperator(ctx: TurnContext): boolean {
  const role = ctx.by?.role;
  return role === "dispatcher" || role === "admin";
}

/** For the audit trail: `dispatcher:d-1`, or the origin when no principal is known. */
function author(ctx: TurnContext): string {
  return ctx.by ? `${ctx.by.role}:${ctx.by.id}` : ctx.origin;
}

// ---- effects ----

function sendTo(type: string, id: string, msg: { type: string } & Record<string, unknown>): Effect {
  const to: ActorRef = { type, id };
  return { kind: "send", command: { to, msg } };
}
const toCourier = (id: string, msg: CourierJobMessage): Effect => sendTo("courier", id, msg);
const toMarket = (order: Order, msg: MarketOrderMessage): Effect =>
  sendTo("market", order.marketId, msg);
type OrderToStore = Extract<
  StoreMessage,
  { type: "order_placed" | "order_accepted" | "courier_assigned" | "order_closed" }
>;
const toStore = (order: Order, msg: OrderToStore): Effect => sendTo("store", order.storeId, msg);

/** The goods left the van: its compartment is emptied (nothing for an order not in a van). */
function unloadFromVehicle(order: Order): readonly Effect[] {
  if (order.coldChain === null) return [];
  const msg: VehicleOrderMessage = { type: "unload", orderId: order.id };
  return [sendTo("vehicle", order.coldChain.vehicleId, msg)];
}

/** Tells the market the order waits for a courier, unless it is held (a held order is not offered). */
function waitingForCourier(order: Order): readonly Effect[] {
  // A wave order waits for its wave's van, not for the market's couriers.
  if (order.wave !== null || order.hold !== null || !inStatus(order, POOL)) return [];
  return [
    toMarket(order, {
      type: "order_ready",
      orderId: order.id,
      storeId: order.storeId,
      pickup: order.pickup,
      dropoff: order.dropoff.location,
      readyAt: order.readyAt ?? order.promisedAt,
      promisedBy: order.promisedAt,
      temperatureClass: order.temperatureClass,
    }),
  ];
}

/** Everyone who must learn that `courierId` now has the order. */
function assignedEffects(order: Order, courierId: string): readonly Effect[] {
  const dropoff = order.dropoff;
  return [
    toCourier(courierId, {
      type: "job_assigned",
      orderId: order.id,
      temperatureClass: order.temperatureClass,
      pickup: {
        location: order.pickup,
        storeId: order.storeId,
        ...(order.readyAt !== null ? { plannedAt: order.readyAt } : {}),
      },
      dropoff: {
        location: dropoff.location,
        ...(dropoff.kind === "pickup_point" ? { pickupPointId: dropoff.pickupPointId } : {}),
        plannedAt: order.promisedAt,
      },
      pickupCode: order.pickupCode,
    }),
    toMarket(order, { type: "order_assigned", orderId: order.id, courierId }),
    toStore(order, { type: "courier_assigned", orderId: order.id, courierId }),
  ];
}

/** Tells the market, which owns the order's offers, something only the order knows. */
function toMarketIfQueued(order: Order, msg: MarketOrderMessage): readonly Effect[] {
  // The market hears of an order first on acceptance (order_ready): before that it has nothing.
  return order.acceptedAt === null || order.wave !== null ? [] : [toMarket(order, msg)];
}

// ---- state helpers ----

function poolStatus(prep: PrepStage): OrderStatus {
  return prep === "waiting" ? "accepted" : prep === "preparing" ? "preparing" : "ready";
}

/** The order with `patch` applied and, when the status changes (or `always`), a timeline entry. */
function moved(
  order: Order,
  status: OrderStatus,
  ctx: TurnContext,
  patch: Partial<Order> = {},
  always = false,
): Order {
  const next: Order = { ...order, ...patch, status };
  if (status === order.status && !always) return next;
  const entry = { status, at: ctx.now, by: ctx.by?.role ?? ctx.origin };
  const timeline = [...order.timeline, entry];
  return { ...next, timeline: timeline.slice(-TIMELINE_LIMIT) };
}

function invalid(order: Order, what: string): Result {
  return refuse("invalid_transition", `cannot ${what}: order ${order.id} is ${order.status}`);
}

function inStatus(order: Order, allowed: readonly OrderStatus[]): boolean {
  return allowed.includes(order.status);
}

// ---- transitions ----

function create(state: OrderState, msg: Msg<"create">, ctx: TurnContext): Result {
  if (state.status !== "none") {
    return refuse("already_exists", `order ${state.id} already exists`);
  }
  const by = ctx.by;
  if (ctx.origin === "timer" || (by === undefined && ctx.origin !== "actor")) {
    return refuse("forbidden", "this message needs an authorized sender");
  }
  if (by?.role === "store" && by.id !== msg.storeId) {
    return refuse("not_own_order", `a store may create orders for itself only`);
  }
  if (by?.role === "courier" || by?.role === "shopper") {
    return refuse("forbidden", `a ${by.role} may not create orders`);
  }
  const { goodsFen, deliveryFeeFen, discountFen, totalFen } = msg.amounts;
  if (totalFen !== goodsFen + deliveryFeeFen - discountFen) {
    return refuse("invalid_amounts", "totalFen must equal goodsFen + deliveryFeeFen - discountFen");
  }
  if (msg.promisedAt <= ctx.now) {
    return refuse("invalid_promised_time", "the promised delivery time must be in the future");
  }
  const order: Order = {
    id: state.id,
    status: "created",
    storeId: msg.storeId,
    marketId: msg.marketId,
    shopOrderId: msg.shopOrderId,
    shopperId: msg.shopperId ?? null,
    temperatureClass: msg.temperatureClass,
    items: msg.items,
    amounts: msg.amounts,
    pickup: msg.pickup,
    dropoff: msg.dropoff,
    contact: msg.contact ?? null,
    placedAt: ctx.now,
    promisedAt: msg.promisedAt,
    acceptedAt: null,
    prep: "waiting",
    readyAt: null,
    readyAtSource: null,
    pickupCode: msg.pickupCode,
    deliveryPin: msg.deliveryPin ?? null,
    courierId: null,
    offer: null,
    offerCount: 0,
    hold: null,
    lock: null,
    pickedUpAt: null,
    deliveredAt: null,
    proof: null,
    failure: null,
    cancellation: null,
    coldChain: null,
    wave: msg.wave ? { waveId: msg.wave.waveId } : null,
    timeline: [{ status: "created", at: ctx.now, by: by?.role ?? ctx.origin }],
  };
  return accept(order, [
    ...joinWave(order, msg),
    emit("created", {
      storeId: order.storeId,
      marketId: order.marketId,
      shopOrderId: order.shopOrderId,
      temperatureClass: order.temperatureClass,
      promisedAt: order.promisedAt,
      dropoffKind: order.dropoff.kind,
      totalFen: order.amounts.totalFen,
      // What the projector needs for the order's row, the contact as ciphertext only.
      amounts: order.amounts,
      dropoff: order.dropoff,
      contact: order.contact,
    }),
    toStore(order, {
      type: "order_placed",
      orderId: order.id,
      shopOrderId: order.shopOrderId,
      pickupCode: order.pickupCode,
      promisedAt: order.promisedAt,
      temperatureClass: order.temperatureClass,
      itemsSummary: order.items.summary,
    }),
  ]);
}

const STORE_SIDE: Rule = { store: true, actor: true };

/** How long before its promised time a wave order's door may be reached. */
const WAVE_DOOR_WINDOW_MS = 2 * 3_600_000;

/** A wave order joins its wave (which plans the vans) with what the planner needs. */
function joinWave(order: Order, msg: Msg<"create">): readonly Effect[] {
  if (msg.wave === undefined) return [];
  const d = order.dropoff;
  const destination =
    d.kind === "pickup_point"
      ? { kind: "pickup_point" as const, pickupPointId: d.pickupPointId }
      : {
          kind: "door" as const,
          location: d.location,
          window: { from: order.promisedAt - WAVE_DOOR_WINDOW_MS, to: order.promisedAt },
        };
  const join: WaveMessage = {
    type: "join",
    orderId: order.id,
    storeId: order.storeId,
    pickup: order.pickup,
    destination,
    load: msg.wave.load,
    temperatureClass: order.temperatureClass,
    pickupCode: order.pickupCode,
  };
  return [sendTo("wave", msg.wave.waveId, join)];
}

/** wave → order: its van left with it (the van's driver has it, as an assignment would say). */
function waveOnVan(order: Order, msg: Msg<"wave_on_van">, ctx: TurnContext): Result {
  if (order.wave === null) return refuse("not_a_wave_order", `order ${order.id} is not in a wave`);
  if (!inStatus(order, ["created", ...POOL])) return accept(order); // cancelled: a fact in flight
  const next = moved(order, "assigned", ctx, { courierId: msg.courierId });
  return accept(next, [
    emit("assigned", {
      courierId: msg.courierId,
      vehicleId: msg.vehicleId,
      waveId: order.wave.waveId,
    }),
  ]);
}

function waveAtPickupPoint(
  order: Order,
  msg: Msg<"wave_at_pickup_point">,
  ctx: TurnContext,
): Result {
  if (order.wave === null) return refuse("not_a_wave_order", `order ${order.id} is not in a wave`);
  if (order.status === "at_pickup_point" || order.status === "cancelled") return accept(order);
  if (!inStatus(order, ["assigned", "picked_up"])) return invalid(order, "be at the pickup point");
  const next = moved(order, "at_pickup_point", ctx, { pickedUpAt: order.pickedUpAt ?? ctx.now });
  return accept(next, [
    emit("at_pickup_point", { pickupPointId: msg.pickupPointId, waveId: order.wave.waveId }),
  ]);
}

/** The shopper took the goods at the point: delivered, as a door delivery reports it. */
function waveCollected(order: Order, msg: Msg<"wave_collected">, ctx: TurnContext): Result {
  if (order.wave === null) return refuse("not_a_wave_order", `order ${order.id} is not in a wave`);
  if (order.status === "delivered") return accept(order);
  if (order.status !== "at_pickup_point") return invalid(order, "be collected");
  const next = moved(order, "delivered", ctx, {
    deliveredAt: ctx.now,
    proof: { photoRef: null, pinVerified: false },
  });
  return accept(next, [
    emit("delivered", {
      courierId: order.courierId,
      onTime: ctx.now <= order.promisedAt,
      lateByMs: Math.max(0, ctx.now - order.promisedAt),
      photo: false,
      pinVerified: false,
      pickupPointId: msg.pickupPointId,
      temperatureClass: order.temperatureClass,
      pickedUpAt: order.pickedUpAt,
      coldChain: order.coldChain,
    }),
    ...unloadFromVehicle(order),
  ]);
}

function acceptOrder(order: Order, msg: Msg<"accept">, ctx: TurnContext): Result {
  if (order.status !== "created") return invalid(order, "accept");
  if (msg.readyAt < order.placedAt) {
    return refuse("invalid_ready_at", "the ready-at time is before the order was placed");
  }
  const next = moved(order, "accepted", ctx, {
    acceptedAt: ctx.now,
    readyAt: msg.readyAt,
    readyAtSource: msg.readyAtSource,
  });
  const effects: Effect[] = [
    emit("accepted", { readyAt: msg.readyAt, readyAtSource: msg.readyAtSource }),
    ...waitingForCourier(next),
  ];
  if (ctx.origin !== "actor") {
    effects.push(
      toStore(next, {
        type: "order_accepted",
        orderId: next.id,
        shopOrderId: next.shopOrderId,
        acceptedAt: ctx.now,
        readyAt: msg.readyAt,
        readyAtSource: msg.readyAtSource,
        pickupCode: next.pickupCode,
        promisedAt: next.promisedAt,
        temperatureClass: next.temperatureClass,
        itemsSummary: next.items.summary,
      }),
    );
  }
  return accept(next, effects);
}

/** Statuses in which the kitchen may still be working on the order. */
const KITCHEN: readonly OrderStatus[] = [...POOL, "offered", "assigned", "at_store"];

function startPreparing(order: Order, ctx: TurnContext): Result {
  if (!inStatus(order, KITCHEN)) return invalid(order, "start preparing");
  if (order.prep !== "waiting") {
    return refuse("invalid_transition", `order ${order.id} is already ${order.prep}`);
  }
  const status = order.status === "accepted" ? "preparing" : order.status;
  return accept(moved(order, status, ctx, { prep: "preparing" }), [emit("preparing", {})]);
}

function markReady(order: Order, ctx: TurnContext): Result {
  if (!inStatus(order, KITCHEN)) return invalid(order, "mark ready");
  if (order.prep === "ready") return refuse("already_ready", `order ${order.id} is already ready`);
  const status = inStatus(order, POOL) ? "ready" : order.status;
  const next = moved(order, status, ctx, {
    prep: "ready",
    readyAt: ctx.now,
    readyAtSource: "actual",
  });
  return accept(next, [
    emit("ready", { readyAt: ctx.now, statedReadyAt: order.readyAt }),
    ...waitingForCourier(next),
  ]);
}

function setReadyAt(order: Order, msg: Msg<"set_ready_at">, ctx: TurnContext): Result {
  if (!inStatus(order, KITCHEN)) return invalid(order, "change the ready-at time");
  if (order.prep === "ready") return refuse("already_ready", `order ${order.id} is already ready`);
  if (msg.readyAt < order.placedAt) {
    return refuse("invalid_ready_at", "the ready-at time is before the order was placed");
  }
  const source = msg.readyAtSource ?? "stated";
  const next = moved(order, order.status, ctx, { readyAt: msg.readyAt, readyAtSource: source });
  return accept(next, [
    emit("ready_at_changed", { readyAt: msg.readyAt, previous: order.readyAt, source }),
    ...waitingForCourier(next),
  ]);
}

function offer(order: Order, msg: Msg<"offer">, ctx: TurnContext): Result {
  // The market owns offers and makes a new one only once the last has ended there: a new offer
  // while this order still shows the old one (the decline or time-out is still on its way
  // here) supersedes it; the late fact about the old one then changes nothing.
  const superseding = order.status === "offered" && order.offer !== null;
  if (!inStatus(order, POOL) && !superseding) return invalid(order, "offer");
  if (order.hold !== null) return refuse("order_held", `order ${order.id} is on hold`);
  if (msg.expiresAt <= ctx.now) {
    return refuse("invalid_offer_expiry", "an offer must expire in the future");
  }
  const seq = order.offerCount + 1;
  const next = moved(order, "offered", ctx, {
    offer: { courierId: msg.courierId, offeredAt: ctx.now, expiresAt: msg.expiresAt, seq },
    offerCount: seq,
  });
  // The market owns the offer: it told the courier and holds the offer's one time-out.
  return accept(next, [
    emit("offered", { courierId: msg.courierId, expiresAt: msg.expiresAt, offerSeq: seq }),
  ]);
}

/** The order given to `courierId` (from the pool or an open offer), and everyone told. */
function giveTo(
  order: Order,
  courierId: string,
  ctx: TurnContext,
  via: "offer" | "assign" | "dispatcher",
  patch: Partial<Order> = {},
): Result {
  const next = moved(order, "assigned", ctx, { ...patch, courierId, offer: null });
  // An open offer to another courier is withdrawn by the market on `order_assigned`.
  return accept(next, [
    emit("assigned", { courierId, via, locked: next.lock !== null }),
    ...assignedEffects(next, courierId),
  ]);
}

function acceptOffer(order: Order, ctx: TurnContext): Result {
  const open = order.offer;
  if (order.status !== "offered" || open === null) return invalid(order, "accept an offer");
  if (ctx.now >= open.expiresAt) {
    return refuse("offer_expired", `the offer of order ${order.id} has expired`);
  }
  return giveTo(order, open.courierId, ctx, "offer");
}

/** The open offer ends without an assignment; the order waits for a courier again. */
function offerEnded(order: Order, ctx: TurnContext, event: Effect, extra: readonly Effect[]) {
  const next = moved(order, poolStatus(order.prep), ctx, { offer: null });
  return accept(next, [...extra, event, ...waitingForCourier(next)]);
}

function declineOffer(order: Order, msg: Msg<"decline_offer">, ctx: TurnContext): Result {
  if (order.status !== "offered" || order.offer === null) return invalid(order, "decline an offer");
  const reason = msg.reason ?? "other";
  const courierId = order.offer.courierId;
  const event = emit("offer_declined", { courierId, reason, offerSeq: order.offer.seq });
  // Declined here, not through the courier actor: the market takes the offer back there.
  return offerEnded(order, ctx, event, [
    toMarket(order, {
      type: "offer_declined",
      orderId: order.id,
      courierId,
      reason,
      via: "order",
    }),
  ]);
}

/**
 * The market's offer time-out (or withdrawal): the open offer ends if it is the one meant. A
 * fact about an offer that already ended (answered first) changes nothing.
 */
function offerEndedByMarket(
  order: Order,
  msg: Msg<"offer_expired"> | Msg<"offer_withdrawn">,
  ctx: TurnContext,
): Result {
  const open = order.offer;
  if (order.status !== "offered" || open === null || open.courierId !== msg.courierId) {
    return accept(order);
  }
  if (msg.type === "offer_expired" && open.expiresAt !== msg.expiresAt) return accept(order);
  const event =
    msg.type === "offer_expired"
      ? emit("offer_expired", { courierId: open.courierId, offerSeq: open.seq })
      : emit("offer_withdrawn", {
          courierId: open.courierId,
          offerSeq: open.seq,
          reason: msg.reason,
        });
  return offerEnded(order, ctx, event, []);
}

function assign(order: Order, msg: Msg<"assign">, ctx: TurnContext): Result {
  if (!inStatus(order, [...POOL, "offered"])) return invalid(order, "assign");
  if (order.hold !== null) return refuse("order_held", `order ${order.id} is on hold`);
  if (msg.lock && !isOperator(ctx)) {
    return refuse("forbidden", "only a dispatcher or admin may lock an assignment");
  }
  const lock = msg.lock ? { reason: null, by: author(ctx), at: ctx.now } : order.lock;
  return giveTo(order, msg.courierId, ctx, "assign", { lock });
}

function reassign(order: Order, msg: Msg<"reassign">, ctx: TurnContext): Result {
  if (inStatus(order, AFTER_PICKUP)) {
    return refuse("already_picked_up", `order ${order.id} was picked up; it cannot be reassigned`);
  }
  if (!inStatus(order, ["offered", ...WITH_COURIER])) return invalid(order, "reassign");
  if (order.lock !== null && !isOperator(ctx)) {
    return refuse("assignment_locked", `order ${order.id} is locked by a dispatcher`);
  }
  const previous = order.offer?.courierId ?? order.courierId;
  if (previous === null) return invalid(order, "reassign");
  if (msg.courierId === previous) {
    return refuse("same_courier", `order ${order.id} is already with courier ${previous}`);
  }
  const wasAssigned = order.offer === null;
  // An open offer is the market's to take back: on `order_assigned` when it goes to another
  // courier, or on `withdraw_offer` when it goes back to the pool.
  const released: readonly Effect[] = wasAssigned
    ? [toCourier(previous, { type: "job_released", orderId: order.id, reason: "reassigned" })]
    : msg.courierId === undefined
      ? [
          toMarket(order, {
            type: "withdraw_offer",
            orderId: order.id,
            courierId: previous,
            reason: "reassigned",
          }),
        ]
      : [];
  const event = emit("reassigned", {
    previousCourierId: previous,
    courierId: msg.courierId ?? null,
    reason: msg.reason,
  });
  if (msg.courierId !== undefined) {
    const next = moved(
      order,
      "assigned",
      ctx,
      { courierId: msg.courierId, offer: null, lock: null },
      true,
    );
    return accept(next, [...released, event, ...assignedEffects(next, msg.courierId)]);
  }
  const next = moved(order, poolStatus(order.prep), ctx, {
    courierId: null,
    offer: null,
    lock: null,
  });
  const effects: Effect[] = [...released, event, ...waitingForCourier(next)];
  if (wasAssigned) {
    effects.push(toStore(next, { type: "courier_assigned", orderId: next.id, courierId: null }));
  }
  return accept(next, effects);
}

function hold(order: Order, msg: Msg<"hold">, ctx: TurnContext): Result {
  if (!inStatus(order, ["created", ...POOL, "offered"])) {
    return refuse(
      "invalid_transition",
      `cannot hold order ${order.id} while it is ${order.status}; reassign it first`,
    );
  }
  if (order.hold !== null) return refuse("already_held", `order ${order.id} is already on hold`);
  const status = order.status === "offered" ? poolStatus(order.prep) : order.status;
  const next = moved(order, status, ctx, {
    hold: { reason: msg.reason, by: author(ctx), at: ctx.now },
    offer: null,
  });
  // The market marks it held and withdraws an open offer from its courier.
  return accept(next, [
    emit("held", { reason: msg.reason }),
    ...toMarketIfQueued(order, { type: "order_held", orderId: order.id }),
  ]);
}

function releaseHold(order: Order, ctx: TurnContext): Result {
  if (!inStatus(order, ["created", ...POOL])) return invalid(order, "release a hold");
  if (order.hold === null) return refuse("not_held", `order ${order.id} is not on hold`);
  const next = moved(order, order.status, ctx, { hold: null });
  return accept(next, [
    emit("hold_released", { heldSince: order.hold.at }),
    ...toMarketIfQueued(order, { type: "order_released", orderId: order.id }),
    ...waitingForCourier(next),
  ]);
}

function lock(order: Order, msg: Msg<"lock">, ctx: TurnContext): Result {
  if (!inStatus(order, [...WITH_COURIER, ...CARRYING])) {
    return refuse("no_assignment", `order ${order.id} has no assignment to lock`);
  }
  if (order.lock !== null) return refuse("already_locked", `order ${order.id} is already locked`);
  const next = moved(order, order.status, ctx, {
    lock: { reason: msg.reason ?? null, by: author(ctx), at: ctx.now },
  });
  return accept(next, [emit("locked", { courierId: order.courierId, reason: msg.reason ?? null })]);
}

function unlock(order: Order, ctx: TurnContext): Result {
  if (!inStatus(order, [...WITH_COURIER, ...CARRYING])) return invalid(order, "unlock");
  if (order.lock === null) return refuse("not_locked", `order ${order.id} is not locked`);
  const next = moved(order, order.status, ctx, { lock: null });
  return accept(next, [emit("unlocked", { courierId: order.courierId })]);
}

function arriveAtStore(order: Order, ctx: TurnContext): Result {
  if (order.status !== "assigned") return invalid(order, "arrive at the store");
  const next = moved(order, "at_store", ctx);
  return accept(next, [emit("courier_arrived_at_store", { courierId: order.courierId })]);
}

function pickUp(order: Order, msg: Msg<"pick_up">, ctx: TurnContext): Result {
  if (!inStatus(order, WITH_COURIER)) {
    if (inStatus(order, ["created", ...POOL, "offered"])) {
      return refuse("no_courier_assigned", `order ${order.id} has no courier to hand it to`);
    }
    return invalid(order, "pick up");
  }
  const courierId = order.courierId;
  if (courierId === null) return invalid(order, "pick up");
  const claimed = checkClaimedCourier(order, "assigned", msg.courierId);
  if (claimed) return claimed;
  if (msg.pickupCode === undefined) {
    if (!isOperator(ctx)) {
      return refuse("pickup_code_required", "the courier's pickup code is required");
    }
  } else if (msg.pickupCode !== order.pickupCode) {
    return refuse("wrong_pickup_code", `wrong pickup code for order ${order.id}`);
  }
  const wasReady = order.prep === "ready";
  const coldChain: ColdChain | null =
    msg.vehicleId !== undefined && msg.compartmentId !== undefined
      ? {
          vehicleId: msg.vehicleId,
          compartmentId: msg.compartmentId,
          loadedAt: ctx.now,
          excursions: [],
        }
      : null;
  const next = moved(order, "picked_up", ctx, {
    prep: "ready",
    readyAt: wasReady ? order.readyAt : ctx.now,
    readyAtSource: wasReady ? order.readyAtSource : "actual",
    pickedUpAt: ctx.now,
    coldChain,
  });
  const effects: Effect[] = [
    emit("picked_up", {
      courierId,
      override: msg.pickupCode === undefined,
      vehicleId: coldChain?.vehicleId ?? null,
      compartmentId: coldChain?.compartmentId ?? null,
    }),
    toCourier(courierId, { type: "complete_stop", orderId: next.id, kind: "pickup" }),
    toMarket(next, { type: "order_picked_up", orderId: next.id, courierId }),
  ];
  if (ctx.origin !== "actor") {
    effects.push(toStore(next, { type: "order_closed", orderId: next.id, reason: "picked_up" }));
  }
  return accept(next, effects);
}

function arriveAtCustomer(order: Order, ctx: TurnContext): Result {
  if (order.status !== "picked_up") return invalid(order, "arrive at the customer");
  const next = moved(order, "at_customer", ctx);
  return accept(next, [emit("courier_arrived_at_customer", { courierId: order.courierId })]);
}

function deliver(order: Order, msg: Msg<"deliver">, ctx: TurnContext): Result {
  if (!inStatus(order, CARRYING) || order.courierId === null) return invalid(order, "deliver");
  const claimed = checkClaimedCourier(order, "assigned", msg.courierId);
  if (claimed) return claimed;
  if (msg.photoRef === undefined && msg.pin === undefined) {
    return refuse("proof_required", "a delivery needs a photo reference or the shopper's PIN");
  }
  if (msg.pin !== undefined && msg.pin !== order.deliveryPin) {
    return refuse("wrong_delivery_pin", `wrong delivery PIN for order ${order.id}`);
  }
  const proof = { photoRef: msg.photoRef ?? null, pinVerified: msg.pin !== undefined };
  const next = moved(order, "delivered", ctx, { deliveredAt: ctx.now, proof });
  const effects: Effect[] = [
    // What a cold-chain certificate needs comes with the event: class, pickup, compartment and
    // its excursions, so the certificate service need not ask the order.
    emit("delivered", {
      courierId: order.courierId,
      onTime: ctx.now <= order.promisedAt,
      lateByMs: Math.max(0, ctx.now - order.promisedAt),
      photo: proof.photoRef !== null,
      pinVerified: proof.pinVerified,
      temperatureClass: order.temperatureClass,
      pickedUpAt: order.pickedUpAt,
      coldChain: order.coldChain,
    }),
  ];
  effects.push(
    toCourier(order.courierId, { type: "complete_stop", orderId: next.id, kind: "dropoff" }),
    toMarket(next, {
      type: "order_finished",
      orderId: next.id,
      courierId: order.courierId,
      outcome: "delivered",
    }),
    ...unloadFromVehicle(order),
  );
  return accept(next, effects);
}

function failDelivery(order: Order, msg: Msg<"fail_delivery">, ctx: TurnContext): Result {
  if (!inStatus(order, CARRYING) || order.courierId === null) {
    return invalid(order, "fail the delivery");
  }
  const claimed = checkClaimedCourier(order, "assigned", msg.courierId);
  if (claimed) return claimed;
  const note = msg.note ?? null;
  const next = moved(order, "delivery_failed", ctx, {
    failure: { reason: msg.reason, note, at: ctx.now },
  });
  // The courier keeps the job (and the goods) until the store confirms the return.
  return accept(next, [
    emit("delivery_failed", { courierId: order.courierId, reason: msg.reason, note }),
  ]);
}

function markReturned(order: Order, msg: Msg<"mark_returned">, ctx: TurnContext): Result {
  if (order.status !== "delivery_failed") return invalid(order, "mark returned");
  const next = moved(order, "returned", ctx);
  const effects: Effect[] = [
    emit("returned", { reason: order.failure?.reason ?? null, note: msg.note ?? null }),
    ...unloadFromVehicle(order),
  ];
  if (order.courierId !== null) {
    effects.push(
      toCourier(order.courierId, {
        type: "job_released",
        orderId: next.id,
        reason: "returned_to_store",
      }),
      toMarket(next, {
        type: "order_finished",
        orderId: next.id,
        courierId: order.courierId,
        outcome: "returned",
      }),
    );
  }
  return accept(next, effects);
}

function cancel(order: Order, msg: Msg<"cancel">, ctx: TurnContext): Result {
  if (order.status === "cancelled") {
    return refuse("already_cancelled", `order ${order.id} is already cancelled`);
  }
  if (inStatus(order, AFTER_PICKUP)) {
    return refuse("already_picked_up", `order ${order.id} was picked up; it cannot be cancelled`);
  }
  const note = msg.note ?? null;
  const next = moved(order, "cancelled", ctx, {
    offer: null,
    cancellation: { reason: msg.reason, note, by: author(ctx), at: ctx.now },
  });
  // An open offer is withdrawn by the market on `order_cancelled`.
  const effects: Effect[] = [
    emit("cancelled", {
      reason: msg.reason,
      note,
      stage: order.status,
      by: ctx.by?.role ?? ctx.origin,
    }),
  ];
  if (inStatus(order, WITH_COURIER) && order.courierId !== null) {
    effects.push(
      toCourier(order.courierId, { type: "job_released", orderId: order.id, reason: "cancelled" }),
    );
  }
  if (order.wave !== null) {
    effects.push(sendTo("wave", order.wave.waveId, { type: "leave", orderId: order.id }));
  } else if (order.acceptedAt !== null) {
    effects.push(toMarket(next, { type: "order_cancelled", orderId: next.id }));
  }
  effects.push(toStore(next, { type: "order_closed", orderId: next.id, reason: "cancelled" }));
  return accept(next, effects);
}

// ---- facts from the courier and market actors ----

/** Courier actors, or the system / a dispatcher replaying them. A courier speaks for itself only. */
function authorizeCourierFact(ctx: TurnContext, courierId: string): Result | null {
  const by = ctx.by;
  if (ctx.origin === "timer") return refuse("forbidden", "a timer may not send this message");
  if (by === undefined) {
    return ctx.origin === "actor" ? null : refuse("forbidden", "only courier actors send this");
  }
  if (by.role === "system" || by.role === "dispatcher" || by.role === "admin") return null;
  if (by.role === "courier" && ctx.origin === "actor" && by.id === courierId) return null;
  return refuse("forbidden", "only courier actors send this message");
}

function courierAccepted(order: Order, msg: Msg<"courier_accepted">, ctx: TurnContext): Result {
  if (inStatus(order, [...WITH_COURIER, ...CARRYING]) && order.courierId === msg.courierId) {
    return accept(order); // a repeat: the job is already this courier's
  }
  const offeredToIt = order.status === "offered" && order.offer?.courierId === msg.courierId;
  const late = offeredToIt && ctx.now >= order.offer!.expiresAt;
  const inPool = inStatus(order, POOL) && order.hold === null;
  if ((offeredToIt && !late) || inPool) return giveTo(order, msg.courierId, ctx, "offer");
  // Cannot honour it: tell the courier, so it frees the capacity it reserved.
  const why = late
    ? "offer_expired"
    : order.hold !== null
      ? "order_held"
      : order.status === "offered" || inStatus(order, [...WITH_COURIER, ...CARRYING])
        ? "order_taken"
        : `order_${order.status}`;
  return accept(order, [
    emit("courier_turned_away", { courierId: msg.courierId, reason: why }),
    toCourier(msg.courierId, { type: "job_released", orderId: order.id, reason: why }),
  ]);
}

function courierDeclined(order: Order, msg: Msg<"courier_declined">, ctx: TurnContext): Result {
  if (order.status !== "offered" || order.offer?.courierId !== msg.courierId) return accept(order);
  const event = emit("offer_declined", {
    courierId: msg.courierId,
    reason: msg.reason,
    offerSeq: order.offer.seq,
  });
  // The courier actor told the market itself.
  return offerEnded(order, ctx, event, []);
}

function courierReleased(order: Order, msg: Msg<"courier_released">, ctx: TurnContext): Result {
  if (
    order.courierId !== msg.courierId ||
    !inStatus(order, [...WITH_COURIER, ...CARRYING, "delivery_failed"])
  ) {
    return accept(order); // not (or no longer) this courier's job
  }
  if (!inStatus(order, WITH_COURIER)) {
    return refuse("already_picked_up", `courier ${msg.courierId} carries order ${order.id}`);
  }
  const next = moved(order, poolStatus(order.prep), ctx, { courierId: null, lock: null });
  return accept(next, [
    emit("courier_released", { courierId: msg.courierId, reason: msg.reason }),
    ...waitingForCourier(next),
    toStore(next, { type: "courier_assigned", orderId: next.id, courierId: null }),
  ]);
}

function dispatcherAssigned(
  order: Order,
  msg: Msg<"dispatcher_assigned">,
  ctx: TurnContext,
): Result {
  if (msg.by.role !== "dispatcher" && msg.by.role !== "admin") {
    return refuse("forbidden", "only a dispatcher or admin force-assigns");
  }
  // The override is the dispatcher's: it wins over a hold and a lock, and is audited as theirs.
  const asDispatcher: TurnContext = { ...ctx, by: msg.by };
  if (inStatus(order, WITH_COURIER)) {
    if (order.courierId === msg.courierId) {
      return accept(order, [
        toMarket(order, { type: "order_assigned", orderId: order.id, courierId: msg.courierId }),
      ]);
    }
    return reassign(
      order,
      { type: "reassign", reason: msg.reason, courierId: msg.courierId },
      asDispatcher,
    );
  }
  if (inStatus(order, AFTER_PICKUP)) {
    return refuse("already_picked_up", `order ${order.id} was picked up; it cannot be reassigned`);
  }
  if (!inStatus(order, [...POOL, "offered"])) return invalid(order, "assign");
  return giveTo(order, msg.courierId, asDispatcher, "dispatcher", { hold: null });
}

// ---- facts from the vehicle actor ----

type ExcursionNotice = Msg<"cold_chain_excursion"> | Msg<"cold_chain_excursion_ended">;
type InVan = Order & { readonly coldChain: ColdChain };

/** Whether the notice is about the compartment the order is in now. */
function isInCompartment(order: Order, msg: ExcursionNotice): order is InVan {
  return (
    order.coldChain !== null &&
    order.coldChain.vehicleId === msg.vehicleId &&
    order.coldChain.compartmentId === msg.compartmentId &&
    inStatus(order, IN_TRANSIT)
  );
}

function coldChainExcursion(
  order: Order,
  msg: Msg<"cold_chain_excursion">,
  ctx: TurnContext,
): Result {
  // Not (or no longer) in that compartment: the notice crossed an unload in flight.
  if (!isInCompartment(order, msg)) return accept(order);
  const chain = order.coldChain;
  const repeat = chain.excursions.some((e) => e.kind === msg.kind && e.startedAt === msg.startedAt);
  if (repeat) return accept(order);
  const excursion = {
    kind: msg.kind,
    startedAt: msg.startedAt,
    detectedAt: msg.detectedAt,
    endedAt: null,
    celsius: msg.celsius,
  };
  const excursions = [...chain.excursions, excursion].slice(-EXCURSION_LIMIT);
  const next = moved(order, order.status, ctx, { coldChain: { ...chain, excursions } });
  return accept(next, [
    emit("cold_chain_excursion_marked", {
      orderId: order.id,
      vehicleId: msg.vehicleId,
      compartmentId: msg.compartmentId,
      kind: msg.kind,
      startedAt: msg.startedAt,
      detectedAt: msg.detectedAt,
      celsius: msg.celsius,
      temperatureClass: order.temperatureClass,
    }),
  ]);
}

function coldChainExcursionEnded(
  order: Order,
  msg: Msg<"cold_chain_excursion_ended">,
  ctx: TurnContext,
): Result {
  if (!isInCompartment(order, msg)) return accept(order);
  const chain = order.coldChain;
  // The vehicle has at most one open excursion of a kind per compartment: the latest open one.
  const i = chain.excursions.findLastIndex((e) => e.kind === msg.kind && e.endedAt === null);
  if (i < 0) return accept(order); // a repeat, or one that started before the order went in
  const open = chain.excursions[i]!;
  const endedAt = Math.max(msg.endedAt, open.startedAt);
  const excursions = chain.excursions.map((e, j) => (j === i ? { ...e, endedAt } : e));
  const next = moved(order, order.status, ctx, { coldChain: { ...chain, excursions } });
  return accept(next, [
    emit("cold_chain_excursion_cleared", {
      orderId: order.id,
      vehicleId: msg.vehicleId,
      compartmentId: msg.compartmentId,
      kind: msg.kind,
      startedAt: open.startedAt,
      endedAt,
      durationMs: endedAt - open.startedAt,
    }),
  ]);
}

// ---- the logic ----

function rule(msg: OrderMessage): Rule {
  switch (msg.type) {
    case "accept":
    case "start_preparing":
    case "mark_ready":
    case "set_ready_at":
    case "pick_up":
    case "mark_returned":
      return STORE_SIDE;
    case "cancel":
      return { store: true, shopper: true, actor: true };
    case "offer":
    case "assign":
    case "reassign":
    case "dispatcher_assigned":
      return { actor: true };
    case "accept_offer":
    case "decline_offer":
      return { courier: "offered", actor: true };
    case "offer_expired":
    case "offer_withdrawn":
      return { actor: true, operator: false }; // facts from the market, which owns offers
    case "hold":
    case "release_hold":
    case "lock":
    case "unlock":
    case "create": // checked in `create`: there is no order yet to check against
      return {};
    case "reveal_contact":
      return { operator: true }; // narrowed to admins in `revealContact`
    case "arrive_at_store":
    case "arrive_at_customer":
    case "deliver":
    case "fail_delivery":
      return { courier: "assigned", actor: true };
    case "courier_accepted":
    case "courier_declined":
    case "courier_released":
      return {}; // checked in `authorizeCourierFact`
    case "cold_chain_excursion":
    case "cold_chain_excursion_ended":
      return {}; // checked in `transition`: from the vehicle actor only
    case "wave_on_van":
    case "wave_at_pickup_point":
    case "wave_collected":
      return { actor: true, operator: false }; // facts from the wave actor
  }
}

function transition(state: OrderState, msg: OrderMessage, ctx: TurnContext): Result {
  if (msg.type === "create") return create(state, msg, ctx);
  if (state.status === "none") return refuse("unknown_order", `order ${state.id} does not exist`);
  const order = state;
  switch (msg.type) {
    case "courier_accepted":
    case "courier_declined":
    case "courier_released": {
      const denied = authorizeCourierFact(ctx, msg.courierId);
      if (denied) return denied;
      if (msg.type === "courier_accepted") return courierAccepted(order, msg, ctx);
      if (msg.type === "courier_declined") return courierDeclined(order, msg, ctx);
      return courierReleased(order, msg, ctx);
    }
    case "cold_chain_excursion":
    case "cold_chain_excursion_ended":
      // Facts only the vehicle actor knows: never from a client, whatever its role.
      if (ctx.origin !== "actor") {
        return refuse("forbidden", "only the vehicle actor sends cold-chain notices");
      }
      return msg.type === "cold_chain_excursion"
        ? coldChainExcursion(order, msg, ctx)
        : coldChainExcursionEnded(order, msg, ctx);
    default:
      break;
  }
  const denied = authorize(order, ctx, rule(msg));
  if (denied) return denied;
  switch (msg.type) {
    case "accept":
      return acceptOrder(order, msg, ctx);
    case "start_preparing":
      return startPreparing(order, ctx);
    case "mark_ready":
      return markReady(order, ctx);
    case "set_ready_at":
      return setReadyAt(order, msg, ctx);
    case "offer":
      return offer(order, msg, ctx);
    case "accept_offer":
      return checkClaimedCourier(order, "offered", msg.courierId) ?? acceptOffer(order, ctx);
    case "decline_offer":
      return checkClaimedCourier(order, "offered", msg.courierId) ?? declineOffer(order, msg, ctx);
    case "offer_expired":
    case "offer_withdrawn":
      return offerEndedByMarket(order, msg, ctx);
    case "assign":
      return assign(order, msg, ctx);
    case "reassign":
      return reassign(order, msg, ctx);
    case "dispatcher_assigned":
      return dispatcherAssigned(order, msg, ctx);
    case "hold":
      return hold(order, msg, ctx);
    case "release_hold":
      return releaseHold(order, ctx);
    case "lock":
      return lock(order, msg, ctx);
    case "unlock":
      return unlock(order, ctx);
    case "arrive_at_store":
      return checkClaimedCourier(order, "assigned", msg.courierId) ?? arriveAtStore(order, ctx);
    case "pick_up":
      return pickUp(order, msg, ctx);
    case "arrive_at_customer":
      return checkClaimedCourier(order, "assigned", msg.courierId) ?? arriveAtCustomer(order, ctx);
    case "deliver":
      return deliver(order, msg, ctx);
    case "fail_delivery":
      return failDelivery(order, msg, ctx);
    case "mark_returned":
      return markReturned(order, msg, ctx);
    case "cancel":
      return cancel(order, msg, ctx);
    case "reveal_contact":
      return revealContact(order, msg, ctx);
    case "wave_on_van":
      return waveOnVan(order, msg, ctx);
    case "wave_at_pickup_point":
      return waveAtPickupPoint(order, msg, ctx);
    case "wave_collected":
      return waveCollected(order, msg, ctx);
  }
}

/**
 * The audit record of an admin reading the shopper's contact unmasked: committed before the
 * gateway decrypts, so there is no reveal without its record. Changes nothing else.
 */
function revealContact(order: Order, msg: Msg<"reveal_contact">, ctx: TurnContext): Result {
  if (ctx.by?.role !== "admin") {
    return refuse("forbidden", "only an admin may see a shopper's contact unmasked");
  }
  if (order.contact === null) {
    return refuse("no_contact", `order ${order.id} has no shopper contact`);
  }
  return accept(order, [
    emit("contact_revealed", {
      orderId: order.id,
      by: author(ctx),
      reason: msg.reason,
      fields: ["name", "phone", ...(order.contact.address !== null ? ["address"] : [])],
    }),
  ]);
}

/** What a query shows: everything but the pickup code and the delivery PIN. */
export function viewOrder(state: OrderState): OrderView {
  if (state.status === "none") return state;
  const { pickupCode, deliveryPin, ...rest } = state;
  const view = { ...rest, hasPickupCode: true as const, hasDeliveryPin: deliveryPin !== null };
  // A wave order's code is the shopper's to show at the point, once the goods are there.
  return state.wave !== null && state.status === "at_pickup_point"
    ? { ...view, collectCode: pickupCode }
    : view;
}

export const orderLogic: ActorLogic<OrderState, OrderMessage> = {
  type: "order",
  messages: OrderMessage,
  initial: (self) => ({ id: self.id, status: "none" }),
  transition,
  version: 1,
  // The state is plain JSON already (no Maps, no undefined: absent values are null).
  persist: (state) => state,
  restore: (data, version) => parsePersistedOrder(data, version),
  view: viewOrder,
};
