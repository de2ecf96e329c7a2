/**
 * The wave actor (`wave/<market>-<yyyymmdd>-<slot>`): a scheduled wave of orders to community
 * pickup points and doors (社区集单), as a pure state machine.
 *
 * - **Orders join until departure.** Before the cut-off they simply gather; after it (a late
 *   order) or on a cancellation before departure the wave asks for a new plan. A pickup point
 *   refuses orders past its capacity, and chilled or frozen goods when it has no chilled shelf.
 * - **Planning is off the turn.** The cut-off is a durable reminder; at it the wave emits
 *   `plan_requested` carrying the whole problem (`WaveProblem`), and the host's wave planner
 *   (actors/wave/planner.ts, a singleton) solves it on a worker thread and answers with
 *   `plan_ready`. Only the answer to the request in flight is taken; an older one is a fact in
 *   flight. A `plan_timeout` reminder asks again (another seed) if no answer comes, three times.
 * - **Every plan is re-checked here** (`evaluateRoute`: windows, service, precedence, capacity
 *   per dimension, the horizon) before it is stored: the wave trusts no planner, and a plan that
 *   fails is refused with the first violation.
 * - **Dispatchers win.** A stop moved to another van is re-checked and refused with the reason
 *   when it does not fit (the new cost is in the plan they read back); a locked route is kept as
 *   it is by re-plans (its orders are not offered to the planner, its van not counted) and by
 *   moves; a re-plan can be asked for until departure.
 * - **Departure** (a reminder) puts the plan live and arms one `closing:<pointId>` reminder per
 *   point with orders. A point's staff confirm a van's arrival (its orders are then at the point,
 *   with their codes) and hand goods to shoppers who show their code; at closing time what is
 *   still on the shelf is raised as an alert.
 */
import type { ActorLogic, Effect, Principal, TurnContext, TurnResult } from "../types.ts";
import { accept, emit, refuse } from "../logic.ts";
import { WaveMessage, WaveTravel } from "../../protocol/actors/wave.ts";
import type { PlannedVisit } from "../../protocol/actors/wave.ts";
import { buildProblem, evaluateRoute, insertOrders } from "./routes.ts";
import type { PlanRequest, VanRoute, WaveOrder, WavePlan, WaveState } from "./types.ts";

/** How long the wave waits for the planner before asking again. */
export const PLAN_TIMEOUT_MS = 60_000;
/** Requests for one plan before the wave gives up and raises an alert. */
export const PLAN_ATTEMPTS = 3;

export const closingTimer = (pickupPointId: string) => `closing:${pickupPointId}`;

type Msg<T extends WaveMessage["type"]> = Extract<WaveMessage, { type: T }>;
type Result = TurnResult<WaveState>;

const isOperator = (by: Principal | undefined) =>
  by !== undefined && (by.role === "dispatcher" || by.role === "admin");

/**
 * A fact for the order actor of an order that joined through one, on the wave's own authority
 * (the staff member who confirmed an arrival speaks to the wave, not to each order).
 */
function toOrder(order: WaveOrder, msg: { type: string } & Record<string, unknown>): Effect[] {
  if (!order.viaOrder) return [];
  return [
    { kind: "send", command: { to: { type: "order", id: order.orderId }, msg, asSelf: true } },
  ];
}

export function initialWave(): WaveState {
  return {
    status: "new",
    config: null,
    pickupPoints: {},
    orders: {},
    plan: null,
    pending: null,
    lastRequestId: 0,
    locked: [],
  };
}

// ---------------------------------------------------------------- planning

/** Orders on locked vans: kept out of a re-plan. */
function lockedOrders(state: WaveState): Set<string> {
  const out = new Set<string>();
  for (const route of state.plan?.routes ?? []) {
    if (!state.locked.includes(route.vehicleId)) continue;
    for (const v of route.visits) out.add(v.orderId);
  }
  return out;
}

function requestPlan(
  state: WaveState,
  reason: PlanRequest["reason"],
  ctx: TurnContext,
  attempt = 1,
  requestId = state.lastRequestId + 1,
): { state: WaveState; effects: Effect[] } {
  const config = state.config!;
  const freeVans = config.fleet.vans.length - state.locked.length;
  const problem = buildProblem(state, requestId, attempt, lockedOrders(state), freeVans);
  const pending: PlanRequest = { requestId, attempt, requestedAt: ctx.now, reason };
  return {
    state: { ...state, pending, lastRequestId: Math.max(state.lastRequestId, requestId) },
    effects: [
      emit("plan_requested", { reason, problem }),
      {
        kind: "schedule",
        timer: "plan",
        at: ctx.now + PLAN_TIMEOUT_MS,
        msg: { type: "plan_timeout", requestId },
      },
    ],
  };
}

/** Evaluates routes into a plan; the vans' order is the fleet's. */
function makePlan(
  state: WaveState,
  byVan: ReadonlyMap<string, readonly PlannedVisit[]>,
  unplanned: readonly string[],
  requestId: number | null,
  now: number,
): { plan: WavePlan; violation: string | null } {
  const config = state.config!;
  let violation: string | null = null;
  let cost = 0;
  let vans = 0;
  const routes: VanRoute[] = config.fleet.vans.map((van) => {
    const visits = byVan.get(van.vehicleId) ?? [];
    const evaluation = evaluateRoute(state, visits);
    if (!evaluation.feasible && violation === null) {
      violation = `van ${van.vehicleId}: ${evaluation.violation}`;
    }
    cost += evaluation.travelMinutes;
    if (visits.length > 0) vans++;
    return {
      vehicleId: van.vehicleId,
      courierId: van.courierId,
      locked: state.locked.includes(van.vehicleId),
      visits,
      stops: evaluation.stops,
      travelMinutes: evaluation.travelMinutes,
      returnAt: evaluation.returnAt,
    };
  });
  const plan: WavePlan = {
    version: (state.plan?.version ?? 0) + 1,
    requestId,
    routes,
    unplanned,
    cost,
    vans,
    plannedAt: now,
  };
  return { plan, violation };
}

function visitsByVan(plan: WavePlan | null): Map<string, PlannedVisit[]> {
  const out = new Map<string, PlannedVisit[]>();
  for (const route of plan?.routes ?? []) out.set(route.vehicleId, [...route.visits]);
  return out;
}

function planSummary(plan: WavePlan) {
  return {
    version: plan.version,
    vans: plan.vans,
    cost: plan.cost,
    unplanned: plan.unplanned,
    routes: plan.routes.map((r) => ({
      vehicleId: r.vehicleId,
      courierId: r.courierId,
      locked: r.locked,
      stops: r.stops.length,
      travelMinutes: r.travelMinutes,
      returnAt: r.returnAt,
    })),
  };
}

// ---------------------------------------------------------------- handlers

function onOpen(state: WaveState, msg: Msg<"open">, ctx: TurnContext): Result {
  if (!isOperator(ctx.by) && ctx.by?.role !== "system") {
    return refuse("forbidden", "only a dispatcher or the system opens a wave");
  }
  if (state.status !== "new") return refuse("already_open", "this wave is already open");
  if (!(msg.cutoffAt <= msg.departAt && msg.departAt < msg.horizonAt)) {
    return refuse("invalid_times", "a wave needs cut-off ≤ departure < the end of the shift");
  }
  if (msg.cutoffAt <= ctx.now) return refuse("invalid_times", "the cut-off has already passed");
  const vehicles = new Set(msg.fleet.vans.map((v) => v.vehicleId));
  if (vehicles.size !== msg.fleet.vans.length) {
    return refuse("duplicate_vehicle", "a van is listed twice in the fleet");
  }
  const points: Record<string, (typeof msg.pickupPoints)[number]> = {};
  for (const p of msg.pickupPoints) {
    if (points[p.id] !== undefined)
      return refuse("duplicate_pickup_point", `pickup point ${p.id} is listed twice`);
    points[p.id] = p;
  }
  const config = {
    marketId: msg.marketId,
    cutoffAt: msg.cutoffAt,
    departAt: msg.departAt,
    horizonAt: msg.horizonAt,
    depot: msg.depot,
    fleet: msg.fleet,
    travel: msg.travel ?? WaveTravel.parse({}),
  };
  return accept({ ...state, status: "open", config, pickupPoints: points }, [
    emit("wave_opened", {
      marketId: msg.marketId,
      cutoffAt: msg.cutoffAt,
      departAt: msg.departAt,
      horizonAt: msg.horizonAt,
      vans: msg.fleet.vans.length,
      pickupPoints: msg.pickupPoints.map((p) => ({ id: p.id, name: p.name, location: p.location })),
    }),
    { kind: "schedule", timer: "cutoff", at: msg.cutoffAt, msg: { type: "cutoff" } },
    { kind: "schedule", timer: "departure", at: msg.departAt, msg: { type: "departure" } },
  ]);
}

/** Who may put an order into or out of the wave: the order itself, the shop, its store, operators. */
function mayChangeOrders(ctx: TurnContext, storeId: string | null): boolean {
  if (ctx.origin === "actor") return true;
  const by = ctx.by;
  if (by === undefined) return false;
  if (by.role === "system" || isOperator(by)) return true;
  return by.role === "store" && storeId !== null && by.id === storeId;
}

function onJoin(state: WaveState, msg: Msg<"join">, ctx: TurnContext): Result {
  if (!mayChangeOrders(ctx, msg.storeId)) {
    return refuse(
      "forbidden",
      "only the shop, the order's store or a dispatcher adds orders to a wave",
    );
  }
  if (state.status === "new" || state.config === null)
    return refuse("wave_not_open", "this wave is not open");
  if (state.status !== "open" && state.status !== "cut_off") {
    return refuse("wave_departed", "the vans of this wave have left; the order cannot join");
  }
  const config = state.config;
  const existing = state.orders[msg.orderId];
  if (existing !== undefined && existing.status !== "joined") {
    return refuse("order_not_changeable", `order ${msg.orderId} is ${existing.status}`);
  }
  const cold = msg.temperatureClass !== "ambient";
  if (msg.destination.kind === "pickup_point") {
    const point = state.pickupPoints[msg.destination.pickupPointId];
    if (point === undefined) {
      return refuse(
        "unknown_pickup_point",
        `pickup point ${msg.destination.pickupPointId} is not in this wave`,
      );
    }
    if (cold && !point.chilledShelf) {
      return refuse(
        "no_chilled_shelf",
        `${point.name} has no chilled shelf for ${msg.temperatureClass} goods`,
      );
    }
    const there = Object.values(state.orders).filter(
      (o) =>
        o.orderId !== msg.orderId &&
        o.destination.kind === "pickup_point" &&
        o.destination.pickupPointId === point.id,
    ).length;
    if (there >= point.capacity) {
      return refuse(
        "pickup_point_full",
        `${point.name} holds ${point.capacity} orders of this wave and is full`,
      );
    }
  } else if (msg.destination.window.from >= msg.destination.window.to) {
    return refuse("invalid_window", "a door's window must start before it ends");
  }
  if (msg.temperatureClass === "frozen" && config.fleet.compartments.frozen <= 0) {
    return refuse("no_compartment", "the wave's vans have no frozen compartment");
  }
  if (msg.temperatureClass === "chilled" && config.fleet.compartments.chilled <= 0) {
    return refuse("no_compartment", "the wave's vans have no chilled compartment");
  }
  const order: WaveOrder = {
    orderId: msg.orderId,
    storeId: msg.storeId,
    pickup: msg.pickup,
    readyAt: msg.readyAt ?? null,
    destination: msg.destination,
    load: msg.load,
    temperatureClass: msg.temperatureClass,
    pickupCode: msg.pickupCode,
    joinedAt: existing?.joinedAt ?? ctx.now,
    viaOrder: ctx.origin === "actor",
    status: "joined",
    atPointAt: null,
    collectedAt: null,
  };
  // An update of a planned order takes it off its van until the next plan.
  const base = existing === undefined ? state : withoutOrder(state, msg.orderId);
  const next: WaveState = { ...base, orders: { ...base.orders, [msg.orderId]: order } };
  const late = state.status === "cut_off";
  const joined = emit("order_joined", {
    orderId: msg.orderId,
    storeId: msg.storeId,
    destination: msg.destination,
    temperatureClass: msg.temperatureClass,
    late,
  });
  if (!late) return accept(next, [joined]);
  const asked = requestPlan(next, "late_order", ctx);
  return accept(asked.state, [joined, ...asked.effects]);
}

/** The order out of the plan's routes (removing a visit never makes a later one late). */
function withoutOrder(state: WaveState, orderId: string): WaveState {
  if (state.plan === null) return state;
  const byVan = visitsByVan(state.plan);
  for (const [van, visits] of byVan)
    byVan.set(
      van,
      visits.filter((v) => v.orderId !== orderId),
    );
  const unplanned = state.plan.unplanned.filter((id) => id !== orderId);
  const { plan } = makePlan(state, byVan, unplanned, state.plan.requestId, state.plan.plannedAt);
  return { ...state, plan };
}

function onLeave(state: WaveState, msg: Msg<"leave">, ctx: TurnContext): Result {
  const order = state.orders[msg.orderId];
  if (!mayChangeOrders(ctx, order?.storeId ?? null)) {
    return refuse(
      "forbidden",
      "only the order, the shop, its store or a dispatcher takes an order out",
    );
  }
  if (order === undefined) return accept(state); // a fact in flight: nothing to do
  if (state.status === "departed") {
    if (order.status === "collected" || order.status === "cancelled") return accept(state);
    return accept(
      { ...state, orders: { ...state.orders, [msg.orderId]: { ...order, status: "cancelled" } } },
      [emit("order_left", { orderId: msg.orderId, afterDeparture: true })],
    );
  }
  const stripped = withoutOrder(state, msg.orderId);
  const orders = { ...stripped.orders };
  delete orders[msg.orderId];
  const next: WaveState = { ...stripped, orders };
  const left = emit("order_left", { orderId: msg.orderId, afterDeparture: false });
  if (state.status !== "cut_off") return accept(next, [left]);
  if (Object.keys(orders).length === 0) {
    return accept({ ...next, pending: null }, [left, { kind: "cancel", timer: "plan" }]);
  }
  const asked = requestPlan(next, "cancellation", ctx);
  return accept(asked.state, [left, ...asked.effects]);
}

function onCutoff(state: WaveState, ctx: TurnContext): Result {
  if (ctx.origin !== "timer") return refuse("forbidden", "the cut-off is the wave's own reminder");
  if (state.status !== "open") return accept(state);
  const next: WaveState = { ...state, status: "cut_off" };
  if (Object.keys(state.orders).length === 0) return accept(next, [emit("cut_off", { orders: 0 })]);
  const asked = requestPlan(next, "cutoff", ctx);
  return accept(asked.state, [
    emit("cut_off", { orders: Object.keys(state.orders).length }),
    ...asked.effects,
  ]);
}

function onPlanTimeout(state: WaveState, msg: Msg<"plan_timeout">, ctx: TurnContext): Result {
  if (ctx.origin !== "timer") return refuse("forbidden", "plan_timeout is the wave's own reminder");
  const pending = state.pending;
  if (pending === null || pending.requestId !== msg.requestId) return accept(state);
  if (pending.attempt >= PLAN_ATTEMPTS) {
    return accept({ ...state, pending: null }, [
      emit("planning_alert", {
        requestId: pending.requestId,
        reason: `no plan after ${PLAN_ATTEMPTS} requests`,
      }),
    ]);
  }
  const asked = requestPlan(state, pending.reason, ctx, pending.attempt + 1, pending.requestId);
  return accept(asked.state, asked.effects);
}

function onPlanReady(state: WaveState, msg: Msg<"plan_ready">, ctx: TurnContext): Result {
  if (ctx.by?.role !== "system") return refuse("forbidden", "plans come from the host's planner");
  const pending = state.pending;
  // An answer to an older request (a late order came meanwhile): a fact in flight.
  if (pending === null || pending.requestId !== msg.requestId || state.status === "departed") {
    return accept(state, [emit("plan_discarded", { requestId: msg.requestId })]);
  }
  const config = state.config!;
  const locked = lockedOrders(state);
  const freeVans = config.fleet.vans.filter((v) => !state.locked.includes(v.vehicleId));
  if (msg.routes.filter((r) => r.length > 0).length > freeVans.length) {
    return refuse("infeasible_plan", `the plan uses more vans than the ${freeVans.length} free`);
  }
  const expected = new Set(
    Object.values(state.orders)
      .filter((o) => o.status === "joined" && !locked.has(o.orderId))
      .map((o) => o.orderId),
  );
  const seen = new Set<string>();
  for (const id of [
    ...msg.routes
      .flat()
      .filter((v) => v.kind === "pickup")
      .map((v) => v.orderId),
    ...msg.unassigned,
  ]) {
    if (!expected.has(id)) return refuse("infeasible_plan", `order ${id} is not an order to plan`);
    if (seen.has(id)) return refuse("infeasible_plan", `order ${id} is planned twice`);
    seen.add(id);
  }
  const missing = [...expected].filter((id) => !seen.has(id));
  if (missing.length > 0)
    return refuse("infeasible_plan", `order ${missing[0]} is missing from the plan`);
  const byVan = visitsByVan(state.plan);
  for (const van of freeVans) byVan.delete(van.vehicleId);
  const used = msg.routes.filter((r) => r.length > 0);
  used.forEach((visits, i) => byVan.set(freeVans[i]!.vehicleId, visits));
  const { plan, violation } = makePlan(state, byVan, msg.unassigned, msg.requestId, ctx.now);
  if (violation !== null) return refuse("infeasible_plan", violation);
  const effects: Effect[] = [
    { kind: "cancel", timer: "plan" },
    emit("planned", {
      requestId: msg.requestId,
      seed: msg.seed,
      elapsedMs: msg.elapsedMs,
      ...planSummary(plan),
    }),
  ];
  if (msg.unassigned.length > 0) {
    effects.push(emit("orders_unplanned", { orderIds: msg.unassigned }));
  }
  return accept({ ...state, plan, pending: null }, effects);
}

function onPlanFailed(state: WaveState, msg: Msg<"plan_failed">, ctx: TurnContext): Result {
  if (ctx.by?.role !== "system") return refuse("forbidden", "plans come from the host's planner");
  if (state.pending?.requestId !== msg.requestId) return accept(state);
  return accept({ ...state, pending: null }, [
    { kind: "cancel", timer: "plan" },
    emit("planning_alert", { requestId: msg.requestId, reason: msg.reason }),
  ]);
}

function beforeDeparture(state: WaveState): TurnResult<never> | null {
  if (state.status === "new") return refuse("wave_not_open", "this wave is not open");
  if (state.status === "departed")
    return refuse("wave_departed", "the vans of this wave have left");
  return null;
}

function onMoveStop(state: WaveState, msg: Msg<"move_stop">, ctx: TurnContext): Result {
  if (!isOperator(ctx.by)) return refuse("forbidden", "only a dispatcher moves stops");
  const early = beforeDeparture(state);
  if (early !== null) return early;
  const plan = state.plan;
  if (plan === null) return refuse("no_plan", "this wave has no plan yet");
  if (msg.planVersion !== plan.version) {
    return refuse(
      "stale_plan",
      `the plan is at version ${plan.version}, not ${msg.planVersion}: reload it`,
    );
  }
  const from = plan.routes.find((r) => r.vehicleId === msg.fromVehicleId);
  const to = plan.routes.find((r) => r.vehicleId === msg.toVehicleId);
  if (from === undefined || to === undefined) {
    return refuse(
      "unknown_vehicle",
      `van ${from === undefined ? msg.fromVehicleId : msg.toVehicleId} is not in this wave`,
    );
  }
  if (from === to) return refuse("same_vehicle", "the stop is already on that van");
  for (const r of [from, to]) {
    if (state.locked.includes(r.vehicleId))
      return refuse("route_locked", `van ${r.vehicleId}'s route is locked`);
  }
  const stop = from.stops[msg.stopIndex];
  if (stop === undefined)
    return refuse("unknown_stop", `van ${from.vehicleId} has no stop ${msg.stopIndex}`);
  if (stop.kind !== "dropoff") {
    return refuse(
      "not_a_dropoff",
      "move a drop-off stop (a point or a door); its pickups follow it",
    );
  }
  const moving = new Set(stop.orderIds);
  const remaining = from.visits.filter((v) => !moving.has(v.orderId));
  const inserted = insertOrders(state, to.visits, stop.orderIds);
  if (inserted === null) {
    const naive = evaluateRoute(state, [
      ...to.visits,
      ...stop.orderIds.map((orderId) => ({ orderId, kind: "pickup" as const })),
      ...stop.orderIds.map((orderId) => ({ orderId, kind: "dropoff" as const })),
    ]);
    return refuse(
      "infeasible_move",
      `${stop.place} does not fit on van ${to.vehicleId}: ${naive.violation ?? "no feasible position"}`,
    );
  }
  const byVan = visitsByVan(plan);
  byVan.set(from.vehicleId, remaining);
  byVan.set(to.vehicleId, inserted.visits);
  const made = makePlan(state, byVan, plan.unplanned, plan.requestId, ctx.now);
  if (made.violation !== null) return refuse("infeasible_move", made.violation);
  return accept({ ...state, plan: made.plan }, [
    emit("stop_moved", {
      from: from.vehicleId,
      to: to.vehicleId,
      place: stop.place,
      orderIds: stop.orderIds,
      previousCost: plan.cost,
      cost: made.plan.cost,
      version: made.plan.version,
    }),
  ]);
}

function onLockRoute(state: WaveState, msg: Msg<"lock_route">, ctx: TurnContext): Result {
  if (!isOperator(ctx.by)) return refuse("forbidden", "only a dispatcher locks routes");
  const early = beforeDeparture(state);
  if (early !== null) return early;
  if (!state.config!.fleet.vans.some((v) => v.vehicleId === msg.vehicleId)) {
    return refuse("unknown_vehicle", `van ${msg.vehicleId} is not in this wave`);
  }
  const has = state.locked.includes(msg.vehicleId);
  if (has === msg.locked) return accept(state);
  const locked = msg.locked
    ? [...state.locked, msg.vehicleId]
    : state.locked.filter((v) => v !== msg.vehicleId);
  const next: WaveState = { ...state, locked };
  const plan =
    state.plan === null
      ? null
      : {
          ...state.plan,
          version: state.plan.version + 1,
          routes: state.plan.routes.map((r) => ({ ...r, locked: locked.includes(r.vehicleId) })),
        };
  return accept({ ...next, plan }, [
    emit(msg.locked ? "route_locked" : "route_unlocked", {
      vehicleId: msg.vehicleId,
      version: plan?.version ?? null,
    }),
  ]);
}

function onReplan(state: WaveState, ctx: TurnContext): Result {
  if (!isOperator(ctx.by)) return refuse("forbidden", "only a dispatcher asks for a re-plan");
  const early = beforeDeparture(state);
  if (early !== null) return early;
  const free = Object.values(state.orders).filter((o) => !lockedOrders(state).has(o.orderId));
  if (free.length === 0)
    return refuse("nothing_to_plan", "no orders outside locked routes to plan");
  const asked = requestPlan(state, "dispatcher", ctx);
  return accept(asked.state, asked.effects);
}

function onDeparture(state: WaveState, ctx: TurnContext): Result {
  if (ctx.origin !== "timer") return refuse("forbidden", "departure is the wave's own reminder");
  if (state.status !== "open" && state.status !== "cut_off") return accept(state);
  const onVans = new Set((state.plan?.routes ?? []).flatMap((r) => r.visits.map((v) => v.orderId)));
  const orders: Record<string, WaveOrder> = {};
  for (const [id, o] of Object.entries(state.orders)) {
    orders[id] = onVans.has(id) ? { ...o, status: "on_van" } : o;
  }
  const left = Object.keys(orders).filter((id) => !onVans.has(id));
  const points = new Set<string>();
  for (const o of Object.values(orders)) {
    if (o.status === "on_van" && o.destination.kind === "pickup_point")
      points.add(o.destination.pickupPointId);
  }
  const effects: Effect[] = [
    { kind: "cancel", timer: "plan" },
    emit("wave_departed", {
      planVersion: state.plan?.version ?? null,
      routes: (state.plan?.routes ?? [])
        .filter((r) => r.visits.length > 0)
        .map((r) => ({ vehicleId: r.vehicleId, courierId: r.courierId, stops: r.stops })),
      notOnAVan: left,
    }),
  ];
  if (left.length > 0)
    effects.push(emit("orders_unplanned", { orderIds: left, atDeparture: true }));
  for (const route of state.plan?.routes ?? []) {
    for (const v of route.visits) {
      if (v.kind !== "pickup") continue;
      const msg = { type: "wave_on_van", vehicleId: route.vehicleId, courierId: route.courierId };
      effects.push(...toOrder(orders[v.orderId]!, msg));
    }
  }
  for (const id of [...points].sort()) {
    const point = state.pickupPoints[id]!;
    effects.push({
      kind: "schedule",
      timer: closingTimer(id),
      at: point.closesAt,
      msg: { type: "point_closing", pickupPointId: id },
    });
  }
  return accept({ ...state, status: "departed", orders, pending: null }, effects);
}

function isPointStaff(state: WaveState, pickupPointId: string, by: Principal | undefined): boolean {
  if (isOperator(by)) return true;
  const point = state.pickupPoints[pickupPointId];
  return by?.role === "store" && point !== undefined && point.staffIds.includes(by.id);
}

function onArriveAtPoint(state: WaveState, msg: Msg<"arrive_at_point">, ctx: TurnContext): Result {
  if (state.pickupPoints[msg.pickupPointId] === undefined) {
    return refuse("unknown_pickup_point", `pickup point ${msg.pickupPointId} is not in this wave`);
  }
  if (!isPointStaff(state, msg.pickupPointId, ctx.by)) {
    return refuse("forbidden", "only the point's staff or a dispatcher confirm an arrival");
  }
  if (state.status !== "departed")
    return refuse("not_departed", "the vans of this wave have not left yet");
  const route = state.plan?.routes.find((r) => r.vehicleId === msg.vehicleId);
  if (route === undefined)
    return refuse("unknown_vehicle", `van ${msg.vehicleId} is not in this wave`);
  const here = route.visits
    .filter((v) => v.kind === "dropoff")
    .map((v) => state.orders[v.orderId]!)
    .filter(
      (o) =>
        o.destination.kind === "pickup_point" && o.destination.pickupPointId === msg.pickupPointId,
    );
  if (here.length === 0)
    return refuse("no_stop_here", `van ${msg.vehicleId} has no stop at this point`);
  const arriving = here.filter((o) => o.status === "on_van");
  if (arriving.length === 0)
    return refuse("already_arrived", "this van's goods for the point are already here");
  const orders = { ...state.orders };
  for (const o of arriving)
    orders[o.orderId] = { ...o, status: "at_pickup_point", atPointAt: ctx.now };
  return accept({ ...state, orders }, [
    emit("arrived_at_point", {
      pickupPointId: msg.pickupPointId,
      vehicleId: msg.vehicleId,
      orders: arriving.map((o) => ({ orderId: o.orderId, pickupCode: o.pickupCode })),
    }),
    ...arriving.flatMap((o) =>
      toOrder(o, { type: "wave_at_pickup_point", pickupPointId: msg.pickupPointId }),
    ),
  ]);
}

function onCollect(state: WaveState, msg: Msg<"collect">, ctx: TurnContext): Result {
  const order = state.orders[msg.orderId];
  if (order === undefined)
    return refuse("unknown_order", `order ${msg.orderId} is not in this wave`);
  const pointId =
    order.destination.kind === "pickup_point" ? order.destination.pickupPointId : null;
  if (pointId === null) return refuse("not_a_pickup_point_order", "this order goes to a door");
  if (!isPointStaff(state, pointId, ctx.by)) {
    return refuse("forbidden", "only the point's staff or a dispatcher hand over goods");
  }
  if (order.status === "collected") return refuse("already_collected", "this order was collected");
  if (order.status !== "at_pickup_point" && order.status !== "uncollected") {
    return refuse(
      "not_at_pickup_point",
      `order ${msg.orderId} is ${order.status}, not at the point`,
    );
  }
  if (msg.pickupCode !== order.pickupCode)
    return refuse("wrong_pickup_code", "the pickup code does not match");
  return accept(
    {
      ...state,
      orders: {
        ...state.orders,
        [msg.orderId]: { ...order, status: "collected", collectedAt: ctx.now },
      },
    },
    [
      emit("order_collected", { orderId: msg.orderId, pickupPointId: pointId }),
      ...toOrder(order, { type: "wave_collected", pickupPointId: pointId }),
    ],
  );
}

function onPointClosing(state: WaveState, msg: Msg<"point_closing">, ctx: TurnContext): Result {
  if (ctx.origin !== "timer")
    return refuse("forbidden", "point_closing is the wave's own reminder");
  const orders = { ...state.orders };
  const uncollected: string[] = [];
  for (const o of Object.values(state.orders)) {
    if (o.destination.kind !== "pickup_point" || o.destination.pickupPointId !== msg.pickupPointId)
      continue;
    if (o.status !== "at_pickup_point" && o.status !== "on_van") continue;
    uncollected.push(o.orderId);
    orders[o.orderId] = { ...o, status: "uncollected" };
  }
  if (uncollected.length === 0)
    return accept(state, [emit("point_closed", { pickupPointId: msg.pickupPointId })]);
  return accept({ ...state, orders }, [
    emit("point_closed", { pickupPointId: msg.pickupPointId }),
    emit("uncollected_at_closing", {
      marketId: state.config!.marketId,
      pickupPointId: msg.pickupPointId,
      orderIds: uncollected.sort(),
    }),
  ]);
}

export function transitionWave(state: WaveState, msg: WaveMessage, ctx: TurnContext): Result {
  switch (msg.type) {
    case "open":
      return onOpen(state, msg, ctx);
    case "join":
      return onJoin(state, msg, ctx);
    case "leave":
      return onLeave(state, msg, ctx);
    case "cutoff":
      return onCutoff(state, ctx);
    case "plan_timeout":
      return onPlanTimeout(state, msg, ctx);
    case "plan_ready":
      return onPlanReady(state, msg, ctx);
    case "plan_failed":
      return onPlanFailed(state, msg, ctx);
    case "move_stop":
      return onMoveStop(state, msg, ctx);
    case "lock_route":
      return onLockRoute(state, msg, ctx);
    case "replan":
      return onReplan(state, ctx);
    case "departure":
      return onDeparture(state, ctx);
    case "arrive_at_point":
      return onArriveAtPoint(state, msg, ctx);
    case "collect":
      return onCollect(state, msg, ctx);
    case "point_closing":
      return onPointClosing(state, msg, ctx);
  }
}

/** What a query returns: everything but the shoppers' pickup codes (the gateway hands those out). */
export function viewWave(state: WaveState) {
  const orders: Record<string, Omit<WaveOrder, "pickupCode">> = {};
  for (const [id, o] of Object.entries(state.orders)) {
    const { pickupCode: _code, ...rest } = o;
    orders[id] = rest;
  }
  return { ...state, orders };
}
export type WaveView = ReturnType<typeof viewWave>;

export const waveLogic: ActorLogic<WaveState, WaveMessage> = {
  type: "wave",
  messages: WaveMessage,
  version: 1,
  initial: () => initialWave(),
  transition: transitionWave,
  persist: (state) => state,
  restore: (data, version) => {
    if (version !== 1) throw new Error(`wave state version ${version} is not known`);
    return data as WaveState;
  },
  view: viewWave,
};
