/**
 * The replay's simulated city: the production dispatch engine (`planDispatch`, the function the
 * market actor runs) planning on a simulated clock, with couriers that accept every offer and
 * drive straight lines. No sleeping: an event queue jumps from one moment to the next (order
 * placed, food ready, courier arrives / picks up / leaves, next 2 s tick).
 *
 * How it mirrors the market (actors/market/logic.ts `engineInput`, `plan`):
 * - The engine runs on every tick (every `tickMs` while orders wait) and at the moment of an
 *   event that matters (order placed or ready, courier on duty or free), once per moment.
 * - Its input is built as `engineInput` builds it: waiting orders with who passed on them and
 *   no locks; couriers with their position now, capacity and compartment slots left, the work
 *   they carry in the order it was given, and their end of shift (`offAt`).
 * - Each assignment is an accepted offer. The courier's new route is what the engine planned
 *   for it: its carried orders, then the new ones, inserted one by one with `insertAll` from
 *   where it is now, exactly as the engine's `plannable` + bundle insertion do.
 *
 * Couriers follow their stop sequence with the one timing rule of dispatch/route.ts: a pickup
 * at max(ready, arrival + pickup/2), leaving pickup/2 later; a drop-off at arrival + dropoff/2,
 * leaving dropoff/2 later; consecutive stops of one kind at one place are one visit. A courier
 * sent elsewhere mid-leg stops where it is (the leg is cut) and turns; one whose next stop is
 * unchanged keeps its leg. A pickup that would fall after the courier's end of shift does not
 * happen: the order goes back to the pool with the courier in its `passedBy`.
 *
 * Rules, as filters on the engine's input:
 * - `noDiversion`: a courier travelling to a store is left out of the input until it arrives.
 * - `sameStoreBundlesOnly`: only empty-handed couriers are in the input, so a trip is one
 *   tick's work (the engine bundles by store). Its second matching round may still give a
 *   courier a bundle of another store in the same tick: such an assignment is dropped (the
 *   order waits for the next tick) and counted as a rule rejection.
 * - `readyTimesKnown: false`: the engine sees each order's ready time predicted from its
 *   store's history (the store actor's prep learner) until the store says it is ready; the
 *   couriers meet the true one.
 * - An order still in the pool `maxClickToDoorMinutes` after it was placed is cancelled.
 */
import {
  DispatchMemo,
  engineDefaults,
  insertAll,
  planDispatch,
  RELIEF_EVERY_MS,
  routeTiming,
  stopsOf,
} from "../../dispatch/index.ts";
import type {
  CarriedOrder,
  DispatchCourier,
  DispatchInput,
  DispatchOrder,
  EngineOptions,
  RouteStop,
  TemperatureClass,
} from "../../dispatch/index.ts";
import type { LatLng } from "../../geo/index.ts";
// The store actor's prep learner is pure and dependency-free; actors/index.ts does not export
// it and would pull the whole actor runtime into the replay.
import { DEFAULT_PREP, learnPrep, predictReadyAt } from "../../actors/store/prep.ts";
import type { PrepStats } from "../../actors/store/types.ts";
import { remainingSafeMs, safeUntil } from "../../coldchain/budget.ts";
import { EventQueue } from "./heap.ts";
import { scenarioTravel } from "./travel.ts";
import type {
  CourierRecord,
  Move,
  OrderOutcome,
  ReplayRecord,
  Scenario,
  ScenarioCourier,
  ScenarioOrder,
} from "./types.ts";

const MINUTE = 60_000;

export interface ReplayOptions {
  /** Simulated milliseconds between ticks. 2000 (the market's tick). */
  readonly tickMs?: number;
  /** Wall clock in ms for timing the engine. `performance.now`; tests inject a fake one. */
  readonly stopwatch?: () => number;
}

type OrderStatus = "future" | "pool" | "assigned" | "picked" | "delivered" | "cancelled";

interface SimOrder {
  readonly spec: ScenarioOrder;
  readonly store: LatLng;
  status: OrderStatus;
  /** The store said it is ready (or ready times are known from the start). */
  readyKnown: boolean;
  passedBy: string[];
  courierId: string | null;
  assignedAt: number | null;
  pickedUpAt: number | null;
  deliveredAt: number | null;
  predictedDropoffAt: number | null;
  predictedDropoffP90: number | null;
  offers: number;
}

type Phase =
  | { readonly kind: "idle"; readonly at: LatLng }
  | {
      readonly kind: "moving";
      readonly from: LatLng;
      readonly to: LatLng;
      readonly departedAt: number;
      readonly arrivesAt: number;
    }
  | {
      readonly kind: "visit";
      readonly at: LatLng;
      readonly stopKind: "pickup" | "dropoff";
      readonly arrivedAt: number;
      /** The moment of the visit's last stop so far; null before its first. */
      lastMoment: number | null;
    };

interface SimCourier {
  readonly spec: ScenarioCourier;
  carried: SimOrder[];
  route: RouteStop[];
  phase: Phase;
  /** Bumped on every re-plan: queued events of an older plan are stale. */
  version: number;
  tripPickups: number;
  trips: number[];
  travelMs: number;
  serviceMs: number;
  waitingMs: number;
  doneAt: number;
}

type SimEvent =
  | { readonly at: number; readonly kind: "placed" | "ready" | "cancel"; readonly order: SimOrder }
  | { readonly at: number; readonly kind: "on_duty"; readonly courier: SimCourier }
  | {
      readonly at: number;
      readonly kind: "courier";
      readonly courier: SimCourier;
      readonly version: number;
    };

const samePlace = (a: LatLng, b: LatLng) => a.lat === b.lat && a.lng === b.lng;

/** Runs a scenario to the end: every order delivered or cancelled, every courier done. */
export function simulate(scenario: Scenario, options: ReplayOptions = {}): ReplayRecord {
  const cfg = scenario.config;
  const tickMs = options.tickMs ?? 2_000;
  const stopwatch = options.stopwatch ?? (() => performance.now());
  const travel = scenarioTravel(cfg.travel);
  const engineOptions: EngineOptions = {
    travel,
    pickupServiceMinutes: cfg.service.pickupMinutes,
    dropoffServiceMinutes: cfg.service.dropoffMinutes,
  };
  // The engine's own route timing and weights: the courier's stop order is the engine's.
  const timing = routeTiming(engineDefaults(engineOptions));
  const halfService = (kind: "pickup" | "dropoff") =>
    (kind === "pickup" ? timing.pickupServiceMs : timing.dropoffServiceMs) / 2;
  const legMs = (from: LatLng, to: LatLng, c: SimCourier) => travel(from, to, c.spec.mode) * 1000;

  const storeAt = new Map(scenario.stores.map((s) => [s.id, s.at]));
  const orders = new Map<string, SimOrder>();
  const queue = new EventQueue<SimEvent>();
  for (const spec of scenario.orders) {
    const order: SimOrder = {
      spec,
      store: storeAt.get(spec.storeId)!,
      status: "future",
      readyKnown: cfg.readyTimesKnown,
      passedBy: [],
      courierId: null,
      assignedAt: null,
      pickedUpAt: null,
      deliveredAt: null,
      predictedDropoffAt: null,
      predictedDropoffP90: null,
      offers: 0,
    };
    orders.set(spec.id, order);
    queue.push({ at: spec.placedAt, kind: "placed", order });
    queue.push({ at: spec.readyAt, kind: "ready", order });
    queue.push({ at: spec.placedAt + cfg.maxClickToDoorMinutes * MINUTE, kind: "cancel", order });
  }
  const couriers: SimCourier[] = scenario.couriers.map((spec) => ({
    spec,
    carried: [],
    route: [],
    phase: { kind: "idle", at: spec.start },
    version: 0,
    tripPickups: 0,
    trips: [],
    travelMs: 0,
    serviceMs: 0,
    waitingMs: 0,
    doneAt: spec.onAt,
  }));
  for (const c of couriers) queue.push({ at: c.spec.onAt, kind: "on_duty", courier: c });

  const pool = new Set<SimOrder>();
  /** Assigned, not picked up: what dispatch may still take back. */
  const unstarted = new Set<SimOrder>();
  const onDuty = new Set<SimCourier>();
  const prep = new Map<string, PrepStats>();
  const moves: Move[] = [];
  const engineMs: number[] = [];
  const alerted = new Set<string>();
  const memo = new DispatchMemo();
  let handedBack = 0;
  let takenBack = 0;
  let ruleRejections = 0;
  let wantPlan = false;

  /** What the engine believes about an order's ready time now. */
  const engineReadyAt = (o: SimOrder, now: number): number => {
    if (o.readyKnown) return o.spec.readyAt;
    const stats = prep.get(o.spec.storeId) ?? DEFAULT_PREP;
    return Math.max(now, predictReadyAt(stats, o.spec.placedAt));
  };
  const promisedBy = (o: SimOrder) => o.spec.placedAt + cfg.targetClickToDoorMinutes * MINUTE;

  const positionAt = (c: SimCourier, now: number): LatLng => {
    const p = c.phase;
    if (p.kind !== "moving") return p.at;
    const f =
      p.arrivesAt === p.departedAt ? 1 : (now - p.departedAt) / (p.arrivesAt - p.departedAt);
    return {
      lat: p.from.lat + f * (p.to.lat - p.from.lat),
      lng: p.from.lng + f * (p.to.lng - p.from.lng),
    };
  };

  const carriedOf = (o: SimOrder, now: number): CarriedOrder => ({
    orderId: o.spec.id,
    pickup: o.store,
    dropoff: o.spec.dropoff,
    readyAt: engineReadyAt(o, now),
    promisedBy: promisedBy(o),
    temperatureClass: o.spec.temperatureClass,
    pickedUp: o.status === "picked",
    locked: false,
  });

  /**
   * What the engine plans a courier's carried order with: its thermal budget, as the market
   * gives it (`actors/market/logic.ts`): in the store's fridge until pickup, then spent in a bag
   * from the pickup on; a van's compartment keeps it.
   */
  const plannedCarried = (o: SimOrder, now: number, inVan: boolean): CarriedOrder => {
    const base = carriedOf(o, now);
    const cls = o.spec.temperatureClass;
    if (!base.pickedUp) return { ...base, safeMs: remainingSafeMs({ class: cls, spentMs: 0 }) };
    if (inVan) return base;
    const spentMs = Math.max(0, now - (o.pickedUpAt ?? now));
    return { ...base, safeUntil: safeUntil({ now, class: cls, spentMs, carrier: "bag" }) };
  };

  const schedule = (c: SimCourier, at: number) =>
    queue.push({ at, kind: "courier", courier: c, version: c.version });

  const closeTrip = (c: SimCourier) => {
    if (c.carried.length === 0 && c.tripPickups > 0) {
      c.trips.push(c.tripPickups);
      c.tripPickups = 0;
    }
  };

  /** An unstarted order leaves its courier for the pool (shift over, or taken back by dispatch). */
  const backToPool = (c: SimCourier, o: SimOrder) => {
    c.carried = c.carried.filter((x) => x !== o);
    unstarted.delete(o);
    closeTrip(c);
    c.route = c.route.filter((s) => s.orderId !== o.spec.id);
    o.status = "pool";
    o.courierId = null;
    o.assignedAt = null;
    o.predictedDropoffAt = null;
    o.predictedDropoffP90 = null;
    o.passedBy = [...o.passedBy, c.spec.id];
    pool.add(o);
    wantPlan = true;
  };

  /** Moves a courier along its route up to `now`, then queues its next event. */
  const advance = (c: SimCourier, now: number): void => {
    for (;;) {
      const p = c.phase;
      if (p.kind === "idle") {
        const head = c.route[0];
        if (head === undefined) {
          closeTrip(c);
          c.doneAt = Math.max(c.doneAt, now);
          wantPlan = true; // a courier free is an event that matters
          return;
        }
        if (samePlace(p.at, head.at)) {
          c.phase = {
            kind: "visit",
            at: p.at,
            stopKind: head.kind,
            arrivedAt: now,
            lastMoment: null,
          };
          continue;
        }
        const arrivesAt = now + legMs(p.at, head.at, c);
        c.phase = { kind: "moving", from: p.at, to: head.at, departedAt: now, arrivesAt };
        schedule(c, arrivesAt);
        return;
      }
      if (p.kind === "moving") {
        if (now < p.arrivesAt) {
          schedule(c, p.arrivesAt);
          return;
        }
        moves.push({
          courierId: c.spec.id,
          departedAt: p.departedAt,
          from: p.from,
          to: p.to,
          arrivedAt: p.arrivesAt,
          towards: p.to,
        });
        c.travelMs += p.arrivesAt - p.departedAt;
        const head = c.route[0];
        c.phase =
          head !== undefined && samePlace(head.at, p.to)
            ? {
                kind: "visit",
                at: p.to,
                stopKind: head.kind,
                arrivedAt: p.arrivesAt,
                lastMoment: null,
              }
            : { kind: "idle", at: p.to };
        continue;
      }
      // A visit: do the stops of its kind at its place that head the route, then leave.
      const head = c.route[0];
      if (head !== undefined && head.kind === p.stopKind && samePlace(head.at, p.at)) {
        const o = orders.get(head.orderId)!;
        const previous = p.lastMoment ?? p.arrivedAt + halfService(p.stopKind);
        let moment = Math.max(previous, now);
        if (head.kind === "pickup") moment = Math.max(moment, o.spec.readyAt);
        if (head.kind === "pickup" && moment > c.spec.offAt) {
          backToPool(c, o);
          handedBack++;
          continue;
        }
        if (moment > now) {
          schedule(c, moment);
          return;
        }
        if (head.kind === "pickup") {
          o.status = "picked";
          unstarted.delete(o);
          o.pickedUpAt = moment;
          c.tripPickups++;
        } else {
          o.status = "delivered";
          o.deliveredAt = moment;
          c.carried = c.carried.filter((x) => x !== o);
          closeTrip(c);
        }
        p.lastMoment = moment;
        c.route.shift();
        continue;
      }
      if (p.lastMoment === null) {
        // Sent elsewhere before doing anything here.
        c.phase = { kind: "idle", at: p.at };
        continue;
      }
      const leaveAt = p.lastMoment + halfService(p.stopKind);
      if (now < leaveAt) {
        schedule(c, leaveAt);
        return;
      }
      const service = 2 * halfService(p.stopKind);
      c.serviceMs += service;
      c.waitingMs += leaveAt - p.arrivedAt - service;
      c.doneAt = Math.max(c.doneAt, leaveAt);
      c.phase = { kind: "idle", at: p.at };
    }
  };

  /** Gives a courier its new route from where it is now (after an accepted offer). */
  const replan = (c: SimCourier, now: number): void => {
    const position = positionAt(c, now);
    const start = { position, mode: c.spec.mode, now, offAt: c.spec.offAt };
    const route = insertAll(
      start,
      [],
      c.carried.map((o) => stopsOf(carriedOf(o, now))),
      timing,
    );
    if (route === null) {
      throw new Error(`replay: the engine's route for courier ${c.spec.id} is not feasible`);
    }
    c.route = [...route.stops];
    const p = c.phase;
    const next = c.route[0];
    if (p.kind === "moving" && (next === undefined || !samePlace(next.at, p.to))) {
      // Turned (or stopped) mid-leg: the leg ends where the courier is now.
      moves.push({
        courierId: c.spec.id,
        departedAt: p.departedAt,
        from: p.from,
        to: position,
        arrivedAt: now,
        towards: p.to,
      });
      c.travelMs += now - p.departedAt;
      c.phase = { kind: "idle", at: position };
    }
    c.version++;
    advance(c, now);
  };

  /**
   * How many more orders the engine may give a courier now, or null to leave it out of the
   * input. Like the market, full couriers are in (dispatch may take an unstarted job back).
   */
  const roomFor = (c: SimCourier, now: number): number | null => {
    if (now >= c.spec.offAt) return null;
    // Taking a job away would be a new instruction too.
    if (cfg.rules.noDiversion && c.phase.kind === "moving" && c.route[0]?.kind === "pickup") {
      return null;
    }
    if (cfg.rules.sameStoreBundlesOnly && c.carried.length > 0) return 0;
    return c.spec.capacity - c.carried.length;
  };

  const engineInput = (now: number): DispatchInput => {
    const waiting: DispatchOrder[] = [];
    for (const o of pool) {
      waiting.push({
        orderId: o.spec.id,
        storeId: o.spec.storeId,
        pickup: o.store,
        dropoff: o.spec.dropoff,
        readyAt: engineReadyAt(o, now),
        promisedBy: promisedBy(o),
        temperatureClass: o.spec.temperatureClass,
        safeMs: remainingSafeMs({ class: o.spec.temperatureClass, spentMs: 0 }),
        queuedAt: o.spec.placedAt,
        lockedTo: null,
        passedBy: o.passedBy,
      });
    }
    const available: DispatchCourier[] = [];
    for (const c of onDuty) {
      const room = roomFor(c, now);
      if (room === null) continue;
      let freeSlots: Record<TemperatureClass, number> | null = null;
      if (c.spec.slots !== null) {
        freeSlots = { ...c.spec.slots };
        for (const o of c.carried) freeSlots[o.spec.temperatureClass]--;
      }
      available.push({
        courierId: c.spec.id,
        mode: c.spec.mode,
        position: positionAt(c, now),
        capacityLeft: room,
        freeSlots,
        carrying: c.carried.map((o) => plannedCarried(o, now, c.spec.slots !== null)),
        offAt: c.spec.offAt,
      });
    }
    return { now, orders: waiting, couriers: available };
  };

  const courierById = new Map(couriers.map((c) => [c.spec.id, c]));

  let lastRelievedAt = -Infinity;
  const plan = (now: number): void => {
    // The market's rule: plan while orders wait; look for jobs to take back every
    // RELIEF_EVERY_MS while some could still move.
    const relieve = unstarted.size > 0 && now - lastRelievedAt >= RELIEF_EVERY_MS;
    if (pool.size === 0 && !relieve) return;
    const input = engineInput(now);
    if (input.couriers.length === 0) return;
    if (relieve) lastRelievedAt = now;
    const t0 = stopwatch();
    const result = planDispatch(input, { ...engineOptions, relieve }, memo);
    engineMs.push(stopwatch() - t0);
    for (const alert of result.alerts) alerted.add(`${alert.orderId}\u0000${alert.code}`);
    const storeOfTick = new Map<SimCourier, string>();
    const touched: SimCourier[] = [];
    for (const a of result.assignments) {
      const o = orders.get(a.orderId)!;
      const c = courierById.get(a.courierId)!;
      if (cfg.rules.sameStoreBundlesOnly) {
        const store = storeOfTick.get(c);
        if (store !== undefined && store !== o.spec.storeId) {
          ruleRejections++;
          continue;
        }
        storeOfTick.set(c, o.spec.storeId);
      }
      pool.delete(o);
      unstarted.add(o);
      o.status = "assigned";
      o.courierId = c.spec.id;
      o.assignedAt = now;
      o.offers++;
      o.predictedDropoffAt = a.dropoffAt;
      o.predictedDropoffP90 = a.dropoffP90;
      c.carried.push(o);
      if (!touched.includes(c)) touched.push(c);
    }
    // Jobs a free courier would pick up much sooner go back to the pool (the market's
    // `takeBack`); the next plan offers them again.
    for (const r of result.reassignments) {
      const o = orders.get(r.orderId)!;
      const c = courierById.get(r.courierId)!;
      if (o.status !== "assigned" || o.courierId !== c.spec.id) continue;
      backToPool(c, o);
      takenBack++;
      if (!touched.includes(c)) touched.push(c);
    }
    for (const c of touched) replan(c, now);
  };

  const handle = (e: SimEvent, now: number): void => {
    switch (e.kind) {
      case "placed":
        e.order.status = "pool";
        pool.add(e.order);
        wantPlan = true;
        return;
      case "ready": {
        const o = e.order;
        if (!o.readyKnown) {
          o.readyKnown = true;
          const stats = prep.get(o.spec.storeId) ?? DEFAULT_PREP;
          prep.set(o.spec.storeId, learnPrep(stats, (o.spec.readyAt - o.spec.placedAt) / MINUTE));
        }
        if (o.status === "pool") wantPlan = true;
        return;
      }
      case "cancel":
        if (e.order.status === "pool") {
          pool.delete(e.order);
          e.order.status = "cancelled";
        }
        return;
      case "on_duty":
        onDuty.add(e.courier);
        wantPlan = true;
        return;
      case "courier":
        if (e.version === e.courier.version) advance(e.courier, now);
        return;
    }
  };

  // Ticks fall on a grid of `tickMs` from the start while orders wait; events plan in between.
  const origin = Math.min(cfg.start, queue.peekAt());
  let previous = origin - 1;
  for (;;) {
    const nextTick =
      pool.size > 0 || unstarted.size > 0
        ? origin + (Math.floor((previous - origin) / tickMs) + 1) * tickMs
        : Infinity;
    const now = Math.min(queue.peekAt(), nextTick);
    if (now === Infinity) break;
    wantPlan = false;
    while (queue.peekAt() === now) handle(queue.pop()!, now);
    if (now === nextTick || wantPlan) plan(now);
    previous = now;
  }

  const outcomes: OrderOutcome[] = scenario.orders.map((spec) => {
    const o = orders.get(spec.id)!;
    const delivered = o.deliveredAt !== null;
    return {
      id: spec.id,
      courierId: o.courierId,
      placedAt: spec.placedAt,
      readyAt: spec.readyAt,
      assignedAt: o.assignedAt,
      pickedUpAt: o.pickedUpAt,
      deliveredAt: o.deliveredAt,
      predictedDropoffAt: delivered ? o.predictedDropoffAt : null,
      predictedDropoffP90: delivered ? o.predictedDropoffP90 : null,
      offers: o.offers,
      cancelled: o.status === "cancelled",
    };
  });
  const records: CourierRecord[] = couriers.map((c) => ({
    id: c.spec.id,
    onAt: c.spec.onAt,
    offAt: c.spec.offAt,
    doneAt: c.doneAt,
    travelMs: c.travelMs,
    serviceMs: c.serviceMs,
    waitingMs: c.waitingMs,
    trips: c.trips,
  }));
  moves.sort(
    (a, b) =>
      a.departedAt - b.departedAt ||
      (a.courierId < b.courierId ? -1 : a.courierId > b.courierId ? 1 : 0),
  );
  return {
    orders: outcomes,
    moves,
    couriers: records,
    engineMs,
    alerts: alerted.size,
    handedBack,
    takenBack,
    ruleRejections,
  };
}
