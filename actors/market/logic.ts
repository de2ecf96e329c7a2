/**
 * The market actor (`market/<id>`): one city area's dispatch bookkeeping, as a pure state
 * machine. It holds the open orders awaiting a courier, the couriers on shift with their last
 * position and free capacity, the pending offers (one per order), who passed on which order, and
 * the dispatcher overrides' audit trail. A durable `tick` timer runs every `tickIntervalMs`
 * while there are open orders and stops when there are none.
 *
 * Dispatch seam. Matching is not here yet (it comes with the dispatch engine, `dispatch/`).
 * What it will plug into:
 * - `dispatchInput(state, now)`: the orders dispatch may plan (open, not held, not being forced,
 *   no offer pending), the couriers it may use with capacity left after pending offers, who
 *   passed on each order, and the dispatcher locks it must respect.
 * - `makeOffer(state, orderId, courierId, now)`: records one offer and sends it to the courier,
 *   refusing what the bookkeeping forbids (held, locked to someone else, already offered, no
 *   capacity or no free slot of the order's temperature class, passed on it before). Dispatch's
 *   `tick` step will call it for each assignment of its plan, right after the bookkeeping in
 *   `tick` (see the DISPATCH SEAM comment there).
 *
 * Offers are the market's: each has one durable timer `offer:<orderId>` (delivering
 * `offer_timeout`), cancelled whenever the offer ends otherwise. The order and the courier only
 * record the deadline.
 *
 * Commands this actor sends:
 *   to `courier/<courierId>`: offer { orderId, marketId, expiresAt, temperatureClass, storeId,
 *     pickup, dropoff? } (from makeOffer); offer_expired { orderId } when its timer fires;
 *     offer_withdrawn { orderId, reason } when an order with a pending offer is cancelled,
 *     held, locked or forced to another courier, assigned to another courier, withdrawn by the
 *     order (`withdraw_offer`) or declined at the order (`offer_declined` via "order").
 *   to `order/<orderId>`: offer { courierId, expiresAt } (from makeOffer); offer_expired
 *     { courierId, expiresAt } when its timer fires; offer_withdrawn { courierId, reason } when
 *     a dispatcher lock takes the offer from its courier; hold / release_hold forwarded from a
 *     dispatcher (the order owns holds and confirms with order_held / order_released);
 *     dispatcher_assigned { courierId, marketId, by, reason, at } on `force_assign`: the order
 *     actor gives the job to that courier without an offer and then reports `order_assigned`.
 * Commands it expects: order_ready/order_assigned/order_cancelled/order_held/order_released/
 * order_picked_up/order_finished/withdraw_offer/offer_declined from the order actor;
 * courier_available/courier_unavailable/courier_position/offer_declined from courier actors;
 * configure, offer and the overrides from dispatchers; tick and offer_timeout from its timers.
 * See actors/CONTRACT.md.
 *
 * Decisions:
 * - Facts reported by other actors (an assignment, a cancellation, a decline, a position) about
 *   an order or courier the market does not hold are accepted and change nothing: they already
 *   happened, and a refusal would only be noise in the logs.
 * - The courier's `courier_available` is the truth about its capacity; the market never
 *   decrements it on `order_assigned` (the courier sends its new capacity itself).
 * - `release` undoes both a hold (through the order) and a lock. Overrides need a reason and
 *   are audited. An assigned order is tracked (`assigned`) until it is finished, so dispatch
 *   can plan around it and a force-assignment of a picked-up order is refused here.
 */
import type { ActorLogic, Effect, Principal, TurnContext, TurnResult } from "../types.ts";
import { accept, emit, refuse } from "../logic.ts";
import { MarketMessage } from "../../protocol/actors/market.ts";
import type { CourierMessage } from "../../protocol/actors/courier.ts";
import type { OrderMessage } from "../../protocol/actors/order.ts";
import type { WithdrawReason } from "../../protocol/actors/offers.ts";
import { MarketState } from "./types.ts";
import type {
  AssignedOrder,
  AuditEntry,
  AvailableCourier,
  OpenOrder,
  OverrideAction,
} from "./types.ts";
import { DispatchMemo, planDispatch, RELIEF_EVERY_MS } from "../../dispatch/index.ts";
import { DEFAULT_SPEEDS, haversine } from "../../geo/index.ts";
// The budget's own file: coldchain/index.ts is the certificates' (signing keys, files).
import { consumptionRate, remainingSafeMs, safeUntil } from "../../coldchain/budget.ts";
import type {
  CarriedOrder,
  DispatchInput as EngineInput,
  DispatchCourier as EngineCourier,
} from "../../dispatch/index.ts";

export const DEFAULT_TICK_INTERVAL_MS = 2_000;
export const DEFAULT_OFFER_TIMEOUT_MS = 30_000;
/** Of the engine's courier index: cells of ~0.7 km², a few couriers each in a busy city. */
export const DEFAULT_H3_RESOLUTION = 8;
export const DEFAULT_MIN_PLAN_GAP_MS = 250;
/** An unstarted order whose courier would reach the store this late after ready is re-planned. */
export const BEHIND_LIMIT_MS = 20 * 60_000;
/** Audit entries kept in the actor; the projector writes every one to Postgres. */
export const AUDIT_LIMIT = 200;
export const TICK_TIMER = "tick";

/** The durable timer that ends the pending offer of one order: the only offer time-out. */
export function offerTimer(orderId: string): string {
  return `offer:${orderId}`;
}

type Msg<T extends MarketMessage["type"]> = Extract<MarketMessage, { type: T }>;
type Result = TurnResult<MarketState>;

// ---------------------------------------------------------------- helpers

function without<V>(record: Record<string, V>, key: string): Record<string, V> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

function send(type: string, id: string, msg: { type: string } & Record<string, unknown>): Effect {
  return { kind: "send", command: { to: { type, id }, msg } };
}

function toCourier(courierId: string, msg: CourierMessage): Effect {
  return send("courier", courierId, msg);
}

function toOrder(orderId: string, msg: OrderMessage): Effect {
  return send("order", orderId, msg);
}

/**
 * Drops the pending offer on `orderId` and its timer, telling its courier unless it is
 * `keepFor` (who gets the order anyway). `tellOrder`: the order did not cause this, so it must
 * hear that its offer ended.
 */
function dropOffer(
  state: MarketState,
  orderId: string,
  reason: WithdrawReason,
  keepFor: string | null = null,
  tellOrder = false,
): { state: MarketState; effects: Effect[] } {
  const offer = state.offers[orderId];
  if (offer === undefined) return { state, effects: [] };
  const effects: Effect[] = [{ kind: "cancel", timer: offerTimer(orderId) }];
  if (offer.courierId !== keepFor) {
    effects.push(toCourier(offer.courierId, { type: "offer_withdrawn", orderId, reason }));
    if (tellOrder) {
      effects.push(
        toOrder(orderId, { type: "offer_withdrawn", courierId: offer.courierId, reason }),
      );
    }
  }
  return { state: { ...state, offers: without(state.offers, orderId) }, effects };
}

/** Forgets an order entirely (finished or cancelled). */
function removeOrder(state: MarketState, orderId: string): MarketState {
  return {
    ...state,
    orders: without(state.orders, orderId),
    assigned: without(state.assigned, orderId),
    passedBy: without(state.passedBy, orderId),
    alerted: without(state.alerted, orderId),
  };
}

/**
 * Starts the tick when there is work (open orders, or unstarted ones dispatch may still have to
 * take from a courier fallen behind), stops it when there is none.
 */
function tickEffects(state: MarketState, now: number): { state: MarketState; effects: Effect[] } {
  const busy =
    Object.keys(state.orders).length > 0 ||
    (state.config.autoDispatch && Object.values(state.assigned).some((a) => !a.pickedUp));
  if (busy && state.tickDueAt === null) {
    const at = now + state.config.tickIntervalMs;
    return {
      state: { ...state, tickDueAt: at },
      effects: [{ kind: "schedule", timer: TICK_TIMER, at, msg: { type: "tick" } }],
    };
  }
  if (!busy && state.tickDueAt !== null) {
    return {
      state: { ...state, tickDueAt: null },
      effects: [{ kind: "cancel", timer: TICK_TIMER }],
    };
  }
  return { state, effects: [] };
}

function recordPass(state: MarketState, orderId: string, courierId: string): MarketState {
  if (state.orders[orderId] === undefined) return state;
  const passed = state.passedBy[orderId] ?? [];
  if (passed.includes(courierId)) return state;
  return { ...state, passedBy: { ...state.passedBy, [orderId]: [...passed, courierId] } };
}

function audit(
  state: MarketState,
  ctx: TurnContext,
  by: Principal,
  action: OverrideAction,
  orderId: string,
  courierId: string | null,
  reason: string,
): { state: MarketState; entry: AuditEntry } {
  const entry: AuditEntry = {
    at: ctx.now,
    commandId: ctx.commandId,
    by: { role: by.role, id: by.id },
    action,
    orderId,
    courierId,
    reason,
  };
  const trail = [...state.audit, entry];
  return { state: { ...state, audit: trail.slice(-AUDIT_LIMIT) }, entry };
}

function unknownOrder(orderId: string): Result {
  return refuse("unknown_order", `order ${orderId} is not open in this market`);
}

// ---------------------------------------------------------------- dispatch seam

export interface DispatchCourier extends AvailableCourier {
  /** Orders the courier can still be offered: free capacity minus offers pending with them. */
  capacityLeft: number;
}

export interface DispatchInput {
  readonly now: number;
  /** Open orders dispatch may plan: not held, not being forced, no offer pending. */
  readonly orders: readonly OpenOrder[];
  /** Couriers with capacity left. */
  readonly couriers: readonly DispatchCourier[];
  /** Per order, couriers who declined it or let it expire: do not offer it to them again. */
  readonly passedBy: Readonly<Record<string, readonly string[]>>;
  /** Per order, the only courier it may go to (dispatcher locks). */
  readonly locks: Readonly<Record<string, string>>;
  readonly offerTimeoutMs: number;
  readonly h3Resolution: number;
}

function offersPendingWith(state: MarketState, courierId: string): number {
  return Object.values(state.offers).filter((o) => o.courierId === courierId).length;
}

/** What dispatch sees on a tick. Pure; ordered by id so equal states give equal inputs. */
export function dispatchInput(state: MarketState, now: number): DispatchInput {
  const orders = Object.values(state.orders)
    .filter((o) => !o.held && o.forcedTo === null && state.offers[o.orderId] === undefined)
    .sort((a, b) => (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0));
  const couriers = Object.values(state.couriers)
    .map((c) => ({ ...c, capacityLeft: c.freeCapacity - offersPendingWith(state, c.courierId) }))
    .filter((c) => c.capacityLeft > 0)
    .sort((a, b) => (a.courierId < b.courierId ? -1 : a.courierId > b.courierId ? 1 : 0));
  const locks: Record<string, string> = {};
  for (const o of orders) if (o.lockedTo !== null) locks[o.orderId] = o.lockedTo;
  return {
    now,
    orders,
    couriers,
    passedBy: state.passedBy,
    locks,
    offerTimeoutMs: state.config.offerTimeoutMs,
    h3Resolution: state.config.h3Resolution,
  };
}

/**
 * Records an offer of `orderId` to `courierId`, expiring after the configured time-out, and
 * sends it to the courier. Dispatch calls this for each assignment it decides.
 */
export function makeOffer(
  state: MarketState,
  orderId: string,
  courierId: string,
  now: number,
): Result {
  const order = state.orders[orderId];
  if (order === undefined) return unknownOrder(orderId);
  if (order.held) return refuse("order_held", `order ${orderId} is held by a dispatcher`);
  if (order.forcedTo !== null) {
    return refuse("order_forced", `order ${orderId} is being forced to courier ${order.forcedTo}`);
  }
  if (order.lockedTo !== null && order.lockedTo !== courierId) {
    return refuse("order_locked", `order ${orderId} is locked to courier ${order.lockedTo}`);
  }
  if (state.offers[orderId] !== undefined) {
    return refuse("offer_pending", `order ${orderId} already has an offer pending`);
  }
  const courier = state.couriers[courierId];
  if (courier === undefined) {
    return refuse("unknown_courier", `courier ${courierId} is not available in this market`);
  }
  if ((state.passedBy[orderId] ?? []).includes(courierId)) {
    return refuse("already_passed", `courier ${courierId} already passed on order ${orderId}`);
  }
  if (courier.freeCapacity - offersPendingWith(state, courierId) <= 0) {
    return refuse("over_capacity", `courier ${courierId} has no capacity left`);
  }
  if (courier.freeSlots !== null) {
    const cls = order.temperatureClass;
    const pendingOfClass = Object.values(state.offers).filter(
      (o) => o.courierId === courierId && state.orders[o.orderId]?.temperatureClass === cls,
    ).length;
    if (courier.freeSlots[cls] - pendingOfClass <= 0) {
      return refuse("over_capacity", `courier ${courierId} has no free ${cls} slot`);
    }
  }
  const expiresAt = now + state.config.offerTimeoutMs;
  const offer = { orderId, courierId, offeredAt: now, expiresAt };
  const msg: CourierMessage = {
    type: "offer",
    orderId,
    marketId: state.id,
    expiresAt,
    temperatureClass: order.temperatureClass,
    storeId: order.storeId,
    pickup: order.pickup,
    ...(order.dropoff === null ? {} : { dropoff: order.dropoff }),
  };
  // One durable timer per offer, here: the order and the courier only record the deadline.
  return accept({ ...state, offers: { ...state.offers, [orderId]: offer } }, [
    emit("offer_made", offer),
    toCourier(courierId, msg),
    toOrder(orderId, { type: "offer", courierId, expiresAt }),
    {
      kind: "schedule",
      timer: offerTimer(orderId),
      at: expiresAt,
      msg: { type: "offer_timeout", orderId, courierId, expiresAt },
    },
  ]);
}

// ---------------------------------------------------------------- dispatch

type Step = { state: MarketState; effects: Effect[] };

/** A command on the market's own authority (see `OutboundCommand.asSelf`). */
function asSelf(effect: Effect): Effect {
  return effect.kind === "send"
    ? { ...effect, command: { ...effect.command, asSelf: true } }
    : effect;
}

function none(state: MarketState): Step {
  return { state, effects: [] };
}

/**
 * One market's engine memo per process (the couriers' H3 index, moved between plans instead of
 * rebuilt). Only a cache: a plan with or without it is the same plan. At most MEMOS markets.
 */
const memos = new Map<string, DispatchMemo>();
const MEMOS = 256;

function memoFor(marketId: string): DispatchMemo {
  let memo = memos.get(marketId);
  if (memo === undefined) {
    if (memos.size >= MEMOS) memos.delete(memos.keys().next().value!);
    memo = new DispatchMemo();
  } else {
    memos.delete(marketId);
  }
  memos.set(marketId, memo);
  return memo;
}

/**
 * The thermal budget of an order's goods for the engine. Until the hand-off they are in the
 * store's refrigeration: nothing is spent, and the whole bag budget of their class is the
 * longest they may take from pickup to the door on a courier without compartments (`safeMs`).
 * Once picked up into a bag, the budget runs from `pickedUpAt`, so the door has a deadline
 * (`safeUntil`). In a van's compartment it does not run: the market hears no compartment
 * readings (the vehicle actor watches them and raises excursions), so it counts it in range.
 */
function thermalOf(
  order: Pick<AssignedOrder, "temperatureClass" | "pickedUp" | "pickedUpAt" | "since">,
  inVan: boolean,
  now: number,
  warm: readonly { temperatureClass: string; since: number; celsius: number | null }[] = [],
): { safeMs: number; safeUntil: number } {
  const cls = order.temperatureClass;
  if (!order.pickedUp) {
    return { safeMs: remainingSafeMs({ class: cls, spentMs: 0 }), safeUntil: Infinity };
  }
  if (inVan) {
    // In a compartment that is keeping its range nothing is spent; in one that went warm (or
    // silent) the goods spend from the excursion's start, faster the warmer it is.
    const w = warm.find((x) => x.temperatureClass === cls);
    if (w === undefined) return { safeMs: Infinity, safeUntil: Infinity };
    const carrier = { compartmentCelsius: w.celsius, inRange: false };
    const spentMs = Math.max(0, now - w.since) * consumptionRate(cls, carrier);
    return { safeMs: Infinity, safeUntil: safeUntil({ now, class: cls, spentMs, carrier }) };
  }
  const spentMs = Math.max(0, now - (order.pickedUpAt ?? order.since));
  return { safeMs: Infinity, safeUntil: safeUntil({ now, class: cls, spentMs, carrier: "bag" }) };
}

/** What the engine needs from the market's bookkeeping: plannable orders and couriers. */
export function engineInput(state: MarketState, now: number): EngineInput {
  const base = dispatchInput(state, now);
  const carrying = new Map<string, CarriedOrder[]>();
  const add = (courierId: string, order: CarriedOrder) => {
    const list = carrying.get(courierId) ?? [];
    list.push(order);
    carrying.set(courierId, list);
  };
  const inVan = (courierId: string) => (state.couriers[courierId]?.freeSlots ?? null) !== null;
  const warmOf = (courierId: string) => {
    const vehicleId = state.couriers[courierId]?.vehicleId;
    return vehicleId ? (state.warmVehicles[vehicleId] ?? []) : [];
  };
  const assigned = Object.values(state.assigned).sort((a, b) => a.since - b.since);
  for (const a of assigned) {
    add(a.courierId, {
      ...a,
      locked: a.locked,
      ...thermalOf(a, inVan(a.courierId), now, warmOf(a.courierId)),
    });
  }
  // Pending offers are work the courier may take: plan around them too.
  for (const offer of Object.values(state.offers).sort((a, b) => a.offeredAt - b.offeredAt)) {
    const o = state.orders[offer.orderId];
    if (o === undefined) continue;
    add(offer.courierId, {
      ...o,
      pickedUp: false,
      locked: o.lockedTo !== null,
      offered: true,
      safeMs: remainingSafeMs({ class: o.temperatureClass, spentMs: 0 }),
    });
  }
  // Every courier, full ones too: dispatch may still take an unstarted job from one of them.
  const everyone = Object.values(state.couriers)
    .map((c) => ({
      ...c,
      capacityLeft: Math.max(0, c.freeCapacity - offersPendingWith(state, c.courierId)),
    }))
    .sort((a, b) => (a.courierId < b.courierId ? -1 : a.courierId > b.courierId ? 1 : 0));
  const couriers: EngineCourier[] = everyone.map((c) => {
    let slots = c.freeSlots;
    if (slots !== null) {
      const left = { ...slots };
      for (const offer of Object.values(state.offers)) {
        const cls = state.orders[offer.orderId]?.temperatureClass;
        if (offer.courierId === c.courierId && cls !== undefined) left[cls] = left[cls] - 1;
      }
      // A compartment out of range takes no new goods of its class.
      for (const w of warmOf(c.courierId)) left[w.temperatureClass] = 0;
      slots = left;
    }
    return {
      courierId: c.courierId,
      mode: c.mode,
      position: c.position === null ? null : { lat: c.position.lat, lng: c.position.lng },
      capacityLeft: c.capacityLeft,
      freeSlots: slots,
      carrying: carrying.get(c.courierId) ?? [],
      offAt: null,
    };
  });
  return {
    now,
    orders: base.orders.map((o) => ({
      orderId: o.orderId,
      storeId: o.storeId,
      pickup: o.pickup,
      dropoff: o.dropoff,
      readyAt: o.readyAt,
      promisedBy: o.promisedBy,
      temperatureClass: o.temperatureClass,
      queuedAt: o.queuedAt,
      lockedTo: o.lockedTo,
      passedBy: state.passedBy[o.orderId] ?? [],
      // Still in the store's refrigeration: the whole bag budget, from pickup on.
      safeMs: remainingSafeMs({ class: o.temperatureClass, spentMs: 0 }),
    })),
    couriers,
  };
}

/**
 * Runs the engine and turns its plan into offers (each through `makeOffer`, so the bookkeeping
 * has the last word), raises each new alert once, and puts back in the pool an unstarted order
 * whose courier has fallen far behind.
 */
function plan(state: MarketState, now: number): Step {
  const input = engineInput(state, now);
  let next: MarketState = { ...state, lastPlannedAt: now };
  const effects: Effect[] = [];
  const takeBack = (orderId: string, courierId: string, reason: string) => {
    const passed = next.passedBy[orderId] ?? [];
    next = {
      ...next,
      passedBy: { ...next.passedBy, [orderId]: [...passed, courierId] },
      assigned: without(next.assigned, orderId),
    };
    effects.push(
      emit("dispatch_reassigned", { orderId, courierId, reason }),
      asSelf(toOrder(orderId, { type: "reassign", reason: `dispatch: ${reason}` })),
    );
  };
  const unstarted = Object.values(state.assigned).some((a) => !a.pickedUp && !a.locked);
  const relieve = unstarted && now - state.lastRelievedAt >= RELIEF_EVERY_MS;
  if ((input.orders.length > 0 || relieve) && input.couriers.length > 0) {
    const result = planDispatch(
      input,
      { relieve, h3Resolution: state.config.h3Resolution },
      memoFor(state.id),
    );
    if (relieve) next = { ...next, lastRelievedAt: now };
    for (const a of result.assignments) {
      const offered = makeOffer(next, a.orderId, a.courierId, now);
      if (!offered.ok) continue;
      next = offered.state;
      // The engine's offer is the market's own decision, whoever's message triggered the plan.
      const own = offered.effects.map(asSelf);
      effects.push(
        emit("dispatch_offered", {
          orderId: a.orderId,
          courierId: a.courierId,
          cost: Math.round(a.cost * 100) / 100,
          bundle: a.bundle,
          pickupAt: Math.round(a.pickupAt),
          dropoffAt: a.dropoffAt === null ? null : Math.round(a.dropoffAt),
          dropoffP90: a.dropoffP90 === null ? null : Math.round(a.dropoffP90),
        }),
        ...own,
      );
    }
    for (const r of result.reassignments) {
      if (next.assigned[r.orderId]?.courierId !== r.courierId) continue;
      takeBack(
        r.orderId,
        r.courierId,
        `a free courier would pick it up ${r.minutesSooner} min sooner than ${r.courierId}`,
      );
    }
    for (const alert of result.alerts) {
      const raised = next.alerted[alert.orderId] ?? [];
      if (raised.includes(alert.code)) continue;
      next = { ...next, alerted: { ...next.alerted, [alert.orderId]: [...raised, alert.code] } };
      effects.push(emit("dispatch_alert", alert));
    }
  }
  for (const a of fallenBehind(next, now)) {
    takeBack(
      a.orderId,
      a.courierId,
      `courier ${a.courierId} would reach the store over ${BEHIND_LIMIT_MS / 60_000} min after ready`,
    );
  }
  return { state: next, effects };
}

/**
 * Unstarted, unlocked assigned orders whose courier, going straight to the store from where it
 * is now, would still arrive more than BEHIND_LIMIT_MS after the food is ready and the order is
 * already late for that: a courier stuck or gone the wrong way. Never a picked-up order.
 */
function fallenBehind(state: MarketState, now: number): AssignedOrder[] {
  const out: AssignedOrder[] = [];
  const couriers = new Map(Object.values(state.couriers).map((c) => [c.courierId, c]));
  for (const a of Object.values(state.assigned)) {
    if (a.pickedUp || a.locked || a.pickup === null || a.readyAt === 0) continue;
    if (now < a.readyAt + BEHIND_LIMIT_MS) continue;
    const c = couriers.get(a.courierId);
    if (c === undefined || c.position === null) continue;
    const speed = DEFAULT_SPEEDS[c.mode];
    const metres = haversine(c.position.lat, c.position.lng, a.pickup.lat, a.pickup.lng) * 1.3;
    if (now + (metres / speed) * 1000 > a.readyAt + BEHIND_LIMIT_MS) out.push(a);
  }
  return out.sort((x, y) => (x.orderId < y.orderId ? -1 : 1));
}

/**
 * The least time between two event-triggered plans: a plan costs about as much as the orders
 * and couriers it weighs, so a small market re-plans within tens of milliseconds of an event
 * and a city-sized one (thousands of each, ~100 ms a plan) at most every `minPlanGapMs`.
 */
export function planGapMs(state: MarketState): number {
  const size = Object.keys(state.orders).length + Object.keys(state.couriers).length;
  return Math.min(state.config.minPlanGapMs, 20 + Math.ceil(size / 20));
}

/**
 * An event that may let dispatch give out an order (an order ready, a courier free, an offer
 * declined or run out): plan now, or, if the last plan is under `minPlanGapMs` old, make sure
 * a tick comes when the gap is over.
 */
function dispatchSoon(state: MarketState, now: number): Step {
  if (!state.config.autoDispatch) return tickEffects(state, now);
  const gapEnd = state.lastPlannedAt + planGapMs(state);
  if (now >= gapEnd) {
    const planned = plan(state, now);
    const ticked = tickEffects(planned.state, now);
    return { state: ticked.state, effects: [...planned.effects, ...ticked.effects] };
  }
  const ticked = tickEffects(state, now);
  if (ticked.state.tickDueAt !== null && ticked.state.tickDueAt > gapEnd) {
    return {
      state: { ...ticked.state, tickDueAt: gapEnd },
      effects: [
        ...ticked.effects.filter((e) => e.kind !== "schedule"),
        { kind: "schedule", timer: TICK_TIMER, at: gapEnd, msg: { type: "tick" } },
      ],
    };
  }
  return ticked;
}

// ---------------------------------------------------------------- authorization

type Sender = "dispatcher" | "actor" | "timer";

const ALLOWED: Record<MarketMessage["type"], readonly Sender[]> = {
  configure: ["dispatcher"],
  order_ready: ["actor"],
  order_assigned: ["actor"],
  order_cancelled: ["actor"],
  order_held: ["actor"],
  order_released: ["actor"],
  order_picked_up: ["actor"],
  order_finished: ["actor"],
  withdraw_offer: ["actor"],
  courier_available: ["actor"],
  courier_unavailable: ["actor", "dispatcher"],
  courier_position: ["actor"],
  courier_positions: ["actor"],
  vehicle_condition: ["actor"],
  offer_declined: ["actor"],
  offer_timeout: ["timer"],
  offer: ["dispatcher"],
  hold: ["dispatcher"],
  release: ["dispatcher"],
  lock: ["dispatcher"],
  force_assign: ["dispatcher"],
  tick: ["timer"],
};

function authorize(ctx: TurnContext, allowed: readonly Sender[]): Result | null {
  if (ctx.origin === "timer") {
    return allowed.includes("timer") ? null : refuse("forbidden", "timers may not send this");
  }
  if (ctx.origin === "actor") {
    return allowed.includes("actor") ? null : refuse("forbidden", "actors may not send this");
  }
  const role = ctx.by?.role;
  if (role === "dispatcher" || role === "admin") {
    return allowed.includes("dispatcher")
      ? null
      : refuse("forbidden", `${role}s may not send this`);
  }
  if (role === "system") {
    return allowed.includes("actor") ? null : refuse("forbidden", "system may not send this");
  }
  return refuse("forbidden", `the ${role ?? "anonymous"} role may not command a market`);
}

// ---------------------------------------------------------------- handlers

function configure(state: MarketState, msg: Msg<"configure">): Result {
  const config = {
    ...state.config,
    name: msg.name,
    city: msg.city,
    tickIntervalMs: msg.tickIntervalMs ?? state.config.tickIntervalMs,
    offerTimeoutMs: msg.offerTimeoutMs ?? state.config.offerTimeoutMs,
    h3Resolution: msg.h3Resolution ?? state.config.h3Resolution,
    minPlanGapMs: msg.minPlanGapMs ?? state.config.minPlanGapMs,
    autoDispatch: msg.autoDispatch ?? state.config.autoDispatch,
  };
  return accept({ ...state, config }, [emit("configured", config)]);
}

function orderReady(state: MarketState, msg: Msg<"order_ready">, ctx: TurnContext): Result {
  const old = state.orders[msg.orderId];
  const order: OpenOrder = {
    orderId: msg.orderId,
    storeId: msg.storeId,
    pickup: msg.pickup,
    dropoff: msg.dropoff ?? null,
    readyAt: msg.readyAt,
    promisedBy: msg.promisedBy ?? null,
    temperatureClass: msg.temperatureClass,
    queuedAt: old?.queuedAt ?? ctx.now,
    // Only `order_held`/`order_released` from the order move this (the order sends those in
    // order with its order_ready, so a ready order after a release is not held any more).
    held: old?.held ?? false,
    lockedTo: old?.lockedTo ?? null,
    forcedTo: old?.forcedTo ?? null,
  };
  // Back from a courier (released, reassigned to the pool): no longer theirs.
  const planned = dispatchSoon(
    {
      ...state,
      orders: { ...state.orders, [msg.orderId]: order },
      assigned: without(state.assigned, msg.orderId),
    },
    ctx.now,
  );
  return accept(planned.state, [
    emit(old === undefined ? "order_queued" : "order_updated", order),
    ...planned.effects,
  ]);
}

function orderAssigned(state: MarketState, msg: Msg<"order_assigned">, ctx: TurnContext): Result {
  if (state.orders[msg.orderId] === undefined && state.offers[msg.orderId] === undefined) {
    return accept(state);
  }
  const open = state.orders[msg.orderId];
  const dropped = dropOffer(state, msg.orderId, "assigned_elsewhere", msg.courierId);
  const removed = removeOrder(dropped.state, msg.orderId);
  const assigned: AssignedOrder = {
    orderId: msg.orderId,
    courierId: msg.courierId,
    pickedUp: false,
    since: ctx.now,
    pickup: open?.pickup ?? null,
    dropoff: open?.dropoff ?? null,
    readyAt: open?.readyAt ?? 0,
    promisedBy: open?.promisedBy ?? null,
    temperatureClass: open?.temperatureClass ?? "ambient",
    locked: open?.lockedTo === msg.courierId,
    pickedUpAt: null,
  };
  const ticked = tickEffects(
    { ...removed, assigned: { ...removed.assigned, [msg.orderId]: assigned } },
    ctx.now,
  );
  return accept(ticked.state, [
    emit("order_assigned", { orderId: msg.orderId, courierId: msg.courierId }),
    ...dropped.effects,
    ...ticked.effects,
  ]);
}

function orderCancelled(state: MarketState, msg: Msg<"order_cancelled">, ctx: TurnContext): Result {
  if (
    state.orders[msg.orderId] === undefined &&
    state.offers[msg.orderId] === undefined &&
    state.assigned[msg.orderId] === undefined
  ) {
    return accept(state);
  }
  const dropped = dropOffer(state, msg.orderId, "order_cancelled");
  const ticked = tickEffects(removeOrder(dropped.state, msg.orderId), ctx.now);
  return accept(ticked.state, [
    emit("order_cancelled", { orderId: msg.orderId }),
    ...dropped.effects,
    ...ticked.effects,
  ]);
}

function courierAvailable(
  state: MarketState,
  msg: Msg<"courier_available">,
  ctx: TurnContext,
): Result {
  const old = state.couriers[msg.courierId];
  // Keep the newer of the two positions: courier_position may have overtaken this message.
  const position =
    old?.position != null && (msg.position === null || old.position.at > msg.position.at)
      ? old.position
      : msg.position;
  const courier: AvailableCourier = {
    courierId: msg.courierId,
    mode: msg.mode,
    vehicleId: msg.vehicleId,
    freeCapacity: msg.freeCapacity,
    freeSlots: msg.freeSlots,
    position,
    since: old?.since ?? ctx.now,
    updatedAt: ctx.now,
  };
  const next = { ...state, couriers: { ...state.couriers, [msg.courierId]: courier } };
  // A courier who joined or has more room is a reason to plan now.
  const planned =
    courier.freeCapacity > (old?.freeCapacity ?? 0) ? dispatchSoon(next, ctx.now) : none(next);
  return accept(planned.state, [
    emit(old === undefined ? "courier_joined" : "courier_updated", courier),
    ...planned.effects,
  ]);
}

function courierUnavailable(state: MarketState, msg: Msg<"courier_unavailable">): Result {
  if (state.couriers[msg.courierId] === undefined) return accept(state);
  return accept({ ...state, couriers: without(state.couriers, msg.courierId) }, [
    emit("courier_left", { courierId: msg.courierId, reason: msg.reason ?? null }),
  ]);
}

function courierPosition(
  state: MarketState,
  msg: Msg<"courier_position">,
  ctx: TurnContext,
): Result {
  const courier = state.couriers[msg.courierId];
  if (courier === undefined) return accept(state);
  if (courier.position !== null && courier.position.at >= msg.position.at) return accept(state);
  const moved = { ...courier, position: msg.position, updatedAt: ctx.now };
  return accept({ ...state, couriers: { ...state.couriers, [msg.courierId]: moved } }, [
    emit("courier_moved", { courierId: msg.courierId, position: msg.position }),
  ]);
}

/**
 * A batch of positions from the tracker: each courier on shift here takes the newer of its own
 * and the batch's. One event for the batch (the tracker's frames carry the positions themselves).
 */
function courierPositions(
  state: MarketState,
  msg: Msg<"courier_positions">,
  ctx: TurnContext,
): Result {
  let couriers = state.couriers;
  let moved = 0;
  for (const { courierId, position } of msg.positions) {
    const courier = couriers[courierId];
    if (courier === undefined) continue;
    if (courier.position !== null && courier.position.at >= position.at) continue;
    if (moved === 0) couriers = { ...couriers };
    couriers[courierId] = { ...courier, position, updatedAt: ctx.now };
    moved++;
  }
  if (moved === 0) return accept(state);
  return accept({ ...state, couriers }, [emit("couriers_moved", { count: moved })]);
}

/** A van's compartments went out of range (or silent), or back: dispatch plans with it. */
function vehicleCondition(state: MarketState, msg: Msg<"vehicle_condition">): Result {
  const warmVehicles = { ...state.warmVehicles };
  if (msg.warm.length === 0) delete warmVehicles[msg.vehicleId];
  else warmVehicles[msg.vehicleId] = msg.warm;
  return accept({ ...state, warmVehicles }, [
    emit("vehicle_condition_changed", { vehicleId: msg.vehicleId, warm: msg.warm }),
  ]);
}

/** The courier passed on the offer (declined it, or let it run out): not offered it again. */
function offerPassed(
  state: MarketState,
  orderId: string,
  courierId: string,
  event: "offer_declined" | "offer_expired",
  reason: string,
): { state: MarketState; effects: Effect[] } | null {
  const offer = state.offers[orderId];
  if (offer === undefined || offer.courierId !== courierId) return null;
  const next = recordPass({ ...state, offers: without(state.offers, orderId) }, orderId, courierId);
  return {
    state: next,
    effects: [
      { kind: "cancel", timer: offerTimer(orderId) },
      emit(event, { orderId, courierId, reason }),
    ],
  };
}

function offerDeclined(state: MarketState, msg: Msg<"offer_declined">, ctx: TurnContext): Result {
  const passed = offerPassed(state, msg.orderId, msg.courierId, "offer_declined", msg.reason);
  if (passed === null) return accept(state);
  const planned = dispatchSoon(passed.state, ctx.now);
  // Declined at the order: the courier actor still shows the offer, so take it back there.
  const effects =
    msg.via === "order"
      ? [
          ...passed.effects,
          toCourier(msg.courierId, {
            type: "offer_withdrawn",
            orderId: msg.orderId,
            reason: "declined",
          }),
        ]
      : passed.effects;
  return accept(planned.state, [...effects, ...planned.effects]);
}

/** The offer's one time-out: the market tells the order and the courier it is over. */
function offerTimeout(state: MarketState, msg: Msg<"offer_timeout">, ctx: TurnContext): Result {
  const offer = state.offers[msg.orderId];
  // The timer is cancelled whenever an offer ends; this guards a replaced one all the same.
  if (offer === undefined || offer.expiresAt !== msg.expiresAt) return accept(state);
  const passed = offerPassed(state, msg.orderId, msg.courierId, "offer_expired", "expired");
  if (passed === null) return accept(state);
  const planned = dispatchSoon(passed.state, ctx.now);
  return accept(planned.state, [
    emit("offer_expired", { orderId: msg.orderId, courierId: msg.courierId, reason: "expired" }),
    toOrder(msg.orderId, {
      type: "offer_expired",
      courierId: msg.courierId,
      expiresAt: msg.expiresAt,
    }),
    toCourier(msg.courierId, { type: "offer_expired", orderId: msg.orderId }),
    ...planned.effects,
  ]);
}

function withdrawOffer(state: MarketState, msg: Msg<"withdraw_offer">): Result {
  const offer = state.offers[msg.orderId];
  if (offer === undefined || offer.courierId !== msg.courierId) return accept(state);
  const dropped = dropOffer(state, msg.orderId, msg.reason);
  return accept(dropped.state, [
    emit("offer_withdrawn", {
      orderId: msg.orderId,
      courierId: msg.courierId,
      reason: msg.reason,
    }),
    ...dropped.effects,
  ]);
}

/** The order confirmed a hold: dispatch leaves it alone, and an open offer is taken back. */
function orderHeld(state: MarketState, msg: Msg<"order_held">): Result {
  const order = state.orders[msg.orderId];
  if (order === undefined || order.held) return accept(state);
  const dropped = dropOffer(state, msg.orderId, "order_held");
  return accept(
    {
      ...dropped.state,
      orders: { ...dropped.state.orders, [msg.orderId]: { ...order, held: true } },
    },
    [emit("order_held", { orderId: msg.orderId }), ...dropped.effects],
  );
}

function orderReleased(state: MarketState, msg: Msg<"order_released">): Result {
  const order = state.orders[msg.orderId];
  if (order === undefined || !order.held) return accept(state);
  return accept(
    { ...state, orders: { ...state.orders, [msg.orderId]: { ...order, held: false } } },
    [emit("order_released", { orderId: msg.orderId })],
  );
}

function orderPickedUp(state: MarketState, msg: Msg<"order_picked_up">, ctx: TurnContext): Result {
  const known = state.assigned[msg.orderId];
  const assigned: AssignedOrder = {
    ...(known ?? {
      pickup: null,
      dropoff: null,
      readyAt: 0,
      promisedBy: null,
      temperatureClass: "ambient" as const,
      locked: false,
      since: ctx.now,
      pickedUpAt: null,
    }),
    orderId: msg.orderId,
    courierId: msg.courierId,
    pickedUp: true,
    // The command's time is the pickup's (the order actor sends it in the pick-up's turn); a
    // repeated report keeps the first.
    pickedUpAt: known?.pickedUpAt ?? ctx.now,
  };
  return accept({ ...state, assigned: { ...state.assigned, [msg.orderId]: assigned } }, [
    emit("order_picked_up", { orderId: msg.orderId, courierId: msg.courierId }),
  ]);
}

function orderFinished(state: MarketState, msg: Msg<"order_finished">, ctx: TurnContext): Result {
  if (state.assigned[msg.orderId] === undefined && state.orders[msg.orderId] === undefined) {
    return accept(state);
  }
  const dropped = dropOffer(state, msg.orderId, "assigned_elsewhere", msg.courierId);
  const ticked = tickEffects(removeOrder(dropped.state, msg.orderId), ctx.now);
  return accept(ticked.state, [
    emit("order_finished", {
      orderId: msg.orderId,
      courierId: msg.courierId,
      outcome: msg.outcome,
    }),
    ...dropped.effects,
    ...ticked.effects,
  ]);
}

/**
 * Dispatcher hold, forwarded to the order actor, which owns holds (it refuses one after
 * assignment, say). The order confirms with `order_held`; the refusal, if any, is the order's.
 */
function hold(state: MarketState, msg: Msg<"hold">, ctx: TurnContext, by: Principal): Result {
  const order = state.orders[msg.orderId];
  if (order === undefined) return unknownOrder(msg.orderId);
  if (order.held) return refuse("invalid_transition", `order ${msg.orderId} is already held`);
  const audited = audit(state, ctx, by, "hold", msg.orderId, null, msg.reason);
  return accept(audited.state, [
    emit("hold_requested", audited.entry),
    toOrder(msg.orderId, { type: "hold", reason: msg.reason }),
  ]);
}

/** Undoes the market's own lock here, and a hold by forwarding `release_hold` to the order. */
function release(state: MarketState, msg: Msg<"release">, ctx: TurnContext, by: Principal): Result {
  const order = state.orders[msg.orderId];
  if (order === undefined) return unknownOrder(msg.orderId);
  if (!order.held && order.lockedTo === null) {
    return refuse("invalid_transition", `order ${msg.orderId} is neither held nor locked`);
  }
  const released = {
    ...state,
    orders: { ...state.orders, [msg.orderId]: { ...order, lockedTo: null } },
  };
  const audited = audit(released, ctx, by, "release", msg.orderId, null, msg.reason);
  const effects: Effect[] = [emit("release_requested", audited.entry)];
  if (order.held) effects.push(toOrder(msg.orderId, { type: "release_hold" }));
  return accept(audited.state, effects);
}

function lock(state: MarketState, msg: Msg<"lock">, ctx: TurnContext, by: Principal): Result {
  const order = state.orders[msg.orderId];
  if (order === undefined) return unknownOrder(msg.orderId);
  if (order.lockedTo === msg.courierId) {
    return refuse(
      "invalid_transition",
      `order ${msg.orderId} is already locked to ${msg.courierId}`,
    );
  }
  const dropped = dropOffer(state, msg.orderId, "order_locked", msg.courierId, true);
  // An offer already out to the locked courier stays valid.
  const kept =
    state.offers[msg.orderId]?.courierId === msg.courierId ? state.offers : dropped.state.offers;
  const locked = {
    ...dropped.state,
    offers: kept,
    orders: { ...dropped.state.orders, [msg.orderId]: { ...order, lockedTo: msg.courierId } },
  };
  const audited = audit(locked, ctx, by, "lock", msg.orderId, msg.courierId, msg.reason);
  return accept(audited.state, [emit("order_locked", audited.entry), ...dropped.effects]);
}

function forceAssign(
  state: MarketState,
  msg: Msg<"force_assign">,
  ctx: TurnContext,
  by: Principal,
): Result {
  const order = state.orders[msg.orderId];
  if (state.assigned[msg.orderId]?.pickedUp) {
    return refuse(
      "already_picked_up",
      `order ${msg.orderId} was picked up; it cannot be reassigned`,
    );
  }
  // Not open here: it is already with a courier (or never came through this market).
  const action: OverrideAction = order === undefined ? "reassign" : "force";
  let next = state;
  const effects: Effect[] = [];
  if (order !== undefined) {
    const dropped = dropOffer(state, msg.orderId, "order_forced", msg.courierId);
    next = {
      ...dropped.state,
      orders: { ...dropped.state.orders, [msg.orderId]: { ...order, forcedTo: msg.courierId } },
    };
    effects.push(...dropped.effects);
  }
  const audited = audit(next, ctx, by, action, msg.orderId, msg.courierId, msg.reason);
  return accept(audited.state, [
    emit("order_force_assigned", audited.entry),
    ...effects,
    send("order", msg.orderId, {
      type: "dispatcher_assigned",
      courierId: msg.courierId,
      marketId: state.id,
      by: { role: by.role, id: by.id },
      reason: msg.reason,
      at: ctx.now,
    }),
  ]);
}

function tick(state: MarketState, ctx: TurnContext): Result {
  // A tick that outlived a cancel (the market went idle in between) does nothing.
  if (state.tickDueAt === null) return accept(state);
  // Offers end on their own timers (offer_timeout), never here.
  const next: MarketState = { ...state, tickDueAt: null };
  const planned = state.config.autoDispatch ? plan(next, ctx.now) : none(next);
  const ticked = tickEffects(planned.state, ctx.now);
  return accept(ticked.state, [...planned.effects, ...ticked.effects]);
}

// ---------------------------------------------------------------- the logic

export const marketLogic: ActorLogic<MarketState, MarketMessage> = {
  type: "market",
  messages: MarketMessage,
  version: 1,
  initial(self) {
    return {
      id: self.id,
      config: {
        name: self.id,
        city: null,
        timezone: "Asia/Shanghai",
        tickIntervalMs: DEFAULT_TICK_INTERVAL_MS,
        offerTimeoutMs: DEFAULT_OFFER_TIMEOUT_MS,
        h3Resolution: DEFAULT_H3_RESOLUTION,
        minPlanGapMs: DEFAULT_MIN_PLAN_GAP_MS,
        autoDispatch: true,
      },
      orders: {},
      assigned: {},
      couriers: {},
      offers: {},
      passedBy: {},
      audit: [],
      tickDueAt: null,
      lastPlannedAt: 0,
      lastRelievedAt: 0,
      alerted: {},
      warmVehicles: {},
    };
  },
  transition(state, msg, ctx) {
    const denied = authorize(ctx, ALLOWED[msg.type]);
    if (denied !== null) return denied;
    // Overrides come from a dispatcher or admin client, so `by` is there (authorize checked).
    const by: Principal = ctx.by ?? { role: "system", id: "unknown" };
    switch (msg.type) {
      case "configure":
        return configure(state, msg);
      case "order_ready":
        return orderReady(state, msg, ctx);
      case "order_assigned":
        return orderAssigned(state, msg, ctx);
      case "order_cancelled":
        return orderCancelled(state, msg, ctx);
      case "courier_available":
        return courierAvailable(state, msg, ctx);
      case "courier_unavailable":
        return courierUnavailable(state, msg);
      case "courier_position":
        return courierPosition(state, msg, ctx);
      case "courier_positions":
        return courierPositions(state, msg, ctx);
      case "vehicle_condition":
        return vehicleCondition(state, msg);
      case "order_held":
        return orderHeld(state, msg);
      case "order_released":
        return orderReleased(state, msg);
      case "order_picked_up":
        return orderPickedUp(state, msg, ctx);
      case "order_finished":
        return orderFinished(state, msg, ctx);
      case "withdraw_offer":
        return withdrawOffer(state, msg);
      case "offer_declined":
        return offerDeclined(state, msg, ctx);
      case "offer_timeout":
        return offerTimeout(state, msg, ctx);
      case "offer":
        return makeOffer(state, msg.orderId, msg.courierId, ctx.now);
      case "hold":
        return hold(state, msg, ctx, by);
      case "release":
        return release(state, msg, ctx, by);
      case "lock":
        return lock(state, msg, ctx, by);
      case "force_assign":
        return forceAssign(state, msg, ctx, by);
      case "tick":
        return tick(state, ctx);
    }
  },
  persist(state) {
    return state;
  },
  restore(data, version) {
    if (version !== 1) throw new Error(`market state version ${version} is not supported`);
    return MarketState.parse(data);
  },
  view(state) {
    return {
      ...state,
      openOrders: Object.keys(state.orders).length,
      availableCouriers: Object.keys(state.couriers).length,
      pendingOffers: Object.keys(state.offers).length,
    };
  },
};
