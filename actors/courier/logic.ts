/**
 * The courier actor (`courier/<id>`): one courier's shift, offers, jobs and route, as a pure
 * state machine.
 *
 * Status is derived (`courierStatus`), never stored: offline (no shift) → on shift, where the
 * courier is `offered` while an offer awaits an answer, else `busy` while carrying jobs, else
 * `idle`.
 *
 * Offer flow: the market sends `offer` → the courier answers `accept_offer` or `decline_offer`
 * (from its driver app), or the market's offer timer runs out and the market sends
 * `offer_expired`; the market may also take it back (`offer_withdrawn`). The courier keeps no
 * offer timer: it records `expiresAt` and refuses an acceptance at or after it. An accepted
 * offer becomes a job in phase `accepted` that holds capacity; the order actor then confirms
 * with `job_assigned` (its stops join the route, and the job gets the pickup code to show at the
 * store) or says no with `job_released`. The order completes the stops (`complete_stop`) once
 * it has checked the proof: the pickup code at the store, the PIN or photo at the door.
 *
 * Commands this actor sends (after its turn commits):
 *   to `order/<orderId>`:
 *     courier_accepted       { courierId, marketId, at }          the courier took the offer
 *     courier_declined       { courierId, marketId, reason, at }  reason: DeclineReason
 *     courier_released       { courierId, reason, at }            the courier dropped an unpicked
 *                                                                 job (off shift, dispatcher)
 *   to `market/<marketId>` (see protocol/actors/market.ts):
 *     courier_available    on going on shift and on every change of free capacity or vehicle
 *     courier_unavailable  on going off shift
 *     courier_position     the latest fix, at most every POSITION_FORWARD_INTERVAL_MS
 *     offer_declined       on a decline (to the market that made the offer)
 * Commands it expects: `offer`/`offer_expired`/`offer_withdrawn` from the market;
 * `job_assigned`/`job_released`/`complete_stop` from the order actor (job_assigned/job_released
 * also from a dispatcher); the rest from the driver app. See actors/CONTRACT.md.
 *
 * Decisions:
 * - A location fix older than (or as old as) the last one is accepted and ignored: phones send
 *   batches out of order over mobile networks, and refusing would make the app retry in vain.
 *   A fix more than MAX_FUTURE_SKEW_MS ahead of ctx.now is refused (`invalid_location`).
 *   Impossible-jump filtering belongs to the edge, which sees the raw stream.
 * - Stops need not be done in route order (couriers deviate), only pickup before drop-off.
 * - Going off shift is refused while carrying picked-up orders; unpicked jobs are released back
 *   to their orders and pending offers are declined (reason `other`).
 * - `freeCapacity` told to the market counts jobs only, not offers: the market knows its offers.
 *   Capacity checks inside this actor count both.
 */
import type { ActorLogic, Effect, TurnContext, TurnResult } from "../types.ts";
import { accept, emit, refuse } from "../logic.ts";
import { CourierMessage } from "../../protocol/actors/courier.ts";
import type { SlotCounts, StopRef } from "../../protocol/actors/courier.ts";
import type { MarketMessage } from "../../protocol/actors/market.ts";
import type { TemperatureClass } from "../../protocol/ids.ts";
import { CourierState } from "./types.ts";
import type { CourierStatus, Job, Stop } from "./types.ts";

/** A fix whose timestamp is further ahead of the command's acceptance time is refused. */
export const MAX_FUTURE_SKEW_MS = 60_000;
/** The market gets at most one position per courier this often (it needs no 1-3 s stream). */
export const POSITION_FORWARD_INTERVAL_MS = 15_000;

type Msg<T extends CourierMessage["type"]> = Extract<CourierMessage, { type: T }>;
type Result = TurnResult<CourierState>;

// ---------------------------------------------------------------- derived views

export function courierStatus(state: CourierState): CourierStatus {
  if (state.shift === null) return "offline";
  if (Object.keys(state.offers).length > 0) return "offered";
  if (Object.keys(state.jobs).length > 0) return "busy";
  return "idle";
}

/** Orders the courier could still take, not counting pending offers (as the market sees it). */
export function freeCapacity(state: CourierState): number {
  if (state.shift === null) return 0;
  return Math.max(0, state.shift.capacity.maxOrders - Object.keys(state.jobs).length);
}

export function freeSlots(state: CourierState): SlotCounts | null {
  const slots = state.shift?.capacity.slots ?? null;
  if (slots === null) return null;
  const used = countByClass(Object.values(state.jobs));
  return {
    ambient: Math.max(0, slots.ambient - used.ambient),
    chilled: Math.max(0, slots.chilled - used.chilled),
    frozen: Math.max(0, slots.frozen - used.frozen),
  };
}

function countByClass(items: readonly { temperatureClass: TemperatureClass }[]): SlotCounts {
  const counts = { ambient: 0, chilled: 0, frozen: 0 };
  for (const item of items) counts[item.temperatureClass] += 1;
  return counts;
}

// ---------------------------------------------------------------- small helpers

function without<V>(record: Record<string, V>, key: string): Record<string, V> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

function send(type: string, id: string, msg: { type: string } & Record<string, unknown>): Effect {
  return { kind: "send", command: { to: { type, id }, msg } };
}

function toMarket(marketId: string, msg: MarketMessage): Effect {
  return send("market", marketId, msg);
}

function toOrder(orderId: string, msg: { type: string } & Record<string, unknown>): Effect {
  return send("order", orderId, msg);
}

function stopRef(stop: Stop): StopRef {
  return { orderId: stop.orderId, kind: stop.kind };
}

// ---------------------------------------------------------------- authorization

/**
 * Who may send a message: the courier itself, a dispatcher or admin (overrides), another actor
 * (or an internal service acting as `system`), or this actor's own timers.
 */
type Sender = "self" | "dispatcher" | "actor" | "timer";

function authorize(
  state: CourierState,
  ctx: TurnContext,
  allowed: readonly Sender[],
): Result | null {
  if (ctx.origin === "timer") {
    return allowed.includes("timer") ? null : refuse("forbidden", "timers may not send this");
  }
  if (ctx.origin === "actor") {
    return allowed.includes("actor") ? null : refuse("forbidden", "actors may not send this");
  }
  const by = ctx.by;
  if (by === undefined) return refuse("forbidden", "a client command needs a principal");
  switch (by.role) {
    case "courier":
      if (!allowed.includes("self")) {
        return refuse("forbidden", "couriers may not send this; a dispatcher may");
      }
      return by.id === state.id
        ? null
        : refuse("wrong_courier", `courier ${by.id} may not act for courier ${state.id}`);
    case "dispatcher":
    case "admin":
      return allowed.includes("dispatcher")
        ? null
        : refuse("forbidden", `${by.role}s may not send this`);
    case "system":
      return allowed.includes("actor") ? null : refuse("forbidden", "system may not send this");
    default:
      return refuse("forbidden", `the ${by.role} role may not command a courier`);
  }
}

const ALLOWED: Record<CourierMessage["type"], readonly Sender[]> = {
  go_on_shift: ["self", "dispatcher"],
  go_off_shift: ["self", "dispatcher"],
  location: ["self", "actor"],
  offer: ["actor", "dispatcher"],
  accept_offer: ["self", "dispatcher"],
  decline_offer: ["self", "dispatcher"],
  offer_expired: ["actor"],
  offer_withdrawn: ["actor", "dispatcher"],
  job_assigned: ["actor", "dispatcher"],
  complete_stop: ["actor"],
  reorder_stops: ["dispatcher", "actor"],
  job_released: ["actor", "dispatcher"],
};

// ---------------------------------------------------------------- capacity

/** Refuses taking one more order of `cls`, counting jobs and offers other than `orderId`'s. */
function capacityRefusal(
  state: CourierState,
  cls: TemperatureClass,
  orderId: string,
): Result | null {
  const shift = state.shift;
  if (shift === null) return refuse("not_on_shift", `courier ${state.id} is not on shift`);
  const held = [...Object.values(state.jobs), ...Object.values(state.offers)].filter(
    (item) => item.orderId !== orderId,
  );
  if (held.length >= shift.capacity.maxOrders) {
    return refuse(
      "over_capacity",
      `courier ${state.id} already holds ${held.length} of ${shift.capacity.maxOrders} orders`,
    );
  }
  const slots = shift.capacity.slots;
  if (slots !== null) {
    if (slots[cls] === 0) {
      return refuse("vehicle_unsuitable", `courier ${state.id}'s van has no ${cls} slot`);
    }
    const used = countByClass(held)[cls];
    if (used >= slots[cls]) {
      return refuse(
        "over_capacity",
        `all ${slots[cls]} ${cls} slots of courier ${state.id} are taken`,
      );
    }
  }
  return null;
}

// ---------------------------------------------------------------- handlers

function goOnShift(state: CourierState, msg: Msg<"go_on_shift">, ctx: TurnContext): Result {
  if (state.shift !== null) {
    return refuse("invalid_transition", `courier ${state.id} is already on shift`);
  }
  const { mode, vehicleId } = msg.vehicle;
  if (vehicleId !== undefined && mode !== "van") {
    return refuse("invalid_vehicle", "only a van has a vehicle id (its refrigerated compartments)");
  }
  if (msg.capacity.slots !== undefined && mode !== "van") {
    return refuse("invalid_capacity", "temperature-class slots are for vans only");
  }
  const shift = {
    marketId: msg.marketId,
    since: ctx.now,
    vehicle: { mode, vehicleId: vehicleId ?? null },
    capacity: { maxOrders: msg.capacity.maxOrders, slots: msg.capacity.slots ?? null },
  };
  return accept({ ...state, shift, positionSentAt: null }, [emit("went_on_shift", { ...shift })]);
}

function goOffShift(state: CourierState, _msg: Msg<"go_off_shift">, ctx: TurnContext): Result {
  if (state.shift === null) return refuse("not_on_shift", `courier ${state.id} is not on shift`);
  const carrying = Object.values(state.jobs).filter((job) => job.pickedUp);
  if (carrying.length > 0) {
    return refuse(
      "has_active_jobs",
      `courier ${state.id} still carries picked-up orders: ${carrying.map((j) => j.orderId).join(", ")}`,
    );
  }
  const effects: Effect[] = [];
  const declined = Object.values(state.offers);
  for (const offer of declined) {
    effects.push(
      toOrder(offer.orderId, {
        type: "courier_declined",
        courierId: state.id,
        marketId: offer.marketId,
        reason: "other",
        at: ctx.now,
      }),
      toMarket(offer.marketId, {
        type: "offer_declined",
        orderId: offer.orderId,
        courierId: state.id,
        reason: "other",
      }),
    );
  }
  const released = Object.keys(state.jobs);
  for (const orderId of released) {
    effects.push(
      toOrder(orderId, {
        type: "courier_released",
        courierId: state.id,
        reason: "off_shift",
        at: ctx.now,
      }),
    );
  }
  const stats = {
    ...state.stats,
    declined: { ...state.stats.declined, other: state.stats.declined.other + declined.length },
  };
  effects.unshift(
    emit("went_off_shift", {
      declinedOrderIds: declined.map((o) => o.orderId),
      releasedOrderIds: released,
    }),
  );
  return accept(
    { ...state, shift: null, offers: {}, jobs: {}, route: [], positionSentAt: null, stats },
    effects,
  );
}

function location(state: CourierState, msg: Msg<"location">, ctx: TurnContext): Result {
  if (state.shift === null) {
    return refuse("not_on_shift", `courier ${state.id} is off shift; positions are not tracked`);
  }
  const inRange =
    Number.isFinite(msg.lat) &&
    Number.isFinite(msg.lng) &&
    Math.abs(msg.lat) <= 90 &&
    Math.abs(msg.lng) <= 180 &&
    (msg.accuracy === undefined || (Number.isFinite(msg.accuracy) && msg.accuracy >= 0));
  if (!inRange) return refuse("invalid_location", "latitude, longitude or accuracy out of range");
  if (msg.at > ctx.now + MAX_FUTURE_SKEW_MS) {
    return refuse("invalid_location", `fix time ${msg.at} is in the future (now ${ctx.now})`);
  }
  // Out of order or repeated: keep the newer fix we have (see the header).
  if (state.position !== null && msg.at <= state.position.at) return accept(state);
  const position = { lat: msg.lat, lng: msg.lng, at: msg.at, accuracy: msg.accuracy ?? null };
  const effects: Effect[] = [emit("position_updated", position)];
  let positionSentAt = state.positionSentAt;
  if (positionSentAt === null || ctx.now - positionSentAt >= POSITION_FORWARD_INTERVAL_MS) {
    positionSentAt = ctx.now;
    effects.push(
      toMarket(state.shift.marketId, { type: "courier_position", courierId: state.id, position }),
    );
  }
  return accept({ ...state, position, positionSentAt }, effects);
}

function offer(state: CourierState, msg: Msg<"offer">, ctx: TurnContext): Result {
  if (state.shift === null) return refuse("not_on_shift", `courier ${state.id} is not on shift`);
  if (state.offers[msg.orderId] !== undefined) {
    return refuse("duplicate_offer", `order ${msg.orderId} is already offered to this courier`);
  }
  if (state.jobs[msg.orderId] !== undefined) {
    return refuse("already_assigned", `order ${msg.orderId} is already this courier's job`);
  }
  if (msg.expiresAt <= ctx.now) {
    return refuse("offer_expired", `the offer for order ${msg.orderId} expired on arrival`);
  }
  const full = capacityRefusal(state, msg.temperatureClass, msg.orderId);
  if (full !== null) return full;
  const pending = {
    orderId: msg.orderId,
    marketId: msg.marketId,
    receivedAt: ctx.now,
    expiresAt: msg.expiresAt,
    temperatureClass: msg.temperatureClass,
    storeId: msg.storeId,
    pickup: msg.pickup,
    dropoff: msg.dropoff ?? null,
  };
  const stats = { ...state.stats, offers: state.stats.offers + 1 };
  // No timer here: the market owns the offer's one time-out and tells us (offer_expired).
  return accept({ ...state, offers: { ...state.offers, [msg.orderId]: pending }, stats }, [
    emit("offer_received", pending),
  ]);
}

function acceptOffer(state: CourierState, msg: Msg<"accept_offer">, ctx: TurnContext): Result {
  const pending = state.offers[msg.orderId];
  if (pending === undefined) {
    return refuse("offer_not_found", `no pending offer for order ${msg.orderId}`);
  }
  if (ctx.now >= pending.expiresAt) {
    return refuse("offer_expired", `the offer for order ${msg.orderId} has expired`);
  }
  const job: Job = {
    orderId: msg.orderId,
    temperatureClass: pending.temperatureClass,
    phase: "accepted",
    pickedUp: false,
    acceptedAt: ctx.now,
    assignedAt: null,
    pickupCode: null,
  };
  const next = {
    ...state,
    offers: without(state.offers, msg.orderId),
    jobs: { ...state.jobs, [msg.orderId]: job },
    stats: { ...state.stats, accepted: state.stats.accepted + 1 },
  };
  return accept(next, [
    emit("offer_accepted", { orderId: msg.orderId, marketId: pending.marketId }),
    toOrder(msg.orderId, {
      type: "courier_accepted",
      courierId: state.id,
      marketId: pending.marketId,
      at: ctx.now,
    }),
  ]);
}

function declineOffer(state: CourierState, msg: Msg<"decline_offer">, ctx: TurnContext): Result {
  const pending = state.offers[msg.orderId];
  if (pending === undefined) {
    return refuse("offer_not_found", `no pending offer for order ${msg.orderId}`);
  }
  const stats = {
    ...state.stats,
    declined: { ...state.stats.declined, [msg.reason]: state.stats.declined[msg.reason] + 1 },
  };
  return accept({ ...state, offers: without(state.offers, msg.orderId), stats }, [
    emit("offer_declined", { orderId: msg.orderId, reason: msg.reason, note: msg.note ?? null }),
    toOrder(msg.orderId, {
      type: "courier_declined",
      courierId: state.id,
      marketId: pending.marketId,
      reason: msg.reason,
      at: ctx.now,
    }),
    toMarket(pending.marketId, {
      type: "offer_declined",
      orderId: msg.orderId,
      courierId: state.id,
      reason: msg.reason,
    }),
  ]);
}

/**
 * The market's time-out ran out. The market has told the order too, so nothing is sent. An
 * offer already answered (the answer crossed the time-out) is a fact that changes nothing.
 */
function offerExpired(state: CourierState, msg: Msg<"offer_expired">): Result {
  const pending = state.offers[msg.orderId];
  if (pending === undefined) return accept(state);
  const stats = { ...state.stats, expired: state.stats.expired + 1 };
  return accept({ ...state, offers: without(state.offers, msg.orderId), stats }, [
    emit("offer_expired", { orderId: msg.orderId, expiresAt: pending.expiresAt }),
  ]);
}

function offerWithdrawn(
  state: CourierState,
  msg: Msg<"offer_withdrawn">,
  ctx: TurnContext,
): Result {
  if (state.offers[msg.orderId] === undefined) {
    // From the market, a fact that crossed our answer; from a dispatcher, a mistake to report.
    if (ctx.origin === "actor") return accept(state);
    return refuse("offer_not_found", `no pending offer for order ${msg.orderId}`);
  }
  const stats = { ...state.stats, withdrawn: state.stats.withdrawn + 1 };
  return accept({ ...state, offers: without(state.offers, msg.orderId), stats }, [
    emit("offer_withdrawn", { orderId: msg.orderId, reason: msg.reason ?? null }),
  ]);
}

function toStop(orderId: string, kind: Stop["kind"], place: Msg<"job_assigned">["pickup"]): Stop {
  return {
    orderId,
    kind,
    location: place.location,
    storeId: place.storeId ?? null,
    pickupPointId: place.pickupPointId ?? null,
    plannedAt: place.plannedAt ?? null,
  };
}

function jobAssigned(state: CourierState, msg: Msg<"job_assigned">, ctx: TurnContext): Result {
  if (state.shift === null) return refuse("not_on_shift", `courier ${state.id} is not on shift`);
  const existing = state.jobs[msg.orderId];
  if (existing !== undefined && existing.phase === "assigned") {
    return refuse("already_assigned", `order ${msg.orderId} is already on this courier's route`);
  }
  if (existing === undefined) {
    const full = capacityRefusal(state, msg.temperatureClass, msg.orderId);
    if (full !== null) return full;
  }
  const lastIndex = state.route.length + 1;
  const pickupIndex = msg.pickupIndex ?? state.route.length;
  const dropoffIndex = msg.dropoffIndex ?? lastIndex;
  if (pickupIndex > lastIndex || dropoffIndex > lastIndex) {
    return refuse("invalid_stop_index", `stop positions must be at most ${lastIndex}`);
  }
  if (pickupIndex >= dropoffIndex) {
    return refuse("precedence_violation", "the pickup must come before the drop-off");
  }
  const route = [...state.route];
  route.splice(pickupIndex, 0, toStop(msg.orderId, "pickup", msg.pickup));
  route.splice(dropoffIndex, 0, toStop(msg.orderId, "dropoff", msg.dropoff));
  const job: Job = {
    orderId: msg.orderId,
    temperatureClass: msg.temperatureClass,
    phase: "assigned",
    pickedUp: false,
    acceptedAt: existing?.acceptedAt ?? null,
    assignedAt: ctx.now,
    pickupCode: msg.pickupCode,
  };
  const effects: Effect[] = [];
  // A dispatcher may assign an order that is still on offer to this courier: the offer is moot.
  const offers =
    state.offers[msg.orderId] !== undefined ? without(state.offers, msg.orderId) : state.offers;
  effects.push(
    emit("job_assigned", {
      orderId: msg.orderId,
      temperatureClass: msg.temperatureClass,
      route: route.map(stopRef),
    }),
  );
  return accept({ ...state, offers, jobs: { ...state.jobs, [msg.orderId]: job }, route }, effects);
}

/** The order confirmed a stop (the pickup with the store's code, the drop-off with proof). */
function completeStop(state: CourierState, msg: Msg<"complete_stop">): Result {
  const job = state.jobs[msg.orderId];
  if (job === undefined)
    return refuse("job_not_found", `order ${msg.orderId} is not this courier's`);
  const index = state.route.findIndex((s) => s.orderId === msg.orderId && s.kind === msg.kind);
  if (index < 0) {
    return refuse("stop_not_found", `no open ${msg.kind} stop for order ${msg.orderId}`);
  }
  if (msg.kind === "dropoff" && !job.pickedUp) {
    return refuse("precedence_violation", `order ${msg.orderId} must be picked up before drop-off`);
  }
  const route = state.route.filter((_, i) => i !== index);
  const effects: Effect[] = [emit("stop_completed", { orderId: msg.orderId, kind: msg.kind })];
  let jobs: Record<string, Job>;
  if (msg.kind === "pickup") {
    jobs = { ...state.jobs, [msg.orderId]: { ...job, pickedUp: true } };
  } else {
    jobs = without(state.jobs, msg.orderId);
    effects.push(emit("job_finished", { orderId: msg.orderId }));
  }
  return accept({ ...state, jobs, route }, effects);
}

function reorderStops(state: CourierState, msg: Msg<"reorder_stops">): Result {
  const key = (s: StopRef) => `${s.orderId}:${s.kind}`;
  const byKey = new Map(state.route.map((s) => [key(s), s]));
  const requested = msg.stops.map(key);
  if (
    requested.length !== state.route.length ||
    new Set(requested).size !== requested.length ||
    requested.some((k) => !byKey.has(k))
  ) {
    return refuse("route_mismatch", "the new order must list exactly the stops on the route");
  }
  const route = requested.map((k) => byKey.get(k)!);
  const seenPickup = new Set<string>();
  for (const stop of route) {
    if (stop.kind === "pickup") seenPickup.add(stop.orderId);
    else if (byKey.has(`${stop.orderId}:pickup`) && !seenPickup.has(stop.orderId)) {
      return refuse(
        "precedence_violation",
        `order ${stop.orderId}'s pickup must come before its drop-off`,
      );
    }
  }
  if (route.every((stop, i) => stop === state.route[i])) return accept(state);
  return accept({ ...state, route }, [emit("stops_reordered", { stops: route.map(stopRef) })]);
}

function jobReleased(state: CourierState, msg: Msg<"job_released">, ctx: TurnContext): Result {
  const job = state.jobs[msg.orderId];
  if (job === undefined)
    return refuse("job_not_found", `order ${msg.orderId} is not this courier's`);
  const effects: Effect[] = [
    emit("job_released", { orderId: msg.orderId, reason: msg.reason, pickedUp: job.pickedUp }),
  ];
  if (ctx.origin !== "actor") {
    effects.push(
      toOrder(msg.orderId, {
        type: "courier_released",
        courierId: state.id,
        reason: msg.reason,
        at: ctx.now,
      }),
    );
  }
  return accept(
    {
      ...state,
      jobs: without(state.jobs, msg.orderId),
      route: state.route.filter((s) => s.orderId !== msg.orderId),
    },
    effects,
  );
}

function handle(state: CourierState, msg: CourierMessage, ctx: TurnContext): Result {
  switch (msg.type) {
    case "go_on_shift":
      return goOnShift(state, msg, ctx);
    case "go_off_shift":
      return goOffShift(state, msg, ctx);
    case "location":
      return location(state, msg, ctx);
    case "offer":
      return offer(state, msg, ctx);
    case "accept_offer":
      return acceptOffer(state, msg, ctx);
    case "decline_offer":
      return declineOffer(state, msg, ctx);
    case "offer_expired":
      return offerExpired(state, msg);
    case "offer_withdrawn":
      return offerWithdrawn(state, msg, ctx);
    case "job_assigned":
      return jobAssigned(state, msg, ctx);
    case "complete_stop":
      return completeStop(state, msg);
    case "reorder_stops":
      return reorderStops(state, msg);
    case "job_released":
      return jobReleased(state, msg, ctx);
  }
}

// ---------------------------------------------------------------- market bookkeeping

/** What the market should know about this courier, or null when it should forget them. */
function availability(
  state: CourierState,
): Extract<MarketMessage, { type: "courier_available" }> | null {
  if (state.shift === null) return null;
  return {
    type: "courier_available",
    courierId: state.id,
    mode: state.shift.vehicle.mode,
    vehicleId: state.shift.vehicle.vehicleId,
    freeCapacity: freeCapacity(state),
    freeSlots: freeSlots(state),
    position: state.position,
  };
}

/** Tells the market when shift, capacity or vehicle changed in this turn (not position). */
function marketSync(before: CourierState, after: CourierState): Effect[] {
  const was = availability(before);
  const is = availability(after);
  if (is === null) {
    return was === null || before.shift === null
      ? []
      : [
          toMarket(before.shift.marketId, {
            type: "courier_unavailable",
            courierId: before.id,
            reason: "off_shift",
          }),
        ];
  }
  const same =
    was !== null &&
    was.mode === is.mode &&
    was.vehicleId === is.vehicleId &&
    was.freeCapacity === is.freeCapacity &&
    JSON.stringify(was.freeSlots) === JSON.stringify(is.freeSlots);
  return same || after.shift === null ? [] : [toMarket(after.shift.marketId, is)];
}

// ---------------------------------------------------------------- the logic

export const courierLogic: ActorLogic<CourierState, CourierMessage> = {
  type: "courier",
  messages: CourierMessage,
  version: 1,
  initial(self) {
    return {
      id: self.id,
      shift: null,
      position: null,
      positionSentAt: null,
      offers: {},
      jobs: {},
      route: [],
      stats: {
        offers: 0,
        accepted: 0,
        declined: { too_far: 0, busy: 0, vehicle_unsuitable: 0, other: 0 },
        expired: 0,
        withdrawn: 0,
      },
    };
  },
  transition(state, msg, ctx) {
    const denied = authorize(state, ctx, ALLOWED[msg.type]);
    if (denied !== null) return denied;
    const result = handle(state, msg, ctx);
    if (!result.ok) return result;
    return accept(result.state, [...result.effects, ...marketSync(state, result.state)]);
  },
  persist(state) {
    return state;
  },
  restore(data, version) {
    if (version !== 1) throw new Error(`courier state version ${version} is not supported`);
    return CourierState.parse(data);
  },
  view(state) {
    return {
      ...state,
      status: courierStatus(state),
      freeCapacity: freeCapacity(state),
      freeSlots: freeSlots(state),
    };
  },
};
