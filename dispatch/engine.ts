/**
 * The dispatch engine: one pure function from what a market knows now to the offers it should
 * make. The market actor runs it on every tick and on the events that matter; the replay tool
 * runs the same function on a simulated clock.
 *
 * 1. Orders ready within the look-ahead are considered; the others wait.
 * 2. Orders of one store that save time together are bundled (savings on a courier standing at
 *    the store: the pair's route against each alone), up to `maxBundle`.
 * 3. Each bundle's candidates come from an H3 index of the couriers around its store, widening
 *    the radius until enough feasible couriers are found (capacity, compartment slots, lock,
 *    couriers who passed on it, end of shift).
 * 4. A candidate's cost is the rise of its route cost when the bundle's stops are inserted at
 *    their best positions (route.ts). A route that breaks a hard rule has no cost, so it is
 *    never matched: a pickup after the end of shift, or chilled or frozen goods at a door after
 *    their thermal budget (`safeMs` from pickup in a bag, `safeUntil` once carried; a van with a
 *    slot of the order's class keeps it cold, so only `safeUntil` binds it).
 * 5. Bundles are matched to couriers by a min-cost assignment over the whole tick (matching.ts),
 *    not first come first served; a second round lets couriers with room take one more.
 * 6. Orders that stay without a courier too long, or that many couriers passed on, are alerts.
 */
import { CourierIndex, DEFAULT_SPEEDS } from "../geo/index.ts";
import type { CourierDistance, LatLng, Mode } from "../geo/index.ts";
import { minCostAssignment, SparseBuilder } from "./matching.ts";
import {
  blockInsertion,
  blockInsertionCost,
  evaluateRoute,
  insertAll,
  insertionCost,
  stopsOf,
} from "./route.ts";
import type { Insertion, RouteStart, RouteTiming } from "./route.ts";
import type {
  Assignment,
  CarriedOrder,
  DispatchAlert,
  DispatchCourier,
  DispatchInput,
  DispatchOrder,
  DispatchPlan,
  EngineOptions,
  Reassignment,
  RouteStop,
  TravelSeconds,
} from "./types.ts";

const MINUTE = 60_000;
/** Staying unassigned costs more than any real assignment: as many orders as possible get one. */
const UNASSIGNED_COST = 1e7;

export type ResolvedEngineOptions = Required<EngineOptions>;

const RAD = Math.PI / 180;
/** cos(latitude) per 0.01°: off by < 0.01 % within a step, and a table look-up, not a cosine. */
const COS_LAT = Float64Array.from({ length: 18_001 }, (_, i) => Math.cos((i / 100 - 90) * RAD));
function cosOfLatitude(lat: number): number {
  return COS_LAT[Math.round((lat + 90) * 100)]!;
}
const M_PER_DEG = 111_195; // metres per degree of latitude on geo's sphere

/**
 * Straight-line travel: distance × detour ÷ a speed per mode (m/s). The distance is the
 * equirectangular one: within a city it is the haversine to a fraction of a per mille, at a
 * third of the cost (this runs for every leg of every candidate insertion).
 */
export function straightLineTravel(
  detourFactor = 1.3,
  speeds: Readonly<Record<Mode, number>> = DEFAULT_SPEEDS,
): TravelSeconds {
  return (from, to, mode) => {
    const dy = (to.lat - from.lat) * M_PER_DEG;
    const dx = (to.lng - from.lng) * M_PER_DEG * cosOfLatitude((from.lat + to.lat) / 2);
    return (Math.sqrt(dx * dx + dy * dy) * detourFactor) / speeds[mode];
  };
}

const DEFAULT_TRAVEL = straightLineTravel();

/** The engine's options with every default filled in (the one place defaults live). */
export function engineDefaults(options: EngineOptions = {}): ResolvedEngineOptions {
  return {
    travel: options.travel ?? DEFAULT_TRAVEL,
    pickupServiceMinutes: options.pickupServiceMinutes ?? 4,
    dropoffServiceMinutes: options.dropoffServiceMinutes ?? 4,
    lookaheadMinutes: options.lookaheadMinutes ?? 20,
    candidates: options.candidates ?? 8,
    radiusMeters: options.radiusMeters ?? 3_000,
    maxRadiusMeters: options.maxRadiusMeters ?? 12_000,
    widenAfterPasses: options.widenAfterPasses ?? 2,
    alertAfterPasses: options.alertAfterPasses ?? 5,
    alertAfterWaitMinutes: options.alertAfterWaitMinutes ?? 10,
    shopperWeight: options.shopperWeight ?? 1,
    lateWeight: options.lateWeight ?? 4,
    maxBundle: options.maxBundle ?? 3,
    bundleMinSavingMinutes: options.bundleMinSavingMinutes ?? 2,
    rounds: options.rounds ?? 2,
    etaSpread: options.etaSpread ?? 1.3,
    reassignGainMinutes: options.reassignGainMinutes ?? 10,
    relieve: options.relieve ?? true,
    h3Resolution: options.h3Resolution ?? 8,
  };
}

export function routeTiming(o: ResolvedEngineOptions): RouteTiming {
  return {
    travel: o.travel,
    pickupServiceMs: o.pickupServiceMinutes * MINUTE,
    dropoffServiceMs: o.dropoffServiceMinutes * MINUTE,
    shopperWeight: o.shopperWeight,
    lateWeight: o.lateWeight,
  };
}

/** Nobody passed on it (shared: most orders). */
const NOBODY: ReadonlySet<string> = new Set();

/** `items` in order of `key`; the same array when it already is (the market sends them so). */
function sortedBy<T>(items: readonly T[], key: (item: T) => string): readonly T[] {
  for (let i = 1; i < items.length; i++) {
    if (key(items[i - 1]!) > key(items[i]!)) {
      return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    }
  }
  return items;
}

/** A courier as planned during one tick: its route so far and what room it has left. */
export interface Plannable {
  readonly courier: DispatchCourier;
  readonly start: RouteStart;
  stops: readonly RouteStop[];
  cost: number;
  capacityLeft: number;
  slots: Record<"ambient" | "chilled" | "frozen", number> | null;
}

interface Bundle {
  readonly orders: readonly DispatchOrder[];
  /** A bundle's trip (several orders): its stops in order, inserted into a route whole. */
  readonly block: readonly RouteStop[] | null;
  readonly pickup: LatLng;
  readonly lockedTo: string | null;
  readonly passedBy: ReadonlySet<string>;
  readonly widen: boolean;
}

/** Where a courier's route starts now. Compartments (a van) keep goods cold: no bag budget. */
function routeStart(c: DispatchCourier, position: LatLng, now: number): RouteStart {
  return { position, mode: c.mode, now, offAt: c.offAt, refrigerated: c.freeSlots !== null };
}

/**
 * A courier's current route: its work inserted in the order it was given. Goods that can no
 * longer reach their door within their thermal budget (the courier fell behind) do not make the
 * route impossible, which would leave the courier unplanned: the route is then planned without
 * thermal limits, and each limit it breaks becomes "no later than on this route", so new work
 * may not delay those goods any further. Null when the route cannot be kept at all (shift over).
 */
function currentRoute(
  start: RouteStart,
  carrying: readonly CarriedOrder[],
  timing: RouteTiming,
): Insertion | null {
  const stops = carrying.map((o) => stopsOf(o));
  const route = insertAll(start, [], stops, timing);
  if (route !== null) return route;
  const unlimited = stops.map((list) =>
    list.map((stop) => ({ ...stop, safeMs: Infinity, safeUntil: Infinity })),
  );
  const planned = insertAll(start, [], unlimited, timing);
  if (planned === null) return null;
  const limits = new Map(stops.flat().map((stop) => [`${stop.kind}:${stop.orderId}`, stop]));
  const pickedAt = new Map<string, number>();
  const relaxed = planned.stops.map((stop, i) => {
    const moment = planned.eval.moments[i]!;
    if (stop.kind === "pickup") {
      pickedAt.set(stop.orderId, moment);
      return stop;
    }
    const own = limits.get(`dropoff:${stop.orderId}`) ?? stop;
    const safeMs = own.safeMs ?? Infinity;
    const safeUntil = own.safeUntil ?? Infinity;
    const from = pickedAt.get(stop.orderId);
    const windowKept = start.refrigerated === true || from === undefined || moment - from <= safeMs;
    if (moment <= safeUntil && windowKept) return { ...stop, safeMs, safeUntil };
    return { ...stop, safeMs: Infinity, safeUntil: moment };
  });
  return { stops: relaxed, eval: evaluateRoute(start, relaxed, timing) };
}

/** The current route of a courier: its carried orders inserted in the order they were given. */
function plannable(c: DispatchCourier, now: number, timing: RouteTiming): Plannable | null {
  if (c.position === null) return null;
  const start = routeStart(c, c.position, now);
  if (c.carrying.length === 0) {
    return {
      courier: c,
      start,
      stops: [],
      cost: 0,
      capacityLeft: c.capacityLeft,
      slots: slotsOf(c),
    };
  }
  const route = currentRoute(start, c.carrying, timing);
  // A route that can no longer be kept (shift over) still occupies the courier: plan nothing.
  if (route === null)
    return { courier: c, start, stops: [], cost: 0, capacityLeft: 0, slots: null };
  return {
    courier: c,
    start,
    stops: route.stops,
    cost: route.eval.cost,
    capacityLeft: c.capacityLeft,
    slots: slotsOf(c),
  };
}

function slotsOf(c: DispatchCourier): Plannable["slots"] {
  return c.freeSlots === null ? null : { ...c.freeSlots };
}

/** Route cost after inserting a bundle's orders one by one (Infinity if one cannot go). */
/** Route cost with the row's order inserted at its best place, or its bundle's trip whole. */
function rowCost(
  p: Plannable,
  row: Bundle,
  added: readonly RouteStop[],
  timing: RouteTiming,
): number {
  if (row.block !== null) return blockInsertionCost(p.start, p.stops, row.block, timing);
  return insertionCost(p.start, p.stops, added, timing);
}

function fits(p: Plannable, b: Bundle): boolean {
  if (p.capacityLeft < b.orders.length) return false;
  if (b.lockedTo !== null && b.lockedTo !== p.courier.courierId) return false;
  if (b.passedBy.has(p.courier.courierId)) return false;
  if (p.slots !== null) {
    const need = { ambient: 0, chilled: 0, frozen: 0 };
    for (const o of b.orders) need[o.temperatureClass]++;
    if (need.ambient > p.slots.ambient) return false;
    if (need.chilled > p.slots.chilled) return false;
    if (need.frozen > p.slots.frozen) return false;
  }
  return true;
}

/** Bundles orders of one store that are cheaper together, by savings. */
function bundle(
  orders: readonly DispatchOrder[],
  o: ResolvedEngineOptions,
  timing: RouteTiming,
  now: number,
): DispatchOrder[][] {
  const byStore = new Map<string, DispatchOrder[]>();
  const singles: DispatchOrder[][] = [];
  for (const order of orders) {
    // A locked order or one someone passed on goes alone: its candidates differ.
    if (o.maxBundle < 2 || order.lockedTo !== null || order.passedBy.length > 0) {
      singles.push([order]);
      continue;
    }
    const list = byStore.get(order.storeId) ?? [];
    list.push(order);
    byStore.set(order.storeId, list);
  }
  const out: DispatchOrder[][] = [...singles];
  for (const group of byStore.values()) {
    if (group.length === 1) {
      out.push(group);
      continue;
    }
    // Savings (Clarke–Wright) on an e-bike standing at the store now: pairs by saving, each
    // joining two singles, or a single to a bundle with room when the whole still saves enough.
    const at = group[0]!.pickup;
    const start: RouteStart = { position: at, mode: "ebike", now, offAt: null };
    const stops = new Map(group.map((m) => [m, stopsOf(m)]));
    const costOf = (members: readonly DispatchOrder[]) => {
      const last = stops.get(members[members.length - 1]!)!;
      // One order alone on an empty route, and the first of a pair, go in the only order there is.
      if (members.length === 1) return insertionCost(start, [], last, timing);
      if (members.length === 2) return insertionCost(start, stops.get(members[0]!)!, last, timing);
      const head = insertAll(
        start,
        [],
        members.slice(0, -1).map((m) => stops.get(m)!),
        timing,
      );
      if (head === null) return Infinity;
      return insertionCost(start, head.stops, last, timing);
    };
    const solo = group.map((m) => costOf([m]));
    const pairs: { a: number; b: number; saving: number }[] = [];
    for (let a = 0; a < group.length; a++) {
      for (let b = a + 1; b < group.length; b++) {
        const A = group[a]!;
        const B = group[b]!;
        // An order a bag cannot take alone (its thermal budget) goes alone, to a van or nobody.
        if (solo[a] === Infinity || solo[b] === Infinity) continue;
        if (Math.abs(A.readyAt - B.readyAt) > o.lookaheadMinutes * MINUTE) continue;
        // Only a pair where one door lies on the way to the other can save anything: from one
        // door to the other must be shorter than from the store to it. Skips most pairs cheaply.
        if (A.dropoff !== null && B.dropoff !== null) {
          const between = o.travel(A.dropoff, B.dropoff, "ebike");
          if (
            between >= o.travel(at, B.dropoff, "ebike") &&
            between >= o.travel(at, A.dropoff, "ebike")
          ) {
            continue;
          }
        }
        const saving = solo[a]! + solo[b]! - costOf([group[a]!, group[b]!]);
        if (saving >= o.bundleMinSavingMinutes) pairs.push({ a, b, saving });
      }
    }
    pairs.sort((x, y) => y.saving - x.saving || x.a - y.a || x.b - y.b);
    const bundleOf = new Array<{ members: number[]; cost: number } | null>(group.length).fill(null);
    for (const { a, b } of pairs) {
      const A = bundleOf[a];
      const B = bundleOf[b];
      if (A !== null && B !== null) continue;
      if (A === null && B === null) {
        const joined = { members: [a, b], cost: costOf([group[a]!, group[b]!]) };
        bundleOf[a] = joined;
        bundleOf[b] = joined;
        continue;
      }
      const host = (A ?? B)!;
      const single = A === null ? a : b;
      if (host.members.length >= o.maxBundle) continue;
      const members = [...host.members, single];
      const cost = costOf(members.map((i) => group[i]!));
      if (host.cost + solo[single]! - cost < o.bundleMinSavingMinutes) continue;
      host.members = members;
      host.cost = cost;
      bundleOf[single] = host;
    }
    const bundles: { members: DispatchOrder[] }[] = [];
    const emitted = new Set<object>();
    group.forEach((order, i) => {
      const b = bundleOf[i] ?? null;
      if (b === null) bundles.push({ members: [order] });
      else if (!emitted.has(b)) {
        emitted.add(b);
        bundles.push({ members: b.members.map((k) => group[k]!) });
      }
    });
    for (const b of bundles) out.push(b.members);
  }
  return out;
}

/**
 * What one tick can hand to the next to save work: the H3 index of the couriers, moved rather
 * than rebuilt (most couriers move a few metres between ticks and stay in their cell). A plan
 * with a memo equals a plan without one; the memo only saves time. One memo per market.
 */
export class DispatchMemo {
  #index: CourierIndex | null = null;
  #ids = new Set<string>();

  /** The index of exactly these couriers at their current positions. */
  index(plans: readonly Plannable[], resolution: number, now: number): CourierIndex {
    if (this.#index === null || this.#index.resolution !== resolution) {
      this.#index = new CourierIndex({ resolution });
      this.#ids = new Set();
    }
    const index = this.#index;
    const ids = new Set<string>();
    for (const p of plans) {
      ids.add(p.courier.courierId);
      index.upsert(p.courier.courierId, p.start.position.lat, p.start.position.lng, now);
    }
    for (const id of this.#ids) if (!ids.has(id)) index.remove(id);
    this.#ids = ids;
    return index;
  }
}

/** Plans one tick. Deterministic for equal inputs (inputs are sorted by id first). */
export function planDispatch(
  input: DispatchInput,
  options: EngineOptions = {},
  memo?: DispatchMemo,
): DispatchPlan {
  const o = engineDefaults(options);
  const timing = routeTiming(o);
  const now = input.now;
  const orders = sortedBy(input.orders, (x) => x.orderId);
  const considered = orders.filter((x) => x.readyAt <= now + o.lookaheadMinutes * MINUTE);

  const couriers = sortedBy(input.couriers, (x) => x.courierId);
  const plans: Plannable[] = [];
  for (const c of couriers) {
    if (c.capacityLeft <= 0) continue;
    const p = plannable(c, now, timing);
    if (p === null || p.capacityLeft <= 0) continue;
    plans.push(p);
  }
  const index = (memo ?? new DispatchMemo()).index(plans, o.h3Resolution, now);
  const planOf = new Map(plans.map((p, i) => [p.courier.courierId, i]));

  const rowOf = (members: readonly DispatchOrder[], block: readonly RouteStop[] | null) => ({
    orders: members,
    block,
    pickup: members[0]!.pickup,
    lockedTo: members[0]!.lockedTo,
    passedBy: members.some((m) => m.passedBy.length > 0)
      ? new Set(members.flatMap((m) => m.passedBy))
      : NOBODY,
    widen: members.some((m) => m.passedBy.length >= o.widenAfterPasses),
  });
  let rows: Bundle[] = bundle(considered, o, timing, now).flatMap((members) => {
    if (members.length === 1) return [rowOf(members, null)];
    // The trip's own order: the bundle's orders inserted one by one on an idle e-bike at the
    // store, as `bundle` priced it (so feasible: no end of shift there, and the bundle formed
    // only within the bag budgets). Should it not be, its orders go alone.
    const trip = insertAll(
      { position: members[0]!.pickup, mode: "ebike", now, offAt: null },
      [],
      members.map((m) => stopsOf(m)),
      timing,
    );
    return trip === null ? members.map((m) => rowOf([m], null)) : [rowOf(members, trip.stops)];
  });
  const bundles = rows.filter((r) => r.orders.length > 1).length;

  const assignments: Assignment[] = [];
  // Nearest couriers per store and radius: orders of one store share one search per tick.
  const nearCache = new Map<string, CourierDistance[]>();
  let candidatePairs = 0;
  let rounds = 0;
  const hadCandidate = new Set<string>();
  for (let round = 0; round < o.rounds && rows.length > 0 && plans.length > 0; round++) {
    rounds++;
    // The candidate graph straight into its compressed form (no object per edge).
    const graph = new SparseBuilder(plans.length, rows.length);
    for (const row of rows) {
      graph.startRow();
      const added = row.block === null ? stopsOf(row.orders[0]!) : row.block;
      for (const col of candidatesFor(row, plans, planOf, index, o, nearCache)) {
        const p = plans[col]!;
        const cost = rowCost(p, row, added, timing);
        if (Number.isFinite(cost)) graph.edge(col, cost - p.cost);
      }
      if (graph.rowLength() > 0) for (const m of row.orders) hadCandidate.add(m.orderId);
    }
    const costs = graph.build();
    candidatePairs += costs.col.length;
    const match = minCostAssignment(costs, UNASSIGNED_COST);
    const left: Bundle[] = [];
    let matched = 0;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      const col = match[r]!;
      if (col < 0) {
        left.push(row);
        continue;
      }
      matched++;
      let edgeCost = 0;
      for (let e = costs.rowStart[r]!; e < costs.rowStart[r + 1]!; e++) {
        if (costs.col[e] === col) edgeCost = costs.cost[e]!;
      }
      const p = plans[col]!;
      const inserted =
        row.block === null
          ? insertAll(p.start, p.stops, [stopsOf(row.orders[0]!)], timing)!
          : blockInsertion(p.start, p.stops, row.block, timing)!;
      p.stops = inserted.stops;
      const evaluated = inserted.eval;
      p.cost = evaluated.cost;
      p.capacityLeft -= row.orders.length;
      if (p.slots !== null) for (const m of row.orders) p.slots[m.temperatureClass]--;
      const ids = row.orders.map((m) => m.orderId);
      for (const m of row.orders) {
        const pickupAt = momentOf(p.stops, evaluated.moments, m.orderId, "pickup") ?? now;
        const dropoffAt = momentOf(p.stops, evaluated.moments, m.orderId, "dropoff");
        assignments.push({
          orderId: m.orderId,
          courierId: p.courier.courierId,
          cost: edgeCost,
          bundle: ids,
          pickupAt,
          dropoffAt,
          dropoffP90: dropoffAt === null ? null : now + (dropoffAt - now) * o.etaSpread,
        });
      }
    }
    rows = left;
    if (matched === 0) break;
  }

  const reassignments = o.relieve ? betterElsewhere(couriers, plans, o, timing, now) : [];
  const assignedIds = new Set(assignments.map((a) => a.orderId));
  const alerts: DispatchAlert[] = [];
  for (const order of orders) {
    if (assignedIds.has(order.orderId)) continue;
    if (order.passedBy.length >= o.alertAfterPasses) {
      alerts.push({
        orderId: order.orderId,
        code: "many_declines",
        message: `${order.passedBy.length} couriers declined or let the offer run out`,
      });
    } else if (
      !hadCandidate.has(order.orderId) &&
      order.readyAt <= now &&
      now - order.queuedAt >= o.alertAfterWaitMinutes * MINUTE
    ) {
      alerts.push({
        orderId: order.orderId,
        code: "no_courier",
        message: `no courier within ${o.maxRadiusMeters / 1000} km for ${Math.floor((now - order.queuedAt) / MINUTE)} min`,
      });
    }
  }
  return {
    assignments,
    reassignments,
    alerts,
    stats: {
      orders: orders.length,
      considered: considered.length,
      couriers: plans.length,
      bundles,
      candidatePairs,
      assigned: assignments.length,
      rounds,
    },
  };
}

/**
 * Unstarted, unlocked jobs that a courier still free after this tick's plan would pick up at
 * least `reassignGainMinutes` sooner than the courier who has them (stuck behind other stops,
 * or far away). Each free courier is counted for one job at most. Never a picked-up job, a
 * locked one or a pending offer.
 */
function betterElsewhere(
  couriers: readonly DispatchCourier[],
  plans: readonly Plannable[],
  o: ResolvedEngineOptions,
  timing: RouteTiming,
  now: number,
): Reassignment[] {
  const free: Plannable[] = [];
  for (const p of plans) if (p.stops.length === 0 && p.capacityLeft > 0) free.push(p);
  if (free.length === 0) return [];
  // Built only if some job could gain at all; holds the free couriers only.
  let freeIndex: CourierIndex | null = null;
  const freeById = new Map(free.map((p) => [p.courier.courierId, p]));
  const claimed = new Set<string>();
  const out: Reassignment[] = [];
  const halfPickup = timing.pickupServiceMs / 2;
  const gainMs = o.reassignGainMinutes * MINUTE;
  for (const c of couriers) {
    if (c.position === null) continue;
    const movable = c.carrying.filter((j) => !j.pickedUp && !j.locked && j.offered !== true);
    if (movable.length === 0) continue;
    const route = currentRoute(routeStart(c, c.position, now), c.carrying, timing);
    if (route === null) continue;
    for (const job of movable) {
      if (job.pickup === null) continue;
      const current = momentOf(route.stops, route.eval.moments, job.orderId, "pickup");
      // No courier picks up before the food is ready or before half a service from now.
      if (current === null || current - Math.max(job.readyAt, now + halfPickup) < gainMs) continue;
      if (freeIndex === null) {
        freeIndex = new CourierIndex({ resolution: o.h3Resolution });
        for (const p of free) {
          freeIndex.upsert(p.courier.courierId, p.start.position.lat, p.start.position.lng, now);
        }
      }
      let best: { id: string; at: number } | null = null;
      const jobStops = stopsOf(job);
      for (const n of freeIndex.nearest(job.pickup.lat, job.pickup.lng, 4, o.maxRadiusMeters)) {
        const p = freeById.get(n.id)!;
        if (claimed.has(n.id) || n.id === c.courierId) continue;
        // Only a courier who could carry it: a slot of its class, its goods kept within their
        // budget (a chilled job a van has for a far door is no job for a bag), before shift end.
        if (p.slots !== null && p.slots[job.temperatureClass] <= 0) continue;
        if (insertionCost(p.start, [], jobStops, timing) === Infinity) continue;
        const arrival = now + timing.travel(p.start.position, job.pickup, p.courier.mode) * 1000;
        const at = Math.max(job.readyAt, arrival + halfPickup);
        if (best === null || at < best.at) best = { id: n.id, at };
      }
      if (best === null || current - best.at < gainMs) continue;
      claimed.add(best.id);
      out.push({
        orderId: job.orderId,
        courierId: c.courierId,
        minutesSooner: Math.round((current - best.at) / MINUTE),
      });
    }
  }
  return out;
}

function momentOf(
  stops: readonly RouteStop[],
  moments: readonly number[],
  orderId: string,
  kind: "pickup" | "dropoff",
): number | null {
  for (let i = 0; i < stops.length; i++) {
    if (stops[i]!.orderId === orderId && stops[i]!.kind === kind) return moments[i]!;
  }
  return null;
}

/**
 * Columns (plannable couriers) that may take a bundle: the nearest feasible ones around its
 * store, the radius doubling until `candidates` are found or the widest radius is searched. A
 * locked bundle has one candidate at most: its courier, wherever it is.
 */
function candidatesFor(
  row: Bundle,
  plans: readonly Plannable[],
  planOf: ReadonlyMap<string, number>,
  index: CourierIndex,
  o: ResolvedEngineOptions,
  nearCache: Map<string, CourierDistance[]>,
): number[] {
  if (row.lockedTo !== null) {
    const col = planOf.get(row.lockedTo);
    return col !== undefined && fits(plans[col]!, row) ? [col] : [];
  }
  const want = row.widen ? o.candidates * 2 : o.candidates;
  let radius = row.widen ? o.maxRadiusMeters : o.radiusMeters;
  for (;;) {
    // Ask for extra: some of the nearest will not fit (full, passed, wrong compartment).
    const key = `${row.pickup.lat},${row.pickup.lng},${want},${radius}`;
    let near = nearCache.get(key);
    if (near === undefined) {
      near = index.nearest(row.pickup.lat, row.pickup.lng, want * 2, radius);
      nearCache.set(key, near);
    }
    const out: number[] = [];
    for (const n of near) {
      const col = planOf.get(n.id)!;
      if (fits(plans[col]!, row)) out.push(col);
      if (out.length === want) break;
    }
    if (out.length >= want || radius >= o.maxRadiusMeters) return out;
    radius = Math.min(o.maxRadiusMeters, radius * 2);
  }
}
