/**
 * A courier's route: the stops it has ahead, timed from where it is now, and the best place to
 * insert an order's pickup and drop-off into it.
 *
 * Timing follows one rule everywhere (the engine, the replay's simulated couriers, the ETA a
 * driver sees): a pickup happens at max(ready, arrival + pickup service / 2) and the courier
 * leaves half a service later; a drop-off happens at arrival + drop-off service / 2 and the
 * courier leaves half a service later. Several stops of one kind at one place in a row (three
 * orders picked up at one store) are one visit with one service.
 *
 * Cost of a route, in minutes: the courier's time until it leaves its last stop, plus
 * `shopperWeight` × each drop-off's time from now, plus `lateWeight` × every minute past a
 * promise. A pickup after the end of the courier's shift makes a route infeasible (Infinity),
 * and so does a drop-off that breaks its thermal budget: later than its `safeUntil`, or, for a
 * courier without refrigerated compartments, more than its `safeMs` after its pickup on the
 * route. Routes without such limits (ambient goods) skip these checks.
 * The cost of giving a courier an order is the rise of that cost when the order's stops are
 * inserted at their best positions (pickup before drop-off).
 *
 * Insertion is the engine's inner loop (thousands of couriers × candidates per tick), so it
 * works on stop indices over a travel matrix filled lazily, and allocates only for the winner.
 */
import type { LatLng, Mode } from "../geo/index.ts";
import type { RouteStop, TravelSeconds } from "./types.ts";

const MINUTE = 60_000;

export interface RouteTiming {
  readonly travel: TravelSeconds;
  readonly pickupServiceMs: number;
  readonly dropoffServiceMs: number;
  readonly shopperWeight: number;
  readonly lateWeight: number;
}

export interface RouteStart {
  readonly position: LatLng;
  readonly mode: Mode;
  readonly now: number;
  /** No pickup after this moment (end of shift); null for none. */
  readonly offAt: number | null;
  /**
   * The courier carries goods in actively cooled compartments (a van): drop-offs' bag budgets
   * (`RouteStop.safeMs`) do not bind it. False when absent.
   */
  readonly refrigerated?: boolean;
}

export interface RouteEval {
  /**
   * Cost in minutes; Infinity when the route breaks a hard rule (a pickup after shift end, a
   * drop-off past its thermal budget).
   */
  readonly cost: number;
  /** The moment of each stop (pickup or drop-off), epoch ms, in route order. */
  readonly moments: readonly number[];
  /** When the courier leaves its last stop (or now for an empty route). */
  readonly endsAt: number;
}

/**
 * The stops of one insertion problem (the route's, then the added ones) and the travel seconds
 * between them, computed on first use. Point 0 is the courier's position.
 */
class Problem {
  points: LatLng[] = [];
  stops: RouteStop[] = [];
  travelCache = new Float64Array(0);
  size = 0;
  seq = new Int32Array(0);
  bestSeq = new Int32Array(0);
  bestLen = 0;
  /** Whether some drop-off has a thermal limit on this route; if not, nothing below is read. */
  thermal = false;
  /** Per stop: the latest moment of a drop-off (`safeUntil`), Infinity for none. */
  deadline = new Float64Array(0);
  /** Per stop: a drop-off's longest time after its pickup (`safeMs`), Infinity for none. */
  window = new Float64Array(0);
  /** Per stop: the stop index of a windowed drop-off's pickup, -1 for none on the route. */
  pickupOf = new Int32Array(0);
  /** Per stop: a pickup's moment in the sequence being timed (each visits it before its door). */
  moment = new Float64Array(0);

  reset(start: RouteStart, stops: readonly RouteStop[], added: readonly RouteStop[]): void {
    const all = this.stops;
    const points = this.points;
    const bagBound = start.refrigerated !== true;
    let thermal = false;
    all.length = 0;
    points.length = 0;
    points.push(start.position);
    for (const s of stops) {
      all.push(s);
      points.push(s.at);
      if (!thermal) thermal = hasLimit(s, bagBound);
    }
    for (const s of added) {
      all.push(s);
      points.push(s.at);
      if (!thermal) thermal = hasLimit(s, bagBound);
    }
    const m = points.length;
    this.size = m;
    if (this.travelCache.length < m * m) this.travelCache = new Float64Array(m * m * 2);
    this.travelCache.fill(-1, 0, m * m);
    if (this.seq.length < m) {
      this.seq = new Int32Array(m * 2);
      this.bestSeq = new Int32Array(m * 2);
    }
    this.thermal = thermal;
    if (thermal) this.limits(bagBound);
  }

  /** Fills the thermal limits of `stops` (only for a route that has some). */
  private limits(bagBound: boolean): void {
    const all = this.stops;
    const n = all.length;
    if (this.deadline.length < n) {
      this.deadline = new Float64Array(n * 2);
      this.window = new Float64Array(n * 2);
      this.pickupOf = new Int32Array(n * 2);
      this.moment = new Float64Array(n * 2);
    }
    for (let s = 0; s < n; s++) {
      const stop = all[s]!;
      this.deadline[s] = stop.kind === "dropoff" ? (stop.safeUntil ?? Infinity) : Infinity;
      this.window[s] = Infinity;
      this.pickupOf[s] = -1;
      const window = stop.safeMs ?? Infinity;
      if (!bagBound || stop.kind !== "dropoff" || window === Infinity) continue;
      for (let k = 0; k < n; k++) {
        const other = all[k]!;
        if (other.kind === "pickup" && other.orderId === stop.orderId) {
          this.window[s] = window;
          this.pickupOf[s] = k;
          break;
        }
      }
    }
  }

  /**
   * Whether stop `s`, visited at `moment`, keeps its thermal limit (pickups record their moment
   * for their drop-off). Only called when `thermal`.
   */
  keepsCold(s: number, pickup: boolean, moment: number): boolean {
    if (pickup) {
      this.moment[s] = moment;
      return true;
    }
    if (moment > this.deadline[s]!) return false;
    const k = this.pickupOf[s]!;
    return k < 0 || moment - this.moment[k]! <= this.window[s]!;
  }

  /** Travel ms from point a to point b (0 = courier, i + 1 = stop i). */
  leg(a: number, b: number, mode: Mode, travel: TravelSeconds): number {
    const k = a * this.size + b;
    let v = this.travelCache[k]!;
    if (v < 0) {
      v = travel(this.points[a]!, this.points[b]!, mode) * 1000;
      this.travelCache[k] = v;
    }
    return v;
  }
}

/** Whether a stop has a thermal limit that binds this courier. */
function hasLimit(stop: RouteStop, bagBound: boolean): boolean {
  if (stop.kind !== "dropoff") return false;
  return (
    (stop.safeUntil !== undefined && stop.safeUntil < Infinity) ||
    (bagBound && stop.safeMs !== undefined && stop.safeMs < Infinity)
  );
}

const scratch = new Problem();
/** When the last timed sequence's courier leaves its last stop (saves an object per call). */
let lastEndsAt = 0;

/**
 * Cost of visiting `problem.stops` in the order `seq[0..len)` (stop indices), optionally writing
 * each stop's moment. The one timing rule of this module.
 */
function timeSequence(
  problem: Problem,
  seq: Int32Array | readonly number[],
  len: number,
  start: RouteStart,
  timing: RouteTiming,
  moments: number[] | null,
): number {
  const halfPickup = timing.pickupServiceMs / 2;
  const halfDropoff = timing.dropoffServiceMs / 2;
  const stops = problem.stops;
  let t = start.now;
  let at = 0; // point index
  let shopper = 0;
  let late = 0;
  let feasible = true;
  let lastMoment = start.now;
  let previous: RouteStop | null = null;
  const thermal = problem.thermal;
  for (let i = 0; i < len; i++) {
    const s = seq[i]!;
    const stop = stops[s]!;
    const pickup = stop.kind === "pickup";
    let moment: number;
    if (
      previous !== null &&
      previous.kind === stop.kind &&
      previous.at.lat === stop.at.lat &&
      previous.at.lng === stop.at.lng
    ) {
      // Same visit: the courier is still there.
      moment = pickup ? Math.max(stop.readyAt, lastMoment) : lastMoment;
    } else {
      const arrival = t + problem.leg(at, s + 1, start.mode, timing.travel);
      moment = pickup ? Math.max(stop.readyAt, arrival + halfPickup) : arrival + halfDropoff;
    }
    t = moment + (pickup ? halfPickup : halfDropoff);
    if (pickup) {
      if (start.offAt !== null && moment > start.offAt) feasible = false;
    } else {
      shopper += moment - start.now;
      if (stop.promisedBy !== null && moment > stop.promisedBy) late += moment - stop.promisedBy;
    }
    if (thermal && !problem.keepsCold(s, pickup, moment)) feasible = false;
    if (moments !== null) moments.push(moment);
    lastMoment = moment;
    previous = stop;
    at = s + 1;
  }
  lastEndsAt = t;
  return feasible
    ? (t - start.now + timing.shopperWeight * shopper + timing.lateWeight * late) / MINUTE
    : Infinity;
}

/** Times a route from its start. Pure; O(stops). */
export function evaluateRoute(
  start: RouteStart,
  stops: readonly RouteStop[],
  timing: RouteTiming,
): RouteEval {
  scratch.reset(start, stops, []);
  const seq = stops.map((_, i) => i);
  const moments: number[] = [];
  const cost = timeSequence(scratch, seq, seq.length, start, timing, moments);
  return { cost, moments, endsAt: lastEndsAt };
}

export interface Insertion {
  /** The route with the order's stops in place. */
  readonly stops: readonly RouteStop[];
  readonly eval: RouteEval;
}

/**
 * The cheapest way to add `added` (one order's pickup and drop-off, pickup first, or just one
 * of them) to a route: every pickup position, and every drop-off position after it. Null when
 * no position is feasible. O(stops³) time over O(stops²) travel look-ups.
 */
export function bestInsertion(
  start: RouteStart,
  stops: readonly RouteStop[],
  added: readonly RouteStop[],
  timing: RouteTiming,
): Insertion | null {
  const cost = searchInsertion(scratch, start, stops, added, timing);
  return cost === Infinity ? null : bestFound(scratch, start, timing);
}

/** The route a search found best, built and timed. */
function bestFound(p: Problem, start: RouteStart, timing: RouteTiming): Insertion {
  const order = Array.from(p.bestSeq.subarray(0, p.bestLen));
  const moments: number[] = [];
  const cost = timeSequence(p, order, order.length, start, timing, moments);
  return { stops: order.map((k) => p.stops[k]!), eval: { cost, moments, endsAt: lastEndsAt } };
}

/**
 * The cost of the route after the cheapest insertion of `added`, Infinity when none is
 * feasible: `bestInsertion` without building the route, for ranking many candidates.
 */
export function insertionCost(
  start: RouteStart,
  stops: readonly RouteStop[],
  added: readonly RouteStop[],
  timing: RouteTiming,
): number {
  // An idle courier and one order (most candidates in a busy city): only one order of stops.
  if (
    stops.length === 0 &&
    added.length === 2 &&
    added[0]!.kind === "pickup" &&
    added[1]!.kind === "dropoff"
  ) {
    return pickupThenDropoff(start, added, timing);
  }
  return searchInsertion(scratch, start, stops, added, timing);
}

/**
 * `timeSequence` for the one route [pickup, drop-off] of one order from an empty route, in
 * closed form (the engine's hottest case). Equal to the general rule; tested against it.
 */
function pickupThenDropoff(
  start: RouteStart,
  added: readonly RouteStop[],
  timing: RouteTiming,
): number {
  const pickup = added[0]!;
  const dropoff = added[1]!;
  const halfPickup = timing.pickupServiceMs / 2;
  const halfDropoff = timing.dropoffServiceMs / 2;
  const atStore = Math.max(
    pickup.readyAt,
    start.now + timing.travel(start.position, pickup.at, start.mode) * 1000 + halfPickup,
  );
  if (start.offAt !== null && atStore > start.offAt) return Infinity;
  const atDoor =
    atStore + halfPickup + timing.travel(pickup.at, dropoff.at, start.mode) * 1000 + halfDropoff;
  if (atDoor > (dropoff.safeUntil ?? Infinity)) return Infinity;
  if (start.refrigerated !== true && atDoor - atStore > (dropoff.safeMs ?? Infinity)) {
    return Infinity;
  }
  const late =
    dropoff.promisedBy !== null && atDoor > dropoff.promisedBy ? atDoor - dropoff.promisedBy : 0;
  return (
    (atDoor +
      halfDropoff -
      start.now +
      timing.shopperWeight * (atDoor - start.now) +
      timing.lateWeight * late) /
    MINUTE
  );
}

/**
 * The timing state after some stops: where the courier is (point index), when it leaves, the
 * sums the cost needs, and the last stop (for "same visit"). Mutable, reused: the insertion
 * search extends one state stop by stop instead of re-timing every candidate route from scratch.
 */
class Cursor {
  t = 0;
  at = 0;
  shopper = 0;
  late = 0;
  feasible = true;
  lastMoment = 0;
  previous: RouteStop | null = null;

  begin(now: number): void {
    this.t = now;
    this.at = 0;
    this.shopper = 0;
    this.late = 0;
    this.feasible = true;
    this.lastMoment = now;
    this.previous = null;
  }

  copy(from: Cursor): void {
    this.t = from.t;
    this.at = from.at;
    this.shopper = from.shopper;
    this.late = from.late;
    this.feasible = from.feasible;
    this.lastMoment = from.lastMoment;
    this.previous = from.previous;
  }

  /** Visits stop `s` of the problem: the same rule as `timeSequence`. */
  visit(p: Problem, s: number, start: RouteStart, timing: RouteTiming): void {
    const stop = p.stops[s]!;
    const pickup = stop.kind === "pickup";
    const previous = this.previous;
    let moment: number;
    if (
      previous !== null &&
      previous.kind === stop.kind &&
      previous.at.lat === stop.at.lat &&
      previous.at.lng === stop.at.lng
    ) {
      moment = pickup ? Math.max(stop.readyAt, this.lastMoment) : this.lastMoment;
    } else {
      const arrival = this.t + p.leg(this.at, s + 1, start.mode, timing.travel);
      moment = pickup
        ? Math.max(stop.readyAt, arrival + timing.pickupServiceMs / 2)
        : arrival + timing.dropoffServiceMs / 2;
    }
    this.t = moment + (pickup ? timing.pickupServiceMs : timing.dropoffServiceMs) / 2;
    if (pickup) {
      if (start.offAt !== null && moment > start.offAt) this.feasible = false;
    } else {
      this.shopper += moment - start.now;
      if (stop.promisedBy !== null && moment > stop.promisedBy) {
        this.late += moment - stop.promisedBy;
      }
    }
    if (p.thermal && !p.keepsCold(s, pickup, moment)) this.feasible = false;
    this.lastMoment = moment;
    this.previous = stop;
    this.at = s + 1;
  }

  cost(start: RouteStart, timing: RouteTiming): number {
    return this.feasible
      ? (this.t - start.now + timing.shopperWeight * this.shopper + timing.lateWeight * this.late) /
          MINUTE
      : Infinity;
  }
}

const prefix = new Cursor();
const middle = new Cursor();
const tail = new Cursor();

/**
 * Best insertion of `added` (one stop, or a pickup and its drop-off) into `stops`: the prefix
 * before the pickup's place is timed once per place, and the part between pickup and drop-off
 * grows by one stop per drop-off place, so the search costs O(stops²) stop visits, not O(stops³).
 * Leaves the best order in `p.bestSeq`; returns its cost (Infinity if none is feasible).
 */
function searchInsertion(
  p: Problem,
  start: RouteStart,
  stops: readonly RouteStop[],
  added: readonly RouteStop[],
  timing: RouteTiming,
): number {
  if (added.length === 0 || added.length > 2) {
    throw new RangeError(`an insertion adds one or two stops, not ${added.length}`);
  }
  const n = stops.length;
  p.reset(start, stops, added);
  const first = n;
  const pair = added.length === 2;
  let bestCost = Infinity;
  let bestI = -1;
  let bestJ = -1;
  prefix.begin(start.now);
  for (let i = 0; i <= n; i++) {
    // prefix: stops[0..i) timed.
    middle.copy(prefix);
    middle.visit(p, first, start, timing);
    if (!pair) {
      tail.copy(middle);
      for (let k = i; k < n; k++) tail.visit(p, k, start, timing);
      const cost = tail.cost(start, timing);
      if (cost < bestCost) {
        bestCost = cost;
        bestI = i;
      }
    } else {
      for (let j = i; j <= n; j++) {
        // middle: stops[0..i), first, stops[i..j) timed.
        tail.copy(middle);
        tail.visit(p, n + 1, start, timing);
        for (let k = j; k < n; k++) tail.visit(p, k, start, timing);
        const cost = tail.cost(start, timing);
        if (cost < bestCost) {
          bestCost = cost;
          bestI = i;
          bestJ = j;
        }
        if (j < n) middle.visit(p, j, start, timing);
      }
    }
    if (i < n) prefix.visit(p, i, start, timing);
  }
  if (bestI < 0) return Infinity;
  const best = p.bestSeq;
  let len = 0;
  for (let k = 0; k <= n; k++) {
    if (k === bestI) best[len++] = first;
    if (pair && k === bestJ) best[len++] = n + 1;
    if (k < n) best[len++] = k;
  }
  p.bestLen = len;
  return bestCost;
}

/**
 * Inserts a block of stops (a bundle's trip: its pickups at one store, then its doors, in the
 * order planned for the bundle) whole, before one of the route's stops or at its end, at the
 * cheapest place. O(stops²); a bundle is one trip, so its stops are not interleaved with others.
 */
export function blockInsertion(
  start: RouteStart,
  stops: readonly RouteStop[],
  block: readonly RouteStop[],
  timing: RouteTiming,
): Insertion | null {
  const cost = searchBlock(scratch, start, stops, block, timing);
  return cost === Infinity ? null : bestFound(scratch, start, timing);
}

/** `blockInsertion`'s route cost without building the route. */
export function blockInsertionCost(
  start: RouteStart,
  stops: readonly RouteStop[],
  block: readonly RouteStop[],
  timing: RouteTiming,
): number {
  return searchBlock(scratch, start, stops, block, timing);
}

function searchBlock(
  p: Problem,
  start: RouteStart,
  stops: readonly RouteStop[],
  block: readonly RouteStop[],
  timing: RouteTiming,
): number {
  const n = stops.length;
  const k = block.length;
  p.reset(start, stops, block);
  const seq = p.seq;
  let bestCost = Infinity;
  for (let i = 0; i <= n; i++) {
    let len = 0;
    for (let x = 0; x < i; x++) seq[len++] = x;
    for (let b = 0; b < k; b++) seq[len++] = n + b;
    for (let x = i; x < n; x++) seq[len++] = x;
    const cost = timeSequence(p, seq, len, start, timing, null);
    if (cost < bestCost) {
      bestCost = cost;
      p.bestLen = len;
      for (let q = 0; q < len; q++) p.bestSeq[q] = seq[q]!;
    }
  }
  return bestCost;
}

/**
 * The stops an order adds to a route: its pickup unless picked up, then its drop-off if known,
 * with its thermal limits. Every stop has the same fields (the inner loop reads one shape).
 */
export function stopsOf(order: {
  readonly orderId: string;
  readonly pickup: LatLng | null;
  readonly dropoff: LatLng | null;
  readonly readyAt: number;
  readonly promisedBy: number | null;
  readonly pickedUp?: boolean;
  readonly safeMs?: number;
  readonly safeUntil?: number;
}): RouteStop[] {
  const stops: RouteStop[] = [];
  if (order.pickedUp !== true && order.pickup !== null) {
    stops.push({
      orderId: order.orderId,
      kind: "pickup",
      at: order.pickup,
      readyAt: order.readyAt,
      promisedBy: null,
      safeMs: Infinity,
      safeUntil: Infinity,
    });
  }
  if (order.dropoff !== null) {
    stops.push({
      orderId: order.orderId,
      kind: "dropoff",
      at: order.dropoff,
      readyAt: 0,
      promisedBy: order.promisedBy,
      safeMs: order.safeMs ?? Infinity,
      safeUntil: order.safeUntil ?? Infinity,
    });
  }
  return stops;
}

/** Inserts several orders one after the other, each at its best place. Null if one cannot go. */
export function insertAll(
  start: RouteStart,
  stops: readonly RouteStop[],
  orders: readonly (readonly RouteStop[])[],
  timing: RouteTiming,
): Insertion | null {
  let current: Insertion | null = null;
  for (const added of orders) {
    if (added.length === 0) continue;
    current = bestInsertion(start, current?.stops ?? stops, added, timing);
    if (current === null) return null;
  }
  return current ?? { stops, eval: evaluateRoute(start, stops, timing) };
}
