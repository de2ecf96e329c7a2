/**
 * The store actor (`store/<id>`): a shop or kitchen that prepares orders and hands them to
 * couriers. It is the front door for the store's staff: it knows whether the store is open,
 * which orders it owes a courier (pending hand-offs, with their pickup codes), how long it
 * usually takes to prepare an order, and the problems it reported.
 *
 * Cross-actor commands SENT (after the turn commits), all to order/<orderId>:
 *   accept          {readyAt, readyAtSource}   staff accepted (readyAt stated or predicted)
 *   cancel          {reason, note?}            staff rejected it, or it arrived while closed
 *                                              (reason "store_closed")
 *   start_preparing {}
 *   mark_ready      {}
 *   set_ready_at    {readyAt, readyAtSource: "stated"}   a new ready time or a reported delay
 *   pick_up         {pickupCode, courierId, vehicleId?, compartmentId?}
 *                                              hand-off confirmed with the courier's code, into
 *                                              the van compartment named (already loaded there)
 *
 * Cross-actor commands EXPECTED from order/<orderId> (origin "actor"), see actors/order/logic.ts:
 *   order_placed {…}, order_accepted {…}, courier_assigned {orderId, courierId | null},
 *   order_closed {orderId, reason}. They are facts: one about an order this store no longer
 *   holds changes nothing and is accepted without effects.
 * Timer: "resume" delivers pause_expired {pausedAt} when a pause with `until` runs out.
 */
import { accept, emit, refuse } from "../logic.ts";
import type { ActorLogic, Effect, TurnContext, TurnResult } from "../types.ts";
import type { OrderMessage } from "../../protocol/actors/order.ts";
import { OpenHours, StoreMessage } from "../../protocol/actors/store.ts";
import { isOpenAt, openHoursProblem } from "./hours.ts";
import { DEFAULT_PREP, learnPrep, predictReadyAt } from "./prep.ts";
import { parsePersistedStore, toPersisted } from "./persisted.ts";
import type {
  IncomingOrder,
  PendingHandOff,
  Store,
  StoreProblem,
  StoreState,
  StoreView,
} from "./types.ts";

export { isOpenAt, shanghaiLocalTime, SHANGHAI_OFFSET_MS } from "./hours.ts";
export { DEFAULT_PREP, PREP_ALPHA, learnPrep, predictReadyAt, predictReadyWindow } from "./prep.ts";

export const RESUME_TIMER = "resume";
export const PROBLEMS_PER_ORDER = 20;

type Msg<T extends StoreMessage["type"]> = Extract<StoreMessage, { type: T }>;
type Result = TurnResult<StoreState>;

/** Whether the store takes new orders at `now`: registered, not paused, and within its hours. */
export function isStoreOpen(state: StoreState, now: number): boolean {
  return (
    state.status === "active" && state.pause === null && isOpenAt(state.profile.openHours, now)
  );
}

/** When an order the store accepts at `now` is expected to be ready, from its learned prep time. */
export function predictedReadyAt(state: StoreState, now: number): number {
  return predictReadyAt(state.status === "active" ? state.prep : DEFAULT_PREP, now);
}

// ---- authorization ----

/** Store staff (the store's own principal) and dispatchers, admins and the system. */
function authorizeStaff(store: Store, ctx: TurnContext): Result | null {
  const by = ctx.by;
  if (ctx.origin === "timer") return refuse("forbidden", "a timer may not send this message");
  if (by === undefined) return refuse("forbidden", "this message needs an authorized sender");
  switch (by.role) {
    case "dispatcher":
    case "admin":
    case "system":
      return null;
    case "store":
      return by.id === store.id
        ? null
        : refuse("not_own_store", `store ${by.id} may not act for store ${store.id}`);
    default:
      return refuse("forbidden", `a ${by.role} may not act for a store`);
  }
}

/** Notices from order actors (origin "actor"), or the system / an admin replaying them. */
function authorizeNotice(ctx: TurnContext): Result | null {
  if (ctx.origin === "actor") return null;
  const role = ctx.by?.role;
  if (ctx.origin !== "timer" && (role === "system" || role === "admin")) return null;
  return refuse("forbidden", "only order actors send this message");
}

function author(ctx: TurnContext): string {
  return ctx.by ? `${ctx.by.role}:${ctx.by.id}` : ctx.origin;
}

// ---- effects and state helpers ----

function toOrder(orderId: string, msg: OrderMessage): Effect {
  return { kind: "send", command: { to: { type: "order", id: orderId }, msg } };
}

function withEntry<V>(map: ReadonlyMap<string, V>, key: string, value: V): ReadonlyMap<string, V> {
  const next = new Map(map);
  next.set(key, value);
  return next;
}

function without<V>(map: ReadonlyMap<string, V>, key: string): ReadonlyMap<string, V> {
  if (!map.has(key)) return map;
  const next = new Map(map);
  next.delete(key);
  return next;
}

/** The store without any trace of the order (it left: handed off, rejected or closed). */
function forget(store: Store, orderId: string): Store {
  return {
    ...store,
    incoming: without(store.incoming, orderId),
    pending: without(store.pending, orderId),
    problems: without(store.problems, orderId),
  };
}

/** The pending hand-off for a staff action, or the refusal that explains why there is none. */
function pendingFor(store: Store, orderId: string): PendingHandOff | Result {
  const pending = store.pending.get(orderId);
  if (pending) return pending;
  if (store.incoming.has(orderId)) {
    return refuse("not_accepted", `order ${orderId} has not been accepted yet`);
  }
  return refuse("unknown_order", `store ${store.id} has no order ${orderId}`);
}

function isRefusal(x: PendingHandOff | Result): x is Result {
  return "ok" in x;
}

function checkHours(hours: OpenHours): Result | null {
  const problem = openHoursProblem(hours);
  return problem === null ? null : refuse("invalid_open_hours", problem);
}

// ---- transitions ----

function register(state: StoreState, msg: Msg<"register">, ctx: TurnContext): Result {
  const role = ctx.by?.role;
  if (ctx.origin === "timer" || (role !== "admin" && role !== "system")) {
    return refuse("forbidden", "only an admin registers stores");
  }
  if (state.status !== "none") {
    return refuse("already_registered", `store ${state.id} is already registered`);
  }
  const bad = checkHours(msg.openHours);
  if (bad) return bad;
  const store: Store = {
    id: state.id,
    status: "active",
    profile: {
      name: msg.name,
      marketId: msg.marketId,
      location: msg.location,
      openHours: msg.openHours,
    },
    pause: null,
    incoming: new Map(),
    pending: new Map(),
    problems: new Map(),
    prep: DEFAULT_PREP,
  };
  return accept(store, [emit("registered", { name: msg.name, marketId: msg.marketId })]);
}

function updateProfile(store: Store, msg: Msg<"update_profile">): Result {
  if (msg.openHours) {
    const bad = checkHours(msg.openHours);
    if (bad) return bad;
  }
  const profile = {
    ...store.profile,
    ...(msg.name !== undefined ? { name: msg.name } : {}),
    ...(msg.location !== undefined ? { location: msg.location } : {}),
    ...(msg.openHours !== undefined ? { openHours: msg.openHours } : {}),
  };
  const fields = (["name", "location", "openHours"] as const).filter((f) => msg[f] !== undefined);
  return accept({ ...store, profile }, [emit("profile_updated", { fields })]);
}

function pause(store: Store, msg: Msg<"pause">, ctx: TurnContext): Result {
  if (store.pause !== null) return refuse("already_paused", `store ${store.id} is already paused`);
  if (msg.until !== undefined && msg.until <= ctx.now) {
    return refuse("invalid_pause_until", "a pause must end in the future");
  }
  const until = msg.until ?? null;
  const next: Store = {
    ...store,
    pause: { reason: msg.reason ?? null, by: author(ctx), at: ctx.now, until },
  };
  const effects: Effect[] = [emit("paused", { reason: msg.reason ?? null, until })];
  if (until !== null) {
    effects.push({
      kind: "schedule",
      timer: RESUME_TIMER,
      at: until,
      msg: { type: "pause_expired", pausedAt: ctx.now },
    });
  }
  return accept(next, effects);
}

function resume(store: Store): Result {
  if (store.pause === null) return refuse("not_paused", `store ${store.id} is not paused`);
  const effects: Effect[] = [emit("resumed", { automatic: false, pausedAt: store.pause.at })];
  if (store.pause.until !== null) effects.unshift({ kind: "cancel", timer: RESUME_TIMER });
  return accept({ ...store, pause: null }, effects);
}

function pauseExpired(store: Store, msg: Msg<"pause_expired">, ctx: TurnContext): Result {
  if (ctx.origin !== "timer") return refuse("forbidden", "only the resume timer sends this");
  if (store.pause === null || store.pause.at !== msg.pausedAt) {
    return refuse("stale_timer", `the pause of ${msg.pausedAt} is no longer in force`);
  }
  return accept({ ...store, pause: null }, [
    emit("resumed", { automatic: true, pausedAt: store.pause.at }),
  ]);
}

function orderPlaced(store: Store, msg: Msg<"order_placed">, ctx: TurnContext): Result {
  if (store.incoming.has(msg.orderId) || store.pending.has(msg.orderId)) {
    return refuse("duplicate_order", `order ${msg.orderId} is already at store ${store.id}`);
  }
  if (!isStoreOpen(store, ctx.now)) {
    // Not refused: the order must hear of it, or it would wait for an answer that never comes.
    return accept(store, [
      emit("order_rejected", { orderId: msg.orderId, reason: "store_closed" }),
      toOrder(msg.orderId, { type: "cancel", reason: "store_closed" }),
    ]);
  }
  const incoming: IncomingOrder = {
    orderId: msg.orderId,
    shopOrderId: msg.shopOrderId,
    placedAt: ctx.now,
    promisedAt: msg.promisedAt,
    temperatureClass: msg.temperatureClass,
    itemsSummary: msg.itemsSummary,
    pickupCode: msg.pickupCode,
  };
  return accept({ ...store, incoming: withEntry(store.incoming, msg.orderId, incoming) }, [
    emit("order_received", {
      orderId: msg.orderId,
      shopOrderId: msg.shopOrderId,
      promisedAt: msg.promisedAt,
      temperatureClass: msg.temperatureClass,
    }),
  ]);
}

function orderAcceptedNotice(store: Store, msg: Msg<"order_accepted">): Result {
  const existing = store.pending.get(msg.orderId);
  const pending: PendingHandOff = {
    orderId: msg.orderId,
    shopOrderId: msg.shopOrderId,
    acceptedAt: msg.acceptedAt,
    promisedAt: msg.promisedAt,
    temperatureClass: msg.temperatureClass,
    itemsSummary: msg.itemsSummary,
    readyAt: msg.readyAt,
    readyAtSource: msg.readyAtSource,
    preparingAt: existing?.preparingAt ?? null,
    readyMarkedAt: existing?.readyMarkedAt ?? null,
    courierId: existing?.courierId ?? null,
    pickupCode: msg.pickupCode,
  };
  const next: Store = {
    ...store,
    incoming: without(store.incoming, msg.orderId),
    pending: withEntry(store.pending, msg.orderId, pending),
  };
  return accept(next, [
    emit("order_accepted", {
      orderId: msg.orderId,
      readyAt: msg.readyAt,
      readyAtSource: msg.readyAtSource,
      via: "order",
    }),
  ]);
}

function courierAssigned(store: Store, msg: Msg<"courier_assigned">): Result {
  const pending = store.pending.get(msg.orderId);
  if (!pending || pending.courierId === msg.courierId) return accept(store);
  const next = { ...pending, courierId: msg.courierId };
  return accept({ ...store, pending: withEntry(store.pending, msg.orderId, next) }, [
    emit("courier_assigned", { orderId: msg.orderId, courierId: msg.courierId }),
  ]);
}

function orderClosed(store: Store, msg: Msg<"order_closed">): Result {
  if (!store.incoming.has(msg.orderId) && !store.pending.has(msg.orderId)) return accept(store);
  return accept(forget(store, msg.orderId), [
    emit("order_closed", { orderId: msg.orderId, reason: msg.reason }),
  ]);
}

function acceptOrder(store: Store, msg: Msg<"accept_order">, ctx: TurnContext): Result {
  if (store.pending.has(msg.orderId)) {
    return refuse("already_accepted", `order ${msg.orderId} is already accepted`);
  }
  const incoming = store.incoming.get(msg.orderId);
  if (!incoming) return refuse("unknown_order", `store ${store.id} has no order ${msg.orderId}`);
  if (!isStoreOpen(store, ctx.now)) {
    return refuse("store_closed", `store ${store.id} is closed and takes no new orders`);
  }
  if (msg.readyAt !== undefined && msg.readyAt < ctx.now) {
    return refuse("invalid_ready_at", "the ready-at time is in the past");
  }
  const readyAt = msg.readyAt ?? predictReadyAt(store.prep, ctx.now);
  const readyAtSource = msg.readyAt === undefined ? "predicted" : "stated";
  const pending: PendingHandOff = {
    orderId: incoming.orderId,
    shopOrderId: incoming.shopOrderId,
    acceptedAt: ctx.now,
    promisedAt: incoming.promisedAt,
    temperatureClass: incoming.temperatureClass,
    itemsSummary: incoming.itemsSummary,
    readyAt,
    readyAtSource,
    preparingAt: null,
    readyMarkedAt: null,
    courierId: null,
    pickupCode: incoming.pickupCode,
  };
  const next: Store = {
    ...store,
    incoming: without(store.incoming, msg.orderId),
    pending: withEntry(store.pending, msg.orderId, pending),
  };
  return accept(next, [
    emit("order_accepted", { orderId: msg.orderId, readyAt, readyAtSource, via: "store" }),
    toOrder(msg.orderId, { type: "accept", readyAt, readyAtSource }),
  ]);
}

function rejectOrder(store: Store, msg: Msg<"reject_order">): Result {
  if (!store.incoming.has(msg.orderId) && !store.pending.has(msg.orderId)) {
    return refuse("unknown_order", `store ${store.id} has no order ${msg.orderId}`);
  }
  const note = msg.note !== undefined ? { note: msg.note } : {};
  return accept(forget(store, msg.orderId), [
    emit("order_rejected", { orderId: msg.orderId, reason: msg.reason }),
    toOrder(msg.orderId, { type: "cancel", reason: msg.reason, ...note }),
  ]);
}

function startPreparing(store: Store, msg: Msg<"start_preparing">, ctx: TurnContext): Result {
  const pending = pendingFor(store, msg.orderId);
  if (isRefusal(pending)) return pending;
  if (pending.preparingAt !== null || pending.readyMarkedAt !== null) {
    return refuse("invalid_transition", `order ${msg.orderId} is already being prepared`);
  }
  const next = { ...pending, preparingAt: ctx.now };
  return accept({ ...store, pending: withEntry(store.pending, msg.orderId, next) }, [
    emit("preparing_started", { orderId: msg.orderId }),
    toOrder(msg.orderId, { type: "start_preparing" }),
  ]);
}

function markReady(store: Store, msg: Msg<"mark_ready">, ctx: TurnContext): Result {
  const pending = pendingFor(store, msg.orderId);
  if (isRefusal(pending)) return pending;
  if (pending.readyMarkedAt !== null) {
    return refuse("already_ready", `order ${msg.orderId} is already ready`);
  }
  const prepMinutes = (ctx.now - pending.acceptedAt) / 60_000;
  const next: PendingHandOff = {
    ...pending,
    readyAt: ctx.now,
    readyAtSource: "actual",
    readyMarkedAt: ctx.now,
  };
  const prep = learnPrep(store.prep, prepMinutes);
  return accept({ ...store, prep, pending: withEntry(store.pending, msg.orderId, next) }, [
    emit("order_ready", {
      orderId: msg.orderId,
      prepMinutes,
      expectedReadyAt: pending.readyAt,
      learnedMeanMinutes: prep.meanMinutes,
    }),
    toOrder(msg.orderId, { type: "mark_ready" }),
  ]);
}

function setReadyAt(store: Store, msg: Msg<"set_ready_at">, ctx: TurnContext): Result {
  const pending = pendingFor(store, msg.orderId);
  if (isRefusal(pending)) return pending;
  if (pending.readyMarkedAt !== null) {
    return refuse("already_ready", `order ${msg.orderId} is already ready`);
  }
  if (msg.readyAt < ctx.now) return refuse("invalid_ready_at", "the ready-at time is in the past");
  const next: PendingHandOff = { ...pending, readyAt: msg.readyAt, readyAtSource: "stated" };
  return accept({ ...store, pending: withEntry(store.pending, msg.orderId, next) }, [
    emit("ready_at_changed", {
      orderId: msg.orderId,
      readyAt: msg.readyAt,
      previous: pending.readyAt,
    }),
    toOrder(msg.orderId, { type: "set_ready_at", readyAt: msg.readyAt, readyAtSource: "stated" }),
  ]);
}

function reportProblem(store: Store, msg: Msg<"report_problem">, ctx: TurnContext): Result {
  const pending = store.pending.get(msg.orderId);
  if (!pending && !store.incoming.has(msg.orderId)) {
    return refuse("unknown_order", `store ${store.id} has no order ${msg.orderId}`);
  }
  if (msg.kind === "delay") {
    if (msg.delayMinutes === undefined) {
      return refuse("delay_minutes_required", "a delay needs delayMinutes");
    }
    if (!pending) return refuse("not_accepted", `order ${msg.orderId} has not been accepted yet`);
    if (pending.readyMarkedAt !== null) {
      return refuse("already_ready", `order ${msg.orderId} is already ready`);
    }
  }
  const problem: StoreProblem = {
    kind: msg.kind,
    note: msg.note ?? null,
    delayMinutes: msg.delayMinutes ?? null,
    at: ctx.now,
    by: author(ctx),
  };
  const list = [...(store.problems.get(msg.orderId) ?? []), problem].slice(-PROBLEMS_PER_ORDER);
  let next: Store = { ...store, problems: withEntry(store.problems, msg.orderId, list) };
  const effects: Effect[] = [];
  let readyAt: number | null = null;
  if (msg.kind === "delay" && pending && msg.delayMinutes !== undefined) {
    readyAt = Math.max(pending.readyAt, ctx.now) + msg.delayMinutes * 60_000;
    const delayed: PendingHandOff = { ...pending, readyAt, readyAtSource: "stated" };
    next = { ...next, pending: withEntry(store.pending, msg.orderId, delayed) };
    effects.push(toOrder(msg.orderId, { type: "set_ready_at", readyAt, readyAtSource: "stated" }));
  }
  effects.unshift(
    emit("problem_reported", {
      orderId: msg.orderId,
      kind: msg.kind,
      note: problem.note,
      delayMinutes: problem.delayMinutes,
      readyAt,
    }),
  );
  return accept(next, effects);
}

function handOff(store: Store, msg: Msg<"hand_off">, ctx: TurnContext): Result {
  const pending = pendingFor(store, msg.orderId);
  if (isRefusal(pending)) return pending;
  if (pending.courierId === null) {
    return refuse("no_courier_assigned", `no courier is assigned to order ${msg.orderId} yet`);
  }
  if (msg.courierId !== undefined && msg.courierId !== pending.courierId) {
    return refuse(
      "not_assigned_courier",
      `order ${msg.orderId} is assigned to another courier than ${msg.courierId}`,
    );
  }
  if (msg.pickupCode !== pending.pickupCode) {
    return refuse("wrong_pickup_code", `wrong pickup code for order ${msg.orderId}`);
  }
  // The compartment is the vehicle's business (it accepted the `load` before this was sent):
  // the store passes it on for the order to record.
  const compartment =
    msg.vehicleId !== undefined && msg.compartmentId !== undefined
      ? { vehicleId: msg.vehicleId, compartmentId: msg.compartmentId }
      : null;
  return accept(forget(store, msg.orderId), [
    emit("handed_off", {
      orderId: msg.orderId,
      courierId: pending.courierId,
      // How long the ready order waited for its courier (negative: the courier waited).
      waitedMs: ctx.now - pending.readyAt,
      vehicleId: compartment?.vehicleId ?? null,
      compartmentId: compartment?.compartmentId ?? null,
    }),
    toOrder(msg.orderId, {
      type: "pick_up",
      pickupCode: msg.pickupCode,
      courierId: pending.courierId,
      ...(compartment ?? {}),
    }),
  ]);
}

// ---- the logic ----

function transition(state: StoreState, msg: StoreMessage, ctx: TurnContext): Result {
  if (msg.type === "register") return register(state, msg, ctx);
  if (state.status === "none")
    return refuse("unknown_store", `store ${state.id} is not registered`);
  const store = state;
  switch (msg.type) {
    case "order_placed":
    case "order_accepted":
    case "courier_assigned":
    case "order_closed": {
      const denied = authorizeNotice(ctx);
      if (denied) return denied;
      if (msg.type === "order_placed") return orderPlaced(store, msg, ctx);
      if (msg.type === "order_accepted") return orderAcceptedNotice(store, msg);
      if (msg.type === "courier_assigned") return courierAssigned(store, msg);
      return orderClosed(store, msg);
    }
    case "pause_expired":
      return pauseExpired(store, msg, ctx);
    default:
      break;
  }
  const denied = authorizeStaff(store, ctx);
  if (denied) return denied;
  switch (msg.type) {
    case "update_profile":
      return updateProfile(store, msg);
    case "pause":
      return pause(store, msg, ctx);
    case "resume":
      return resume(store);
    case "accept_order":
      return acceptOrder(store, msg, ctx);
    case "reject_order":
      return rejectOrder(store, msg);
    case "start_preparing":
      return startPreparing(store, msg, ctx);
    case "mark_ready":
      return markReady(store, msg, ctx);
    case "set_ready_at":
      return setReadyAt(store, msg, ctx);
    case "report_problem":
      return reportProblem(store, msg, ctx);
    case "hand_off":
      return handOff(store, msg, ctx);
  }
}

/** What a query shows: the store without its pickup codes. */
export function viewStore(state: StoreState): StoreView {
  if (state.status === "none") return state;
  const persisted = toPersisted(state);
  return {
    ...persisted,
    incoming: persisted.incoming.map(({ pickupCode: _code, ...rest }) => rest),
    pending: persisted.pending.map(({ pickupCode: _code, ...rest }) => rest),
  };
}

export const storeLogic: ActorLogic<StoreState, StoreMessage> = {
  type: "store",
  messages: StoreMessage,
  initial: (self) => ({ id: self.id, status: "none" }),
  transition,
  version: 1,
  persist: (state) => (state.status === "none" ? state : toPersisted(state)),
  restore: (data, version) => parsePersistedStore(data, version),
  view: viewStore,
};
