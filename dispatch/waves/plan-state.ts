/**
 * The search's mutable plan: routes as node lists with the depot at both ends, each with its
 * schedule (earliest service start), the latest start that keeps the rest of the route on time,
 * and the load after each stop. These arrays make an insertion's feasibility O(1) per position
 * (see `bestInsertion`), and they are rebuilt in O(route length) after each change.
 */
import type { PdptwInstance } from "./types.ts";

/** Slack for float round-off when comparing times and loads. */
export const EPS = 1e-9;

/** The instance's arrays as fields of one class, so the hot loops see one object shape. */
export class SearchContext {
  readonly size: number;
  readonly dims: number;
  readonly time: Float64Array;
  readonly cost: Float64Array;
  readonly ready: Float64Array;
  readonly due: Float64Array;
  readonly service: Float64Array;
  readonly demand: Float64Array;
  readonly capacity: Float64Array;
  readonly partner: Int32Array;
  readonly isPickup: Uint8Array;
  readonly fleet: number;
  readonly pickups: Int32Array;
  /** Cost of one more vehicle: more than any plan's whole travel cost. */
  readonly vehicleCost: number;
  /** Largest arc cost, to scale noise and relatedness. */
  readonly maxArc: number;

  constructor(readonly instance: PdptwInstance) {
    this.size = instance.size;
    this.dims = instance.capacity.length;
    this.time = instance.time;
    this.cost = instance.cost;
    this.ready = instance.ready;
    this.due = instance.due;
    this.service = instance.service;
    this.demand = instance.demand;
    this.capacity = instance.capacity;
    this.partner = instance.partner;
    this.isPickup = instance.isPickup;
    this.fleet = instance.vehicles;
    const pickups: number[] = [];
    for (let i = 1; i < this.size; i++) if (instance.isPickup[i] === 1) pickups.push(i);
    this.pickups = Int32Array.from(pickups);
    let sumMax = 0;
    let maxArc = 0;
    for (let i = 0; i < this.size; i++) {
      let rowMax = 0;
      for (let j = 0; j < this.size; j++) rowMax = Math.max(rowMax, this.cost[i * this.size + j]!);
      sumMax += rowMax;
      maxArc = Math.max(maxArc, rowMax);
    }
    this.vehicleCost = 2 * sumMax + 1;
    this.maxArc = maxArc;
  }
}

export class Route {
  nodes: number[] = [0, 0];
  start: number[] = [];
  latest: number[] = [];
  /** Load on the arc leaving each position, `position × dims`. */
  load: number[] = [];
  cost = 0;

  copy(): Route {
    const r = new Route();
    r.nodes = this.nodes.slice();
    r.start = this.start.slice();
    r.latest = this.latest.slice();
    r.load = this.load.slice();
    r.cost = this.cost;
    return r;
  }

  get empty(): boolean {
    return this.nodes.length === 2;
  }
}

/** Recomputes a route's schedule, latest starts, loads and cost; false if it is infeasible. */
export function refreshRoute(ctx: SearchContext, route: Route): boolean {
  const { size: S, time: T, cost: C, ready, due, service, demand, dims: D, capacity } = ctx;
  const nodes = route.nodes;
  const n = nodes.length;
  const start = route.start;
  const latest = route.latest;
  const load = route.load;
  start.length = n;
  latest.length = n;
  load.length = n * D;
  let feasible = true;
  start[0] = ready[0]!;
  for (let d = 0; d < D; d++) load[d] = 0;
  let cost = 0;
  for (let k = 1; k < n; k++) {
    const prev = nodes[k - 1]!;
    const cur = nodes[k]!;
    let s = start[k - 1]! + service[prev]! + T[prev * S + cur]!;
    if (s < ready[cur]!) s = ready[cur]!;
    if (s > due[cur]! + EPS) feasible = false;
    start[k] = s;
    cost += C[prev * S + cur]!;
    for (let d = 0; d < D; d++) {
      const l = load[(k - 1) * D + d]! + demand[cur * D + d]!;
      load[k * D + d] = l;
      if (l > capacity[d]! + EPS) feasible = false;
    }
  }
  latest[n - 1] = due[0]!;
  for (let k = n - 2; k >= 0; k--) {
    const cur = nodes[k]!;
    const next = nodes[k + 1]!;
    const l = latest[k + 1]! - service[cur]! - T[cur * S + next]!;
    latest[k] = l < due[cur]! ? l : due[cur]!;
  }
  route.cost = cost;
  return feasible;
}

/** Best insertion found by `bestInsertion`: pickup after position `i`, delivery after `j ≥ i`. */
export interface InsertionPosition {
  delta: number;
  i: number;
  j: number;
}

/**
 * Cheapest feasible insertion of request `p` (its pickup) into `route`, or `Infinity`. Each
 * position is checked in O(1): the pickup against the load and schedule at `i`, the nodes between
 * pickup and delivery by pushing their start times forward one by one, and the rest of the route
 * against `latest`. The scan over `j` stops as soon as a pushed start passes its latest start (the
 * time matrix is metric, so a later delivery cannot help) or the load would overflow. With
 * `collect`, every feasible position is also appended to it as (i, j) pairs.
 */
export function bestInsertion(
  ctx: SearchContext,
  route: Route,
  p: number,
  out: InsertionPosition,
  collect?: number[],
): number {
  const { size: S, time: T, cost: C, ready, due, service, demand, dims: D, capacity } = ctx;
  const d = ctx.partner[p]!;
  const nodes = route.nodes;
  const start = route.start;
  const latest = route.latest;
  const load = route.load;
  const n = nodes.length;
  const rp = ready[p]!;
  const dp = due[p]! + EPS;
  const sp = service[p]!;
  const rd = ready[d]!;
  const dd = due[d]! + EPS;
  const sd = service[d]!;
  const tpd = T[p * S + d]!;
  const cpd = C[p * S + d]!;
  let best = Infinity;
  let bi = -1;
  let bj = -1;
  for (let i = 0; i < n - 1; i++) {
    const sa = start[i]!;
    if (sa > dp) break;
    let fits = true;
    for (let k = 0; k < D; k++) {
      if (load[i * D + k]! + demand[p * D + k]! > capacity[k]! + EPS) {
        fits = false;
        break;
      }
    }
    if (!fits) continue;
    const a = nodes[i]!;
    let sP = sa + service[a]! + T[a * S + p]!;
    if (sP < rp) sP = rp;
    if (sP > dp) continue;
    const b = nodes[i + 1]!;
    const cap = C[a * S + p]!;
    const cab = C[a * S + b]!;
    let sD = sP + sp + tpd;
    if (sD < rd) sD = rd;
    if (sD <= dd) {
      let sB = sD + sd + T[d * S + b]!;
      if (sB < ready[b]!) sB = ready[b]!;
      if (sB <= latest[i + 1]! + EPS) {
        const delta = cap + cpd + C[d * S + b]! - cab;
        if (collect) collect.push(i, i);
        if (delta < best) {
          best = delta;
          bi = i;
          bj = i;
        }
      }
    }
    let t = sP + sp + T[p * S + b]!;
    if (t < ready[b]!) t = ready[b]!;
    if (t > latest[i + 1]! + EPS) continue;
    const costP = cap + C[p * S + b]! - cab;
    for (let j = i + 1; j < n - 1; j++) {
      // t is the start at position j with the pickup inserted.
      if (t > dd) break;
      let room = true;
      for (let k = 0; k < D; k++) {
        if (load[j * D + k]! + demand[p * D + k]! > capacity[k]! + EPS) {
          room = false;
          break;
        }
      }
      if (!room) break;
      const c = nodes[j]!;
      const e = nodes[j + 1]!;
      const tc = t + service[c]!;
      let sD2 = tc + T[c * S + d]!;
      if (sD2 < rd) sD2 = rd;
      if (sD2 <= dd) {
        let sE = sD2 + sd + T[d * S + e]!;
        if (sE < ready[e]!) sE = ready[e]!;
        if (sE <= latest[j + 1]! + EPS) {
          const delta = costP + C[c * S + d]! + C[d * S + e]! - C[c * S + e]!;
          if (collect) collect.push(i, j);
          if (delta < best) {
            best = delta;
            bi = i;
            bj = j;
          }
        }
      }
      let tn = tc + T[c * S + e]!;
      if (tn < ready[e]!) tn = ready[e]!;
      if (tn > latest[j + 1]! + EPS) break;
      t = tn;
    }
  }
  out.delta = best;
  out.i = bi;
  out.j = bj;
  return best;
}

/** The search's plan: route slots (some may be empty), where each node is, and unplaced requests. */
export class Plan {
  routes: Route[];
  routeOf: Int32Array;
  positionOf: Int32Array;
  /** Pickups of unplaced requests. */
  bank: number[];

  constructor(
    readonly ctx: SearchContext,
    slots = 0,
  ) {
    this.routes = [];
    for (let r = 0; r < slots; r++) this.routes.push(newRoute(ctx));
    this.routeOf = new Int32Array(ctx.size).fill(-1);
    this.positionOf = new Int32Array(ctx.size).fill(-1);
    this.bank = [];
  }

  clone(): Plan {
    const p = new Plan(this.ctx);
    p.routes = this.routes.map((r) => r.copy());
    p.routeOf = this.routeOf.slice();
    p.positionOf = this.positionOf.slice();
    p.bank = this.bank.slice();
    return p;
  }

  cost(): number {
    let c = 0;
    for (const r of this.routes) c += r.cost;
    return c;
  }

  vehicles(): number {
    let v = 0;
    for (const r of this.routes) if (!r.empty) v++;
    return v;
  }

  /** Hierarchical objective as one number: unplaced requests, then vehicles, then cost. */
  objective(): number {
    return this.cost() + this.ctx.vehicleCost * (this.vehicles() + 2 * this.bank.length);
  }

  /** Rebuilds route `r`'s arrays and the positions of its nodes. */
  refresh(r: number): boolean {
    const route = this.routes[r]!;
    const ok = refreshRoute(this.ctx, route);
    const nodes = route.nodes;
    for (let k = 1; k < nodes.length - 1; k++) {
      this.routeOf[nodes[k]!] = r;
      this.positionOf[nodes[k]!] = k;
    }
    return ok;
  }

  /** Inserts request `p` into route `r` with the pickup after position `i`, delivery after `j`. */
  insert(p: number, r: number, i: number, j: number): void {
    const nodes = this.routes[r]!.nodes;
    nodes.splice(j + 1, 0, this.ctx.partner[p]!);
    nodes.splice(i + 1, 0, p);
    this.refresh(r);
  }

  /** Takes request `p` out of its route (not into the bank). Returns the route it was in. */
  remove(p: number): number {
    const r = this.routeOf[p]!;
    const d = this.ctx.partner[p]!;
    const nodes = this.routes[r]!.nodes;
    const ip = this.positionOf[p]!;
    const id = this.positionOf[d]!;
    nodes.splice(id, 1);
    nodes.splice(ip, 1);
    this.routeOf[p] = -1;
    this.routeOf[d] = -1;
    this.positionOf[p] = -1;
    this.positionOf[d] = -1;
    this.refresh(r);
    return r;
  }

  /** Drops empty route slots. */
  compact(): void {
    const kept = this.routes.filter((r) => !r.empty);
    if (kept.length === this.routes.length) return;
    this.routes = kept;
    for (let r = 0; r < kept.length; r++) this.refresh(r);
  }

  /** The routes as stop lists without the depot. */
  toRoutes(): number[][] {
    return this.routes.filter((r) => !r.empty).map((r) => r.nodes.slice(1, -1));
  }
}

export function newRoute(ctx: SearchContext): Route {
  const r = new Route();
  refreshRoute(ctx, r);
  return r;
}
