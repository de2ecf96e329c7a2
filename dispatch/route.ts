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
 * works on stop indices and flat arrays over a travel matrix filled lazily (a straight-line
 * travel computed inline), and allocates only for the winner: no object per candidate, and no
 * fraction returned from a call (each would be a heap number), so results are left in `timed`.
 * Whatever the shortcut, a route costs the same to the last bit as timing it stop by stop.
 */
import { DEFAULT_SPEEDS } from "../geo/index.ts";
import type { LatLng, Mode } from "../geo/index.ts";
import type { RouteStop, TravelSeconds } from "./types.ts";

const MINUTE = 60_000;

const RAD = Math.PI / 180;
/** cos(latitude) per 0.01°: off by < 0.01 % within a step, and a table look-up, not a cosine. */
const COS_LAT = Float64Array.from({ length: 18_001 }, (_, i) => Math.cos((i / 100 - 90) * RAD));
const M_PER_DEG = 111_195; // metres per degree of latitude on geo's sphere

interface StraightLine {
  readonly detourFactor: number;
  readonly speeds: Readonly<Record<Mode, number>>;
}
/** Each straight-line travel function's parameters: insertion searches compute it inline. */
const straightLines = new WeakMap<TravelSeconds, StraightLine>();
let lastTravel: TravelSeconds | null = null;
let lastLine: StraightLine | null = null;
/** A travel function's straight-line parameters, null if it is not one. */
function lineOf(travel: TravelSeconds): StraightLine | null {
  if (travel !== lastTravel) {
    lastTravel = travel;
    lastLine = straightLines.get(travel) ?? null;
  }
  return lastLine;
}

/**
 * Straight-line travel: distance × detour ÷ a speed per mode (m/s). The distance is the
 * equirectangular one: within a city it is the haversine to a fraction of a per mille, at a
 * third of the cost (this runs for every leg of every candidate insertion).
 */
export function straightLineTravel(
  detourFactor = 1.3,
  speeds: Readonly<Record<Mode, number>> = DEFAULT_SPEEDS,
): TravelSeconds {
  const travel: TravelSeconds = (from, to, mode) => {
    const dy = (to.lat - from.lat) * M_PER_DEG;
    const dx =
      (to.lng - from.lng) * M_PER_DEG * COS_LAT[Math.round(((from.lat + to.lat) / 2 + 90) * 100)]!;
    return (Math.sqrt(dx * dx + dy * dy) * detourFactor) / speeds[mode];
  };
  straightLines.set(travel, { detourFactor, speeds });
  return travel;
}

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

/** A timing state (see `Problem.visit`): its slots in `Problem.state`, then in `Problem.place`. */
const T = 0; // when the courier leaves the last stop visited
const SHOPPER = 1; // sum of drop-off moments − now
const LATE = 2; // sum of time past promises (ms)
const FEASIBLE = 3; // 1 or 0
const LAST = 4; // the last stop's moment
const AT = 0; // in `place`: point index of the last stop visited (0: the courier)
const PREVIOUS = 1; // in `place`: the last stop visited, -1 for none
/** The timing states: before the pickup's place, up to the drop-off's place, a whole route. */
const PREFIX = 0;
const MIDDLE = 1;
const TAIL = 2;

/**
 * The stops of one insertion problem (the route's, then the added ones), what timing reads of
 * them in flat arrays, and the travel seconds between them, computed on first use. Point 0 is
 * the courier's position, point s + 1 stop s. One problem is reused from search to search: its
 * arrays only grow (`stops` beyond `count` is stale). The timing states the searches extend
 * stop by stop live in typed arrays too (no object, no boxed number per state).
 */
class Problem {
  origin: LatLng = { lat: 0, lng: 0 };
  stops: RouteStop[] = [];
  /** How many of `stops` belong to this problem. */
  count = 0;
  /** Per point: latitude and longitude (the "same visit" test). */
  lat = new Float64Array(0);
  lng = new Float64Array(0);
  /** Per stop: 1 for a pickup, 0 for a drop-off. */
  pickup = new Uint8Array(0);
  /** Per stop: `readyAt`. */
  ready = new Float64Array(0);
  /** Per stop: `promisedBy`, Infinity for none. */
  promise = new Float64Array(0);
  travelCache = new Float64Array(0);
  /** Which entries of `travelCache` this problem filled: those equal to `generation`. */
  travelStamp = new Int32Array(0);
  generation = 0;
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
  /** Timing states: 5 numbers each (T, SHOPPER, LATE, FEASIBLE, LAST) and 2 indices. */
  readonly state = new Float64Array(3 * 5);
  readonly place = new Int32Array(3 * 2);
  // The problem's start and timing.
  mode: Mode = "ebike";
  travel: TravelSeconds | null = null;
  /** `travel`'s parameters when it is a `straightLineTravel` (computed inline), else null. */
  line: StraightLine | null = null;
  /** With `line`: its detour factor and its speed for `mode`. */
  detour = 0;
  speed = 0;
  now = 0;
  /** No pickup after it; Infinity for none. */
  offAt = Infinity;
  halfPickup = 0;
  halfDropoff = 0;
  shopperWeight = 0;
  lateWeight = 0;

  /** Travel looked up in a shared table instead (see `insertionCostOver`), else null. */
  legs: LegTable | null = null;
  /** With `legs`: each point's index in it. */
  ids: Int32Array | null = null;

  reset(
    start: RouteStart,
    stops: readonly RouteStop[],
    added: readonly RouteStop[],
    timing: RouteTiming,
    legs: LegTable | null = null,
    ids: Int32Array | null = null,
  ): void {
    this.legs = legs;
    this.ids = ids;
    const bagBound = start.refrigerated !== true;
    const n = stops.length + added.length;
    const m = n + 1;
    if (this.lat.length < m) this.grow(m * 2);
    this.origin = start.position;
    this.lat[0] = start.position.lat;
    this.lng[0] = start.position.lng;
    let thermal = false;
    const ns = stops.length;
    const all = this.stops;
    const kind = this.pickup;
    const lat = this.lat;
    const lng = this.lng;
    const ready = this.ready;
    const promise = this.promise;
    for (let k = 0; k < n; k++) {
      const s = k < ns ? stops[k]! : added[k - ns]!;
      all[k] = s;
      const at = s.at;
      lat[k + 1] = at.lat;
      lng[k + 1] = at.lng;
      ready[k] = s.readyAt;
      promise[k] = s.promisedBy ?? Infinity;
      if (s.kind === "pickup") kind[k] = 1;
      else {
        kind[k] = 0;
        // A drop-off's thermal limit that binds this courier (`undefined < Infinity` is false:
        // an absent limit is none).
        if (
          s.kind === "dropoff" &&
          (s.safeUntil! < Infinity || (bagBound && s.safeMs! < Infinity))
        ) {
          thermal = true;
        }
      }
    }
    this.count = n;
    this.size = m;
    if (this.travelCache.length < m * m) {
      this.travelCache = new Float64Array(m * m * 2);
      this.travelStamp = new Int32Array(m * m * 2);
    }
    // A new generation empties the travel cache (without writing it).
    if (++this.generation === 0x40000000) {
      this.travelStamp.fill(0);
      this.generation = 1;
    }
    this.mode = start.mode;
    if (timing.travel !== this.travel) {
      this.travel = timing.travel;
      this.line = straightLines.get(timing.travel) ?? null;
    }
    if (this.line !== null) {
      this.detour = this.line.detourFactor;
      this.speed = this.line.speeds[start.mode];
    }
    this.now = start.now;
    this.offAt = start.offAt ?? Infinity;
    this.halfPickup = timing.pickupServiceMs / 2;
    this.halfDropoff = timing.dropoffServiceMs / 2;
    this.shopperWeight = timing.shopperWeight;
    this.lateWeight = timing.lateWeight;
    this.thermal = thermal;
    if (thermal) this.limits(bagBound);
  }

  private grow(points: number): void {
    this.lat = new Float64Array(points);
    this.lng = new Float64Array(points);
    this.pickup = new Uint8Array(points);
    this.ready = new Float64Array(points);
    this.promise = new Float64Array(points);
    this.seq = new Int32Array(points);
    this.bestSeq = new Int32Array(points);
  }

  /** Fills the thermal limits of `stops` (only for a route that has some). */
  private limits(bagBound: boolean): void {
    const all = this.stops;
    const n = this.count;
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

  /**
   * Fills `travelCache` with the travel ms from point a to point b (0 = courier, i + 1 = stop i).
   * The timing loops read the cache and call this on a miss (a stamp not of this generation),
   * so that no number is returned (a returned fraction is a heap allocation when the call is not
   * inlined).
   */
  measure(a: number, b: number): void {
    const cache = this.travelCache;
    const stamp = this.travelStamp;
    const size = this.size;
    let v: number;
    if (this.legs !== null) {
      v = this.legs.table[this.legs.entry(this.ids![a]!, this.ids![b]!)]! * 1000;
    } else if (this.line !== null) {
      // straightLineTravel, the same arithmetic on the same numbers.
      const fromLat = this.lat[a]!;
      const toLat = this.lat[b]!;
      const dy = (toLat - fromLat) * M_PER_DEG;
      const cos = COS_LAT[Math.round(((fromLat + toLat) / 2 + 90) * 100)]!;
      const dx = (this.lng[b]! - this.lng[a]!) * M_PER_DEG * cos;
      v = ((Math.sqrt(dx * dx + dy * dy) * this.detour) / this.speed) * 1000;
      // The same both ways: each difference only changes sign, and the sum of the latitudes
      // does not depend on their order.
      cache[b * size + a] = v;
      stamp[b * size + a] = this.generation;
    } else {
      const from = a === 0 ? this.origin : this.stops[a - 1]!.at;
      const to = b === 0 ? this.origin : this.stops[b - 1]!.at;
      v = this.travel!(from, to, this.mode) * 1000;
    }
    cache[a * size + b] = v;
    stamp[a * size + b] = this.generation;
  }

  /** Timing state `c` at the courier, now, nothing visited. */
  begin(c: number): void {
    const st = this.state;
    const o = c * 5;
    st[o + T] = this.now;
    st[o + SHOPPER] = 0;
    st[o + LATE] = 0;
    st[o + FEASIBLE] = 1;
    st[o + LAST] = this.now;
    this.place[c * 2 + AT] = 0;
    this.place[c * 2 + PREVIOUS] = -1;
  }

  /** Timing state `to` := timing state `from`. */
  copy(to: number, from: number): void {
    const st = this.state;
    const a = to * 5;
    const b = from * 5;
    st[a] = st[b]!;
    st[a + 1] = st[b + 1]!;
    st[a + 2] = st[b + 2]!;
    st[a + 3] = st[b + 3]!;
    st[a + 4] = st[b + 4]!;
    this.place[to * 2] = this.place[from * 2]!;
    this.place[to * 2 + 1] = this.place[from * 2 + 1]!;
  }

  /**
   * Timing state `c` goes on to stop `s`: the one timing rule of this module. A pickup happens
   * at max(ready, arrival + half a service), a drop-off half a service after arrival, and the
   * courier leaves half a service later; the next stop of the same kind at the same place is the
   * same visit.
   */
  visit(c: number, s: number): void {
    const st = this.state;
    const o = c * 5;
    const previous = this.place[c * 2 + PREVIOUS]!;
    const pickup = this.pickup[s] === 1;
    let moment: number;
    if (
      previous >= 0 &&
      this.pickup[previous] === this.pickup[s] &&
      this.lat[previous + 1] === this.lat[s + 1] &&
      this.lng[previous + 1] === this.lng[s + 1]
    ) {
      // Same visit: the courier is still there.
      moment = pickup ? Math.max(this.ready[s]!, st[o + LAST]!) : st[o + LAST]!;
    } else {
      const k = this.place[c * 2 + AT]! * this.size + s + 1;
      if (this.travelStamp[k] !== this.generation) this.measure(this.place[c * 2 + AT]!, s + 1);
      const arrival = st[o + T]! + this.travelCache[k]!;
      moment = pickup
        ? Math.max(this.ready[s]!, arrival + this.halfPickup)
        : arrival + this.halfDropoff;
    }
    st[o + T] = moment + (pickup ? this.halfPickup : this.halfDropoff);
    if (pickup) {
      if (moment > this.offAt) st[o + FEASIBLE] = 0;
    } else {
      st[o + SHOPPER] = st[o + SHOPPER]! + (moment - this.now);
      const promise = this.promise[s]!;
      if (moment > promise) st[o + LATE] = st[o + LATE]! + (moment - promise);
    }
    if (this.thermal && !this.keepsCold(s, pickup, moment)) st[o + FEASIBLE] = 0;
    st[o + LAST] = moment;
    this.place[c * 2 + PREVIOUS] = s;
    this.place[c * 2 + AT] = s + 1;
  }

  /** The cost of timing state `c` (minutes), Infinity when it broke a hard rule. */
  cost(c: number): number {
    const st = this.state;
    const o = c * 5;
    return st[o + FEASIBLE] === 1
      ? (st[o + T]! -
          this.now +
          this.shopperWeight * st[o + SHOPPER]! +
          this.lateWeight * st[o + LATE]!) /
          MINUTE
      : Infinity;
  }
}

const scratch = new Problem();
/**
 * What the last `timeSequence` found: its cost, and when its courier leaves its last stop (kept
 * here rather than returned: a fraction returned from a call is a heap number).
 */
const timed = new Float64Array(3);
const COST = 0;
const ENDS_AT = 1;
/** What the last search found: the cost of its best route, Infinity for none. */
const BEST = 2;
/** Where the last search put the added stops: see `lastPlacement`. */
let lastPlace = 0;
const PLACE = 0x10000;

/**
 * Where the last `insertionCost` (a finite one) put the added stops, i · 65536 + j (before the
 * route's stop i, and the drop-off before its stop j), or the last `blockInsertionCost` its
 * block (before stop i): `insertAt` and `blockAt` build that route without searching again.
 */
export function lastPlacement(): number {
  return lastPlace;
}

/** `bestInsertion` when the search's answer is known (`lastPlacement` of the same insertion). */
export function insertAt(
  start: RouteStart,
  stops: readonly RouteStop[],
  added: readonly RouteStop[],
  placement: number,
  timing: RouteTiming,
): Insertion {
  scratch.reset(start, stops, added, timing);
  const i = Math.floor(placement / PLACE);
  bestOrder(scratch, stops.length, added.length === 2, i, placement - i * PLACE, 0);
  return bestFound(scratch);
}

/** `blockInsertion` when the search's answer is known (`lastPlacement` of the same one). */
export function blockAt(
  start: RouteStart,
  stops: readonly RouteStop[],
  block: readonly RouteStop[],
  placement: number,
  timing: RouteTiming,
): Insertion {
  scratch.reset(start, stops, block, timing);
  blockOrder(scratch, stops.length, block.length, placement);
  return bestFound(scratch);
}

/**
 * Cost of visiting the stops of the problem last reset in the order `seq[0..len)` (stop
 * indices), optionally writing each stop's moment.
 */
function timeSequence(p: Problem, seq: Int32Array, len: number, moments: number[] | null): void {
  // `Problem.visit` over local variables: the same rule, the same arithmetic in the same order.
  const now = p.now;
  const offAt = p.offAt;
  const halfPickup = p.halfPickup;
  const halfDropoff = p.halfDropoff;
  const kind = p.pickup;
  const lat = p.lat;
  const lng = p.lng;
  const thermal = p.thermal;
  const cache = p.travelCache;
  const stamp = p.travelStamp;
  const generation = p.generation;
  const size = p.size;
  let t = now;
  let at = 0;
  let shopper = 0;
  let late = 0;
  let feasible = true;
  let last = now;
  let previous = -1;
  for (let i = 0; i < len; i++) {
    const s = seq[i]!;
    const pickup = kind[s] === 1;
    let moment: number;
    if (
      previous >= 0 &&
      kind[previous] === kind[s] &&
      lat[previous + 1] === lat[s + 1] &&
      lng[previous + 1] === lng[s + 1]
    ) {
      // Same visit: the courier is still there.
      moment = pickup ? Math.max(p.ready[s]!, last) : last;
    } else {
      const k = at * size + s + 1;
      if (stamp[k] !== generation) p.measure(at, s + 1);
      const arrival = t + cache[k]!;
      moment = pickup ? Math.max(p.ready[s]!, arrival + halfPickup) : arrival + halfDropoff;
    }
    t = moment + (pickup ? halfPickup : halfDropoff);
    if (pickup) {
      if (moment > offAt) feasible = false;
    } else {
      shopper = shopper + (moment - now);
      const promise = p.promise[s]!;
      if (moment > promise) late = late + (moment - promise);
    }
    if (thermal && !p.keepsCold(s, pickup, moment)) feasible = false;
    if (moments !== null) moments.push(moment);
    last = moment;
    previous = s;
    at = s + 1;
  }
  timed[ENDS_AT] = t;
  // Stored in each branch: a choice between a fraction and Infinity would be a heap number.
  if (feasible) timed[COST] = (t - now + p.shopperWeight * shopper + p.lateWeight * late) / MINUTE;
  else timed[COST] = Infinity;
}

/** Times a route from its start. Pure; O(stops). */
export function evaluateRoute(
  start: RouteStart,
  stops: readonly RouteStop[],
  timing: RouteTiming,
): RouteEval {
  scratch.reset(start, stops, [], timing);
  const seq = scratch.seq;
  for (let i = 0; i < stops.length; i++) seq[i] = i;
  const moments: number[] = [];
  timeSequence(scratch, seq, stops.length, moments);
  const cost = timed[COST]!;
  return { cost, moments, endsAt: timed[ENDS_AT]! };
}

/** `evaluateRoute(...).cost` without the moments (no allocation). */
export function routeCost(
  start: RouteStart,
  stops: readonly RouteStop[],
  timing: RouteTiming,
): number {
  scratch.reset(start, stops, [], timing);
  const seq = scratch.seq;
  for (let i = 0; i < stops.length; i++) seq[i] = i;
  timeSequence(scratch, seq, stops.length, null);
  return timed[COST]!;
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
  searchInsertion(scratch, start, stops, added, timing);
  const cost = timed[BEST]!;
  return cost === Infinity ? null : bestFound(scratch);
}

/** The route a search found best, built and timed. */
function bestFound(p: Problem): Insertion {
  const len = p.bestLen;
  const moments: number[] = [];
  timeSequence(p, p.bestSeq, len, moments);
  const cost = timed[COST]!;
  const stops: RouteStop[] = [];
  for (let q = 0; q < len; q++) stops.push(p.stops[p.bestSeq[q]!]!);
  return { stops, eval: { cost, moments, endsAt: timed[ENDS_AT]! } };
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
    lastPlace = 0;
    return pickupThenDropoff(start, added, timing);
  }
  searchInsertion(scratch, start, stops, added, timing);
  return timed[BEST]!;
}

/**
 * The travel between a fixed list of points for one mode, computed on first use: many searches
 * over the same points (the pairs of one store's orders) share it. Reused list after list.
 */
export class LegTable {
  points: readonly LatLng[] = [];
  size = 0;
  table = new Float64Array(0);
  mode: Mode = "ebike";
  travel: TravelSeconds | null = null;
  line: StraightLine | null = null;
  speed = 0;

  reset(points: readonly LatLng[], mode: Mode, travel: TravelSeconds): void {
    const m = points.length;
    this.points = points;
    this.size = m;
    if (this.table.length < m * m) this.table = new Float64Array(m * m * 2);
    const table = this.table;
    for (let i = 0; i < m * m; i++) table[i] = -1;
    this.mode = mode;
    if (travel !== this.travel) {
      this.travel = travel;
      this.line = straightLines.get(travel) ?? null;
    }
    if (this.line !== null) this.speed = this.line.speeds[mode];
  }

  /**
   * Where `table` holds the travel seconds from point a to point b (`travel(points[a],
   * points[b], mode)`), computed first if need be. (An index, not the number: a fraction
   * returned from a call is a heap number.)
   */
  entry(a: number, b: number): number {
    const k = a * this.size + b;
    if (this.table[k]! < 0) {
      let v: number;
      const from = this.points[a]!;
      const to = this.points[b]!;
      if (this.line !== null) {
        // straightLineTravel, the same arithmetic on the same numbers (the same both ways).
        const dy = (to.lat - from.lat) * M_PER_DEG;
        const cos = COS_LAT[Math.round(((from.lat + to.lat) / 2 + 90) * 100)]!;
        const dx = (to.lng - from.lng) * M_PER_DEG * cos;
        v = (Math.sqrt(dx * dx + dy * dy) * this.line.detourFactor) / this.speed;
        this.table[b * this.size + a] = v;
      } else {
        v = this.travel!(from, to, this.mode);
      }
      this.table[k] = v;
    }
    return k;
  }
}

/**
 * `insertionCost` of a non-empty route, its travel looked up in `legs`: `ids[0]` is the
 * courier's point there, `ids[1 + s]` stop s's (the route's, then the added ones).
 */
export function insertionCostOver(
  legs: LegTable,
  ids: Int32Array,
  start: RouteStart,
  stops: readonly RouteStop[],
  added: readonly RouteStop[],
  timing: RouteTiming,
): number {
  if (start.mode !== legs.mode || timing.travel !== legs.travel) {
    throw new RangeError("the travel table is for another mode or travel function");
  }
  searchInsertion(scratch, start, stops, added, timing, legs, ids);
  return timed[BEST]!;
}

/** Where each order's stops begin in the problem `pairing` set up, and how many there are. */
let pairStart = new Int32Array(16);
let pairCount = new Int32Array(16);
let pairIds = new Int32Array(32);

/**
 * Sets up the orders of one store (each one's stops, pickup first) on a courier at `start` with
 * no route, for `pairingCost` to price pairs of them: the stops stay in place and share one
 * travel cache instead of being set up again for each pair. Their travel is looked up in `legs`,
 * whose point 0 is the start and points 1 + 2i and 2 + 2i order i's pickup and door. False (and
 * nothing set up) when a stop has a thermal limit: then price pairs with `insertionCostOver`.
 * Any other route function in between undoes the set-up.
 */
export function pairing(
  legs: LegTable,
  start: RouteStart,
  orders: readonly (readonly RouteStop[])[],
  timing: RouteTiming,
): boolean {
  if (start.mode !== legs.mode || timing.travel !== legs.travel) {
    throw new RangeError("the travel table is for another mode or travel function");
  }
  const all: RouteStop[] = [];
  if (pairStart.length < orders.length) {
    pairStart = new Int32Array(orders.length * 2);
    pairCount = new Int32Array(orders.length * 2);
  }
  if (pairIds.length < 2 * orders.length + 1) pairIds = new Int32Array(4 * orders.length + 2);
  pairIds[0] = 0;
  for (let i = 0; i < orders.length; i++) {
    const stops = orders[i]!;
    pairStart[i] = all.length;
    pairCount[i] = stops.length;
    for (let k = 0; k < stops.length; k++) {
      pairIds[1 + all.length] = 1 + 2 * i + k;
      all.push(stops[k]!);
    }
  }
  scratch.reset(start, [], all, timing, legs, pairIds);
  return !scratch.thermal;
}

/**
 * `insertionCostOver(legs, ids, start, orders[a], orders[b], timing)` (order a alone on the
 * route, order b inserted at its best) for the orders `pairing` set up: the same candidates in
 * the same order, each timed whole, so the same cost to the last bit.
 */
export function pairingCost(a: number, b: number): number {
  const p = scratch;
  const route = pairStart[a]!;
  const n = pairCount[a]!;
  const first = pairStart[b]!;
  const pair = pairCount[b] === 2;
  if (n === 0 || n > 2 || pairCount[b] === 0) {
    throw new RangeError("pairingCost prices two orders of one or two stops each");
  }
  const seq = p.seq;
  let bestCost = Infinity;
  for (let i = 0; i <= n; i++) {
    for (let j = i; j <= (pair ? n : i); j++) {
      let len = 0;
      for (let k = 0; k <= n; k++) {
        if (k === i) seq[len++] = first;
        if (pair && k === j) seq[len++] = first + 1;
        if (k < n) seq[len++] = route + k;
      }
      timeSequence(p, seq, len, null);
      const cost = timed[COST]!;
      if (cost < bestCost) bestCost = cost;
    }
  }
  timed[BEST] = bestCost;
  return timed[BEST]!;
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
  let toStore: number;
  let toDoor: number;
  const line = lineOf(timing.travel);
  if (line !== null) {
    // straightLineTravel, the same arithmetic on the same numbers.
    const speed = line.speeds[start.mode];
    const from = start.position;
    const store = pickup.at;
    const door = dropoff.at;
    let dy = (store.lat - from.lat) * M_PER_DEG;
    let cos = COS_LAT[Math.round(((from.lat + store.lat) / 2 + 90) * 100)]!;
    let dx = (store.lng - from.lng) * M_PER_DEG * cos;
    toStore = (Math.sqrt(dx * dx + dy * dy) * line.detourFactor) / speed;
    dy = (door.lat - store.lat) * M_PER_DEG;
    cos = COS_LAT[Math.round(((store.lat + door.lat) / 2 + 90) * 100)]!;
    dx = (door.lng - store.lng) * M_PER_DEG * cos;
    toDoor = (Math.sqrt(dx * dx + dy * dy) * line.detourFactor) / speed;
  } else {
    toStore = timing.travel(start.position, pickup.at, start.mode);
    toDoor = timing.travel(pickup.at, dropoff.at, start.mode);
  }
  const atStore = Math.max(pickup.readyAt, start.now + toStore * 1000 + halfPickup);
  if (start.offAt !== null && atStore > start.offAt) return Infinity;
  const atDoor = atStore + halfPickup + toDoor * 1000 + halfDropoff;
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
 * Best insertion of `added` (one stop, or a pickup and its drop-off) into `stops`: the prefix
 * before the pickup's place is timed once per place, and the part between pickup and drop-off
 * grows by one stop per drop-off place, so the search costs O(stops²) stop visits, not O(stops³).
 * Leaves the best order in `p.bestSeq` and its cost in `timed[BEST]` (Infinity if none is feasible).
 */
function searchInsertion(
  p: Problem,
  start: RouteStart,
  stops: readonly RouteStop[],
  added: readonly RouteStop[],
  timing: RouteTiming,
  legs: LegTable | null = null,
  ids: Int32Array | null = null,
): void {
  if (added.length === 0 || added.length > 2) {
    throw new RangeError(`an insertion adds one or two stops, not ${added.length}`);
  }
  const n = stops.length;
  p.reset(start, stops, added, timing, legs, ids);
  const first = n;
  const pair = added.length === 2;
  let bestCost = Infinity;
  let bestI = -1;
  let bestJ = -1;
  if (n <= 2) {
    // A short route: each candidate timed whole, in the same order as below (so the same
    // winner), fewer calls than extending timing states for so few stops.
    const seq = p.seq;
    for (let i = 0; i <= n; i++) {
      for (let j = i; j <= (pair ? n : i); j++) {
        let len = 0;
        for (let k = 0; k <= n; k++) {
          if (k === i) seq[len++] = first;
          if (pair && k === j) seq[len++] = n + 1;
          if (k < n) seq[len++] = k;
        }
        timeSequence(p, seq, len, null);
        const cost = timed[COST]!;
        if (cost < bestCost) {
          bestCost = cost;
          bestI = i;
          bestJ = j;
        }
      }
    }
    bestOrder(p, n, pair, bestI, bestJ, bestCost);
    return;
  }
  p.begin(PREFIX);
  for (let i = 0; i <= n; i++) {
    // PREFIX: stops[0..i) timed.
    p.copy(MIDDLE, PREFIX);
    p.visit(MIDDLE, first);
    if (!pair) {
      p.copy(TAIL, MIDDLE);
      for (let k = i; k < n; k++) p.visit(TAIL, k);
      const cost = p.cost(TAIL);
      if (cost < bestCost) {
        bestCost = cost;
        bestI = i;
      }
    } else {
      for (let j = i; j <= n; j++) {
        // MIDDLE: stops[0..i), first, stops[i..j) timed.
        p.copy(TAIL, MIDDLE);
        p.visit(TAIL, n + 1);
        for (let k = j; k < n; k++) p.visit(TAIL, k);
        const cost = p.cost(TAIL);
        if (cost < bestCost) {
          bestCost = cost;
          bestI = i;
          bestJ = j;
        }
        if (j < n) p.visit(MIDDLE, j);
      }
    }
    if (i < n) p.visit(PREFIX, i);
  }
  bestOrder(p, n, pair, bestI, bestJ, bestCost);
}

/**
 * The search's answer: `cost` into `timed[BEST]` and, when there is a best insertion (at
 * (i, j)), its order in `p.bestSeq`. (Not returned: a fraction returned from a call is a heap
 * number.)
 */
function bestOrder(
  p: Problem,
  n: number,
  pair: boolean,
  bestI: number,
  bestJ: number,
  cost: number,
): void {
  if (bestI < 0) {
    timed[BEST] = Infinity;
    return;
  }
  timed[BEST] = cost;
  lastPlace = bestI * PLACE + (pair ? bestJ : 0);
  const best = p.bestSeq;
  let len = 0;
  for (let k = 0; k <= n; k++) {
    if (k === bestI) best[len++] = n;
    if (pair && k === bestJ) best[len++] = n + 1;
    if (k < n) best[len++] = k;
  }
  p.bestLen = len;
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
  searchBlock(scratch, start, stops, block, timing);
  const cost = timed[BEST]!;
  return cost === Infinity ? null : bestFound(scratch);
}

/** `blockInsertion`'s route cost without building the route. */
export function blockInsertionCost(
  start: RouteStart,
  stops: readonly RouteStop[],
  block: readonly RouteStop[],
  timing: RouteTiming,
): number {
  searchBlock(scratch, start, stops, block, timing);
  return timed[BEST]!;
}

function searchBlock(
  p: Problem,
  start: RouteStart,
  stops: readonly RouteStop[],
  block: readonly RouteStop[],
  timing: RouteTiming,
): void {
  const n = stops.length;
  const k = block.length;
  p.reset(start, stops, block, timing);
  let bestCost = Infinity;
  let bestI = -1;
  if (n <= 2) {
    const seq = p.seq;
    for (let i = 0; i <= n; i++) {
      let len = 0;
      for (let x = 0; x < i; x++) seq[len++] = x;
      for (let b = 0; b < k; b++) seq[len++] = n + b;
      for (let x = i; x < n; x++) seq[len++] = x;
      timeSequence(p, seq, len, null);
      const cost = timed[COST]!;
      if (cost < bestCost) {
        bestCost = cost;
        bestI = i;
      }
    }
  } else {
    p.begin(PREFIX);
    for (let i = 0; i <= n; i++) {
      // PREFIX: stops[0..i) timed; then the block, then the rest of the route.
      p.copy(TAIL, PREFIX);
      for (let b = 0; b < k; b++) p.visit(TAIL, n + b);
      for (let x = i; x < n; x++) p.visit(TAIL, x);
      const cost = p.cost(TAIL);
      if (cost < bestCost) {
        bestCost = cost;
        bestI = i;
      }
      if (i < n) p.visit(PREFIX, i);
    }
  }
  if (bestI >= 0) {
    blockOrder(p, n, k, bestI);
    lastPlace = bestI;
    timed[BEST] = bestCost;
  } else {
    timed[BEST] = Infinity;
  }
}

/** The order of a block of k stops inserted before stop i of n into `p.bestSeq`. */
function blockOrder(p: Problem, n: number, k: number, i: number): void {
  const best = p.bestSeq;
  let len = 0;
  for (let x = 0; x < i; x++) best[len++] = x;
  for (let b = 0; b < k; b++) best[len++] = n + b;
  for (let x = i; x < n; x++) best[len++] = x;
  p.bestLen = len;
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
