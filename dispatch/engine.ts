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
import type { LatLng, Mode } from "../geo/index.ts";
import { minCostAssignment, SparseBuilder } from "./matching.ts";
import type { SparseCosts } from "./matching.ts";
import {
  blockAt,
  blockInsertionCost,
  evaluateRoute,
  insertAll,
  insertAt,
  insertionCost,
  insertionCostOver,
  lastPlacement,
  LegTable,
  pairing,
  pairingCost,
  routeCost,
  stopsOf,
  straightLineTravel,
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

export { straightLineTravel };

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

/**
 * `items` in order of `key` (a stable sort); the same array when it already is (the market
 * sends them so). `last`, when given, is how the previous list was sorted: when the keys come in
 * the same order as then (the same couriers, one tick later), its order is this one too.
 */
function sortedBy<T>(
  items: readonly T[],
  key: (item: T) => string,
  last: SortMemo | null = null,
): readonly T[] {
  if (last !== null && last.keys.length === items.length) {
    let same = true;
    for (let i = 0; i < items.length; i++) {
      if (key(items[i]!) !== last.keys[i]) {
        same = false;
        break;
      }
    }
    if (same) return last.order === null ? items : last.order.map((k) => items[k]!);
  }
  for (let i = 1; i < items.length; i++) {
    if (key(items[i - 1]!) > key(items[i]!)) {
      // Each key read once; positions sorted by key (a stable sort: equal keys keep their order).
      const keys = items.map(key);
      const at = Array.from(keys, (_, k) => k);
      at.sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
      if (last !== null) {
        last.keys = keys;
        last.order = at;
      }
      return at.map((k) => items[k]!);
    }
  }
  if (last !== null) {
    last.keys = items.map(key);
    last.order = null;
  }
  return items;
}

/** How a list was sorted: its keys in their order then, and the positions in sorted order. */
interface SortMemo {
  keys: readonly string[];
  /** Null: it was sorted already. */
  order: readonly number[] | null;
}

/** Where a courier's route starts (`RouteStart`), refilled tick after tick. */
class Start implements RouteStart {
  position: LatLng = { lat: 0, lng: 0 };
  mode: Mode = "ebike";
  now = 0;
  offAt: number | null = null;
  refrigerated = false;
}

type Slots = Record<"ambient" | "chilled" | "frozen", number>;

/**
 * A courier as planned during one tick: its route so far and what room it has left. The memo
 * keeps one per courier and refills it each tick (`DispatchMemo.plannable`) rather than
 * allocating them anew; nothing of it outlives a plan but the object.
 */
export class Plannable {
  courier: DispatchCourier;
  readonly start = new Start();
  stops: readonly RouteStop[] = NO_STOPS;
  cost = 0;
  capacityLeft = 0;
  slots: Slots | null = null;
  /** A van's free slots, kept for `slots` from tick to tick. */
  readonly ownSlots: Slots = { ambient: 0, chilled: 0, frozen: 0 };
  /** The memo's tick this object was last handed out for. */
  tick = 0;

  constructor(courier: DispatchCourier) {
    this.courier = courier;
  }

  /** Refilled for a courier and a moment: at its position, no route, no room yet. */
  fill(c: DispatchCourier, position: LatLng, now: number): void {
    this.courier = c;
    const start = this.start;
    start.position = position;
    start.mode = c.mode;
    start.now = now;
    start.offAt = c.offAt;
    // Compartments (a van) keep goods cold: no bag budget.
    start.refrigerated = c.freeSlots !== null;
    this.stops = NO_STOPS;
    this.cost = 0;
    this.capacityLeft = 0;
    this.slots = null;
  }

  /** A courier's room: its capacity and its free compartment slots (copied: they are spent). */
  room(c: DispatchCourier): void {
    this.capacityLeft = c.capacityLeft;
    const f = c.freeSlots;
    if (f === null) this.slots = null;
    else {
      const own = this.ownSlots;
      own.ambient = f.ambient;
      own.chilled = f.chilled;
      own.frozen = f.frozen;
      this.slots = own;
    }
  }
}

/** An empty route (shared: it is never changed, only replaced). */
const NO_STOPS: readonly RouteStop[] = Object.freeze([]);

interface Bundle {
  readonly orders: readonly DispatchOrder[];
  /** A bundle's trip (several orders): its stops in order, inserted into a route whole. */
  readonly block: readonly RouteStop[] | null;
  /** A single order's stops (`stopsOf`), inserted at their best places; null for a bundle. */
  readonly added: readonly RouteStop[] | null;
  readonly pickup: LatLng;
  readonly lockedTo: string | null;
  readonly passedBy: ReadonlySet<string>;
  readonly widen: boolean;
  /** Compartment slots it needs per class. */
  readonly ambient: number;
  readonly chilled: number;
  readonly frozen: number;
  /** Whether some round found it a courier (an alert is about orders that never had one). */
  hadCandidate: boolean;
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

/**
 * The current route of a courier (its carried orders inserted in the order they were given)
 * into `p`, refilled for it. False when it has no position (not planned).
 */
function plannable(p: Plannable, c: DispatchCourier, now: number, timing: RouteTiming): boolean {
  if (c.position === null) return false;
  p.fill(c, c.position, now);
  const start = p.start;
  if (c.carrying.length === 0) {
    p.room(c);
    return true;
  }
  if (c.carrying.length === 1) {
    // One order (most busy couriers): its stops go in the only order there is. When that route
    // is feasible it is the route `currentRoute` plans (and prices by the same timing rule).
    const stops = stopsOf(c.carrying[0]!);
    const cost = stops.length === 0 ? Infinity : routeCost(start, stops, timing);
    if (cost < Infinity) {
      p.stops = stops;
      p.cost = cost;
      p.room(c);
      return true;
    }
  }
  const route = currentRoute(start, c.carrying, timing);
  // A route that can no longer be kept (shift over) still occupies the courier: plan nothing
  // (no room).
  if (route === null) return true;
  p.stops = route.stops;
  p.cost = route.eval.cost;
  p.room(c);
  return true;
}

/** Route cost with the row's order inserted at its best place, or its bundle's trip whole. */
function rowCost(p: Plannable, row: Bundle, timing: RouteTiming): number {
  if (row.block !== null) return blockInsertionCost(p.start, p.stops, row.block, timing);
  return insertionCost(p.start, p.stops, row.added!, timing);
}

function fits(p: Plannable, b: Bundle): boolean {
  if (p.capacityLeft < b.orders.length) return false;
  if (b.lockedTo !== null && b.lockedTo !== p.courier.courierId) return false;
  if (b.passedBy !== NOBODY && b.passedBy.has(p.courier.courierId)) return false;
  const slots = p.slots;
  if (slots !== null) {
    if (b.ambient > slots.ambient) return false;
    if (b.chilled > slots.chilled) return false;
    if (b.frozen > slots.frozen) return false;
  }
  return true;
}

/** The travel between one store's points, for `bundle` (reused from store to store). */
const groupLegs = new LegTable();
const pairIds = new Int32Array(5);

/** Bundles orders of one store that are cheaper together, by savings. */
function bundle(
  orders: readonly DispatchOrder[],
  stopsList: readonly (readonly RouteStop[])[],
  o: ResolvedEngineOptions,
  timing: RouteTiming,
  now: number,
): number[][] {
  const byStore = new Map<string, number[]>();
  const singles: number[][] = [];
  for (let i = 0; i < orders.length; i++) {
    const order = orders[i]!;
    // A locked order or one someone passed on goes alone: its candidates differ.
    if (o.maxBundle < 2 || order.lockedTo !== null || order.passedBy.length > 0) {
      singles.push([i]);
      continue;
    }
    const list = byStore.get(order.storeId);
    if (list === undefined) byStore.set(order.storeId, [i]);
    else list.push(i);
  }
  const out: number[][] = singles;
  for (const group of byStore.values()) {
    if (group.length === 1) out.push(group);
    else bundleGroup(orders, stopsList, group, o, timing, now, out);
  }
  return out;
}

/** `bundle` for the orders of one store (at least two): their bundles and singles onto `out`. */
function bundleGroup(
  orders: readonly DispatchOrder[],
  stopsList: readonly (readonly RouteStop[])[],
  indices: readonly number[],
  o: ResolvedEngineOptions,
  timing: RouteTiming,
  now: number,
  out: number[][],
): void {
  // Savings (Clarke–Wright) on an e-bike standing at the store now: pairs by saving, each
  // joining two singles, or a single to a bundle with room when the whole still saves enough.
  const group = indices.map((i) => orders[i]!);
  const stops = indices.map((i) => stopsList[i]!);
  const at = group[0]!.pickup;
  const start: RouteStart = { position: at, mode: "ebike", now, offAt: null };
  // The group's points (the start, then each order's pickup and door) and the travel between
  // them, shared by all the pairs' searches.
  const points: LatLng[] = [at];
  for (const m of group) points.push(m.pickup, m.dropoff ?? m.pickup);
  groupLegs.reset(points, "ebike", o.travel);
  // One order alone on an empty route goes in the only order there is.
  const solo = stops.map((x) => insertionCost(start, [], x, timing));
  // The group's stops set up once for all its pairs (unless some have a thermal limit).
  const paired = pairing(groupLegs, start, stops, timing);
  /** The pair's cost: `a` on an empty route (its only order), `b` inserted at its best. */
  const pairCost = (a: number, b: number): number => {
    if (paired) return pairingCost(a, b);
    let k = 0;
    pairIds[k++] = 0;
    pairIds[k++] = 1 + 2 * a;
    if (stops[a]!.length === 2) pairIds[k++] = 2 + 2 * a;
    pairIds[k++] = 1 + 2 * b;
    if (stops[b]!.length === 2) pairIds[k++] = 2 + 2 * b;
    return insertionCostOver(groupLegs, pairIds, start, stops[a]!, stops[b]!, timing);
  };
  const costOf = (members: readonly number[]): number => {
    const last = stops[members[members.length - 1]!]!;
    const head = insertAll(
      start,
      [],
      members.slice(0, -1).map((m) => stops[m]!),
      timing,
    );
    if (head === null) return Infinity;
    return insertionCost(start, head.stops, last, timing);
  };
  const pairs: { a: number; b: number; saving: number; cost: number }[] = [];
  const window = o.lookaheadMinutes * MINUTE;
  for (let a = 0; a < group.length; a++) {
    // An order a bag cannot take alone (its thermal budget) goes alone, to a van or nobody.
    if (solo[a] === Infinity) continue;
    const A = group[a]!;
    for (let b = a + 1; b < group.length; b++) {
      const B = group[b]!;
      if (solo[b] === Infinity) continue;
      if (Math.abs(A.readyAt - B.readyAt) > window) continue;
      // Only a pair where one door lies on the way to the other can save anything: from one
      // door to the other must be shorter than from the store to it. Skips most pairs cheaply.
      if (A.dropoff !== null && B.dropoff !== null) {
        const legs = groupLegs.table;
        const between = legs[groupLegs.entry(2 + 2 * a, 2 + 2 * b)]!;
        if (
          between >= legs[groupLegs.entry(0, 2 + 2 * b)]! &&
          between >= legs[groupLegs.entry(0, 2 + 2 * a)]!
        ) {
          continue;
        }
      }
      const cost = pairCost(a, b);
      const saving = solo[a]! + solo[b]! - cost;
      if (saving >= o.bundleMinSavingMinutes) pairs.push({ a, b, saving, cost });
    }
  }
  if (pairs.length === 0) {
    for (const i of indices) out.push([i]);
    return;
  }
  pairs.sort((x, y) => y.saving - x.saving || x.a - y.a || x.b - y.b);
  const bundleOf = new Array<{ members: number[]; cost: number } | null>(group.length).fill(null);
  for (const { a, b, cost: pair } of pairs) {
    const A = bundleOf[a];
    const B = bundleOf[b];
    if (A !== null && B !== null) continue;
    if (A === null && B === null) {
      const joined = { members: [a, b], cost: pair };
      bundleOf[a] = joined;
      bundleOf[b] = joined;
      continue;
    }
    const host = (A ?? B)!;
    const single = A === null ? a : b;
    if (host.members.length >= o.maxBundle) continue;
    const members = [...host.members, single];
    const cost = costOf(members);
    if (host.cost + solo[single]! - cost < o.bundleMinSavingMinutes) continue;
    host.members = members;
    host.cost = cost;
    bundleOf[single] = host;
  }
  const emitted = new Set<object>();
  for (let i = 0; i < group.length; i++) {
    const b = bundleOf[i]!;
    if (b === null) out.push([indices[i]!]);
    else if (!emitted.has(b)) {
      emitted.add(b);
      out.push(b.members.map((k) => indices[k]!));
    }
  }
}

/**
 * What one tick can hand to the next to save work: the H3 index of the couriers, moved rather
 * than rebuilt (most couriers move a few metres between ticks and stay in their cell); each
 * courier's planning state, refilled rather than allocated again (less garbage, shorter pauses);
 * and how the last input was sorted (the same couriers come in the same order tick after tick).
 * Nothing in it decides anything: a plan with a memo equals a plan without one (engine.test.ts
 * checks it over ticks); the memo only saves time. One memo per market.
 */
export class DispatchMemo {
  #index: CourierIndex | null = null;
  /** The couriers indexed by the last plan, in its order (the order they leave the index in). */
  #ids: string[] = [];
  #idCount = 0;
  #spare: string[] = [];
  /** Per courier indexed: the plan that last indexed it and its column there. */
  #slots = new Map<string, { tick: number; col: number }>();
  #tick = 0;
  /** Each courier's `Plannable`, refilled each tick; and the tick handing them out. */
  #plans = new Map<string, Plannable>();
  #planTick = 0;
  /** How the last input's couriers and orders were sorted. */
  readonly courierSort: SortMemo = { keys: [], order: null };
  readonly orderSort: SortMemo = { keys: [], order: null };

  startTick(): void {
    this.#planTick++;
  }

  /** A `Plannable` for this courier this tick (its own from earlier ticks when there is one). */
  plannable(c: DispatchCourier): Plannable {
    const tick = this.#planTick;
    let p = this.#plans.get(c.courierId);
    if (p === undefined) {
      p = new Plannable(c);
      this.#plans.set(c.courierId, p);
    } else if (p.tick === tick) {
      // The same courier twice in one input: a second object.
      p = new Plannable(c);
    }
    p.tick = tick;
    return p;
  }

  /** Forgets the couriers no longer planned, when they are many. */
  endTick(planned: number): void {
    if (this.#plans.size <= 2 * planned + 64) return;
    const tick = this.#planTick;
    for (const [id, p] of this.#plans) if (p.tick !== tick) this.#plans.delete(id);
  }

  /** The index of exactly these couriers at their current positions. */
  index(plans: readonly Plannable[], resolution: number, now: number): CourierIndex {
    if (this.#index === null || this.#index.resolution !== resolution) {
      this.#index = new CourierIndex({ resolution });
      this.#idCount = 0;
      this.#slots = new Map();
    }
    const index = this.#index;
    const tick = ++this.#tick;
    const slots = this.#slots;
    const ids = this.#spare;
    for (let i = 0; i < plans.length; i++) {
      const p = plans[i]!;
      const id = p.courier.courierId;
      ids[i] = id;
      const slot = slots.get(id);
      if (slot === undefined) slots.set(id, { tick, col: i });
      else {
        slot.tick = tick;
        slot.col = i;
      }
      index.upsert(id, p.start.position.lat, p.start.position.lng, now);
    }
    const previous = this.#ids;
    for (let i = 0; i < this.#idCount; i++) {
      const id = previous[i]!;
      if (slots.get(id)?.tick === tick) continue;
      index.remove(id);
      slots.delete(id);
    }
    this.#spare = previous;
    this.#ids = ids;
    this.#idCount = plans.length;
    return index;
  }

  /** The column of a courier in the plans last indexed, or undefined when it is not in them. */
  column(courierId: string): number | undefined {
    const slot = this.#slots.get(courierId);
    return slot !== undefined && slot.tick === this.#tick ? slot.col : undefined;
  }
}

function rowOf(
  members: readonly DispatchOrder[],
  block: readonly RouteStop[] | null,
  added: readonly RouteStop[] | null,
  o: ResolvedEngineOptions,
): Bundle {
  let passed = false;
  let widen = false;
  let ambient = 0;
  let chilled = 0;
  let frozen = 0;
  for (const m of members) {
    if (m.passedBy.length > 0) passed = true;
    if (m.passedBy.length >= o.widenAfterPasses) widen = true;
    if (m.temperatureClass === "ambient") ambient++;
    else if (m.temperatureClass === "chilled") chilled++;
    else if (m.temperatureClass === "frozen") frozen++;
  }
  return {
    orders: members,
    block,
    added,
    pickup: members[0]!.pickup,
    lockedTo: members[0]!.lockedTo,
    passedBy: passed ? new Set(members.flatMap((m) => m.passedBy)) : NOBODY,
    widen,
    ambient,
    chilled,
    frozen,
    hadCandidate: false,
  };
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
  const memory = memo ?? new DispatchMemo();
  const orders = sortedBy(input.orders, (x) => x.orderId, memory.orderSort);
  const considered = orders.filter((x) => x.readyAt <= now + o.lookaheadMinutes * MINUTE);

  const couriers = sortedBy(input.couriers, (x) => x.courierId, memory.courierSort);
  const plans = plannables(couriers, now, timing, memory);
  const index = memory.index(plans, o.h3Resolution, now);

  // Each order's stops, made once (bundling, the rows and the trips share them).
  const stopsList = considered.map((x) => stopsOf(x));
  const bundled = bundle(considered, stopsList, o, timing, now);
  let rows = rowsOf(considered, stopsList, bundled, o, timing, now);
  let bundles = 0;
  for (const r of rows) if (r.orders.length > 1) bundles++;

  const assignments: Assignment[] = [];
  // Nearest couriers per store and radius: orders of one store share one search per tick.
  const near = new NearCache(index, memory);
  let candidatePairs = 0;
  let rounds = 0;
  for (let round = 0; round < o.rounds && rows.length > 0 && plans.length > 0; round++) {
    rounds++;
    const costs = candidateGraph(rows, plans, memory, o, near, timing);
    candidatePairs += costs.col.length;
    const match = minCostAssignment(costs, UNASSIGNED_COST);
    const left: Bundle[] = [];
    let matched = 0;
    for (let r = 0; r < rows.length; r++) {
      const col = match[r]!;
      if (col < 0) {
        left.push(rows[r]!);
        continue;
      }
      matched++;
      const edge = edgeTo(costs, r, col);
      assign(
        rows[r]!,
        plans[col]!,
        costs.cost[edge]!,
        placements[edge]!,
        o,
        timing,
        now,
        assignments,
      );
    }
    rows = left;
    if (matched === 0) break;
  }

  const reassignments = o.relieve ? betterElsewhere(couriers, plans, o, timing, now) : [];
  const alerts = alertsFor(orders, rows, assignments, o, now);
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

// The phases of a plan are functions of their own: each is compiled (and, should a rare case
// turn up, deoptimised and compiled again) on its own, not as part of one long function.

/** The couriers that may take work this tick, with their current routes. */
function plannables(
  couriers: readonly DispatchCourier[],
  now: number,
  timing: RouteTiming,
  memo: DispatchMemo,
): Plannable[] {
  const plans: Plannable[] = [];
  memo.startTick();
  for (let i = 0; i < couriers.length; i++) {
    const c = couriers[i]!;
    if (c.capacityLeft <= 0) continue;
    const p = memo.plannable(c);
    if (!plannable(p, c, now, timing) || p.capacityLeft <= 0) continue;
    plans.push(p);
  }
  memo.endTick(plans.length);
  return plans;
}

/** The rows of the matching: single orders, and bundles with their trip. */
function rowsOf(
  orders: readonly DispatchOrder[],
  stopsList: readonly (readonly RouteStop[])[],
  bundled: readonly number[][],
  o: ResolvedEngineOptions,
  timing: RouteTiming,
  now: number,
): Bundle[] {
  const rows: Bundle[] = [];
  for (const indices of bundled) {
    if (indices.length === 1) {
      const i = indices[0]!;
      rows.push(rowOf([orders[i]!], null, stopsList[i]!, o));
      continue;
    }
    const members = indices.map((i) => orders[i]!);
    // The trip's own order: the bundle's orders inserted one by one on an idle e-bike at the
    // store, as `bundle` priced it (so feasible: no end of shift there, and the bundle formed
    // only within the bag budgets). Should it not be, its orders go alone.
    const trip = insertAll(
      { position: members[0]!.pickup, mode: "ebike", now, offAt: null },
      [],
      indices.map((i) => stopsList[i]!),
      timing,
    );
    if (trip === null) {
      for (const i of indices) rows.push(rowOf([orders[i]!], null, stopsList[i]!, o));
    } else rows.push(rowOf(members, trip.stops, null, o));
  }
  return rows;
}

/** The candidate graph of one round, straight into its compressed form (no object per edge). */
function candidateGraph(
  rows: readonly Bundle[],
  plans: readonly Plannable[],
  memo: DispatchMemo,
  o: ResolvedEngineOptions,
  near: NearCache,
  timing: RouteTiming,
): SparseCosts {
  const graph = new SparseBuilder(plans.length, rows.length);
  let edges = 0;
  for (const row of rows) {
    graph.startRow();
    const found = candidatesFor(row, plans, memo, o, near);
    for (let k = 0; k < found; k++) {
      const col = candidateCols[k]!;
      const p = plans[col]!;
      const cost = rowCost(p, row, timing);
      if (Number.isFinite(cost)) {
        if (edges === placements.length) {
          const grown = new Int32Array(edges * 2);
          grown.set(placements);
          placements = grown;
        }
        placements[edges++] = lastPlacement();
        graph.edge(col, cost - p.cost);
      }
    }
    if (graph.rowLength() > 0) row.hadCandidate = true;
  }
  return graph.build();
}

/** Where each edge of the last candidate graph puts its row's stops (`lastPlacement`). */
let placements = new Int32Array(1024);

/** Row r's edge to column `col` (its last one, should there be several). */
function edgeTo(costs: SparseCosts, r: number, col: number): number {
  let edge = -1;
  for (let e = costs.rowStart[r]!; e < costs.rowStart[r + 1]!; e++) {
    if (costs.col[e] === col) edge = e;
  }
  return edge;
}

/** Gives a row's orders to a courier: its route, its room, and the assignments. */
function assign(
  row: Bundle,
  p: Plannable,
  cost: number,
  placement: number,
  o: ResolvedEngineOptions,
  timing: RouteTiming,
  now: number,
  assignments: Assignment[],
): void {
  // The route the candidate search found for this edge (the courier's route has not changed
  // since: a round gives each courier one row at most).
  const inserted =
    row.block === null
      ? insertAt(p.start, p.stops, row.added!, placement, timing)
      : blockAt(p.start, p.stops, row.block, placement, timing);
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
      cost,
      bundle: ids,
      pickupAt,
      dropoffAt,
      dropoffP90: dropoffAt === null ? null : now + (dropoffAt - now) * o.etaSpread,
    });
  }
}

/** Alerts for the orders left without a courier (`left`: the rows no round could place). */
function alertsFor(
  orders: readonly DispatchOrder[],
  left: readonly Bundle[],
  assignments: readonly Assignment[],
  o: ResolvedEngineOptions,
  now: number,
): DispatchAlert[] {
  // The orders left without a courier that some round found candidates for (the others were
  // all assigned, or never had any).
  const hadCandidate = new Set<string>();
  for (const row of left) {
    if (row.hadCandidate) for (const m of row.orders) hadCandidate.add(m.orderId);
  }
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
  return alerts;
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
    if (c.position === null || !c.carrying.some(isMovable)) continue;
    const movable = c.carrying.filter(isMovable);
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

/** A job dispatch may take back: not picked up, not locked, not a pending offer. */
function isMovable(j: CarriedOrder): boolean {
  return !j.pickedUp && !j.locked && j.offered !== true;
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

/** The nearest couriers per pickup point, count and radius, searched once per tick. */
class NearCache {
  readonly #byLat = new Map<
    number,
    Map<number, { k: number; radius: number; near: Int32Array }[]>
  >();

  constructor(
    readonly index: CourierIndex,
    readonly memo: DispatchMemo,
  ) {}

  /** The columns of the nearest couriers, nearest first. */
  nearest(at: LatLng, k: number, radius: number): Int32Array {
    let byLng = this.#byLat.get(at.lat);
    if (byLng === undefined) {
      byLng = new Map();
      this.#byLat.set(at.lat, byLng);
    }
    let searches = byLng.get(at.lng);
    if (searches === undefined) {
      searches = [];
      byLng.set(at.lng, searches);
    }
    for (const s of searches) if (s.k === k && s.radius === radius) return s.near;
    const found = this.index.nearest(at.lat, at.lng, k, radius);
    const near = new Int32Array(found.length);
    for (let i = 0; i < found.length; i++) near[i] = this.memo.column(found[i]!.id)!;
    searches.push({ k, radius, near });
    return near;
  }
}

/** `candidatesFor`'s answer (the first `found` entries), reused row after row. */
let candidateCols = new Int32Array(64);

/**
 * Columns (plannable couriers) that may take a bundle: the nearest feasible ones around its
 * store, the radius doubling until `candidates` are found or the widest radius is searched. A
 * locked bundle has one candidate at most: its courier, wherever it is. Leaves them in
 * `candidateCols` and returns how many.
 */
function candidatesFor(
  row: Bundle,
  plans: readonly Plannable[],
  memo: DispatchMemo,
  o: ResolvedEngineOptions,
  near: NearCache,
): number {
  if (row.lockedTo !== null) {
    const col = memo.column(row.lockedTo);
    if (col === undefined || !fits(plans[col]!, row)) return 0;
    candidateCols[0] = col;
    return 1;
  }
  const want = row.widen ? o.candidates * 2 : o.candidates;
  if (candidateCols.length < want) candidateCols = new Int32Array(want * 2);
  let radius = row.widen ? o.maxRadiusMeters : o.radiusMeters;
  for (;;) {
    // Ask for extra: some of the nearest will not fit (full, passed, wrong compartment).
    const cols = near.nearest(row.pickup, want * 2, radius);
    let found = 0;
    for (let i = 0; i < cols.length; i++) {
      const col = cols[i]!;
      if (fits(plans[col]!, row)) candidateCols[found++] = col;
      if (found === want) break;
    }
    if (found >= want || radius >= o.maxRadiusMeters) return found;
    radius = Math.min(o.maxRadiusMeters, radius * 2);
  }
}
