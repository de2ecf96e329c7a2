/**
 * A wave's routes in domain terms, pure: where each visit is, its window and service, travel
 * between places, the timing and feasibility of a van's route (replayed as `checkSolution`
 * replays a PDPTW route: windows, waiting, service, precedence in one van, every capacity
 * dimension, the horizon), and the planning problem handed to the host's planner.
 *
 * Times inside are minutes after the wave's departure (the planner's unit); what is stored and
 * shown is ms since the epoch. Travel is the great-circle distance times a detour factor at a
 * speed: a metric, so the planner's shortest-path closure changes nothing and the wave's own
 * check agrees with the planner's.
 */
import type { LatLng, TemperatureClass } from "../../protocol/ids.ts";
import type { PlannedVisit, WaveTravel } from "../../protocol/actors/wave.ts";
import type { RouteStop, WaveConfig, WaveOrder, WaveState } from "./types.ts";

const MINUTE = 60_000;
/** Slack for float round-off, in minutes and in load units (the checker's tolerance). */
const TOLERANCE = 1e-6;
const EARTH_RADIUS_M = 6_371_008.8;

export function haversineMeters(a: LatLng, b: LatLng): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function travelMinutes(a: LatLng, b: LatLng, travel: WaveTravel): number {
  return (haversineMeters(a, b) * travel.detour) / travel.metersPerMinute;
}

/** One visit resolved: where, when it may start (minutes after departure), its service. */
export interface VisitSpec {
  readonly place: string;
  readonly location: LatLng;
  readonly ready: number;
  readonly due: number;
  readonly service: number;
}

/** The capacity dimensions a van has, in the planner's order. */
export const DIMENSIONS = ["weightKg", "volumeL", "frozen", "chilled"] as const;

export function loadOf(order: Pick<WaveOrder, "load" | "temperatureClass">): number[] {
  const cold = (c: TemperatureClass) => (order.temperatureClass === c ? order.load.volumeL : 0);
  return [order.load.weightKg, order.load.volumeL, cold("frozen"), cold("chilled")];
}

export function capacityOf(config: WaveConfig): number[] {
  const { capacity, compartments } = config.fleet;
  return [capacity.weightKg, capacity.volumeL, compartments.frozen, compartments.chilled];
}

/** Where and when a visit happens, or null when the order or its point is unknown. */
export function visitSpec(state: WaveState, visit: PlannedVisit): VisitSpec | null {
  const config = state.config;
  const order = state.orders[visit.orderId];
  if (config === null || order === undefined) return null;
  const rel = (at: number) => (at - config.departAt) / MINUTE;
  const horizon = rel(config.horizonAt);
  if (visit.kind === "pickup") {
    return {
      place: `store:${order.storeId}`,
      location: order.pickup,
      ready: Math.max(0, rel(order.readyAt ?? config.departAt)),
      due: horizon,
      service: config.travel.pickupServiceMinutes,
    };
  }
  const d = order.destination;
  if (d.kind === "door") {
    return {
      place: `door:${order.orderId}`,
      location: d.location,
      ready: rel(d.window.from),
      due: rel(d.window.to),
      service: config.travel.dropoffServiceMinutes,
    };
  }
  const point = state.pickupPoints[d.pickupPointId];
  if (point === undefined) return null;
  return {
    place: `point:${point.id}`,
    location: point.location,
    ready: rel(point.opensAt),
    due: rel(point.closesAt),
    service: config.travel.dropoffServiceMinutes,
  };
}

export interface RouteEvaluation {
  readonly feasible: boolean;
  /** The first reason it is not, for people (and the refusal's message). */
  readonly violation: string | null;
  readonly travelMinutes: number;
  readonly stops: RouteStop[];
  readonly returnAt: number | null;
}

/**
 * Replays a van's route from the depot at the departure: arrival, waiting to the window's start,
 * service, loads in every dimension, each drop-off after its pickup in the same van, the return
 * by the horizon. The stops are the visits grouped by place and kind, with planned times.
 */
export function evaluateRoute(state: WaveState, visits: readonly PlannedVisit[]): RouteEvaluation {
  const config = state.config;
  if (config === null) {
    return {
      feasible: false,
      violation: "the wave is not open",
      travelMinutes: 0,
      stops: [],
      returnAt: null,
    };
  }
  const epoch = (minutes: number) => Math.round(config.departAt + minutes * MINUTE);
  const capacity = capacityOf(config);
  const load = capacity.map(() => 0);
  const picked = new Set<string>();
  const dropped = new Set<string>();
  const stops: RouteStop[] = [];
  let violation: string | null = null;
  const fail = (why: string) => {
    violation ??= why;
  };
  let t = 0;
  let service = 0;
  let at = config.depot;
  let travel = 0;
  for (const visit of visits) {
    const spec = visitSpec(state, visit);
    if (spec === null) {
      fail(`order ${visit.orderId} is not in the wave`);
      continue;
    }
    const order = state.orders[visit.orderId]!;
    const leg = travelMinutes(at, spec.location, config.travel);
    travel += leg;
    const arrive = t + service + leg;
    t = Math.max(arrive, spec.ready);
    if (t > spec.due + TOLERANCE) {
      fail(
        `${spec.place} would be reached at ${clock(epoch(t))}, after its window closes at ${clock(epoch(spec.due))}`,
      );
    }
    const delta = loadOf(order);
    if (visit.kind === "pickup") {
      if (picked.has(order.orderId)) fail(`order ${order.orderId} is picked up twice`);
      picked.add(order.orderId);
    } else {
      if (!picked.has(order.orderId))
        fail(`order ${order.orderId} is dropped before it is picked up`);
      if (dropped.has(order.orderId)) fail(`order ${order.orderId} is dropped twice`);
      dropped.add(order.orderId);
    }
    for (let d = 0; d < load.length; d++) {
      load[d] = load[d]! + (visit.kind === "pickup" ? delta[d]! : -delta[d]!);
      if (load[d]! > capacity[d]! + TOLERANCE) {
        fail(
          `the van would carry ${round(load[d]!)} ${DIMENSIONS[d]} after ${spec.place}, over its ${capacity[d]}`,
        );
      }
    }
    const last = stops[stops.length - 1];
    if (last !== undefined && last.place === spec.place && last.kind === visit.kind) {
      stops[stops.length - 1] = {
        ...last,
        orderIds: [...last.orderIds, order.orderId],
        leaveAt: epoch(t + spec.service),
      };
    } else {
      stops.push({
        kind: visit.kind,
        place: spec.place,
        location: spec.location,
        orderIds: [order.orderId],
        arriveAt: epoch(arrive),
        startAt: epoch(t),
        leaveAt: epoch(t + spec.service),
      });
    }
    service = spec.service;
    at = spec.location;
  }
  for (const id of picked) if (!dropped.has(id)) fail(`order ${id} is picked up but never dropped`);
  if (visits.length === 0) {
    return { feasible: violation === null, violation, travelMinutes: 0, stops, returnAt: null };
  }
  const back = travelMinutes(at, config.depot, config.travel);
  travel += back;
  const returnMinutes = t + service + back;
  const horizon = (config.horizonAt - config.departAt) / MINUTE;
  if (returnMinutes > horizon + TOLERANCE) {
    fail(
      `the van would be back at ${clock(epoch(returnMinutes))}, after the shift ends at ${clock(config.horizonAt)}`,
    );
  }
  return {
    feasible: violation === null,
    violation,
    travelMinutes: travel,
    stops,
    returnAt: epoch(returnMinutes),
  };
}

/** HH:MM in China Standard Time, for messages people read. */
function clock(at: number): string {
  const d = new Date(at + 8 * 3_600_000);
  return `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * Moves the visits of `orderIds` into `visits` at their cheapest feasible places: the drop-offs
 * as one block (they share a place) at every position, each store's pickups as a block at its
 * cheapest feasible position before it. Returns null when no position fits.
 */
export function insertOrders(
  state: WaveState,
  visits: readonly PlannedVisit[],
  orderIds: readonly string[],
): { visits: PlannedVisit[]; evaluation: RouteEvaluation } | null {
  const drops: PlannedVisit[] = orderIds.map((orderId) => ({ orderId, kind: "dropoff" }));
  const byStore = new Map<string, PlannedVisit[]>();
  for (const orderId of orderIds) {
    const storeId = state.orders[orderId]?.storeId ?? "";
    const list = byStore.get(storeId) ?? [];
    list.push({ orderId, kind: "pickup" });
    byStore.set(storeId, list);
  }
  let best: { visits: PlannedVisit[]; evaluation: RouteEvaluation } | null = null;
  for (let j = 0; j <= visits.length; j++) {
    let route: PlannedVisit[] = [...visits.slice(0, j), ...drops, ...visits.slice(j)];
    let end = j; // drop-offs start here; pickups go before
    let ok = true;
    for (const pickups of byStore.values()) {
      let choice: { visits: PlannedVisit[]; evaluation: RouteEvaluation } | null = null;
      for (let i = 0; i <= end; i++) {
        const candidate = [...route.slice(0, i), ...pickups, ...route.slice(i)];
        const evaluation = evaluateRoute(state, candidate);
        if (!evaluation.feasible && !onlyLaterFails(evaluation)) continue;
        if (choice === null || evaluation.travelMinutes < choice.evaluation.travelMinutes) {
          choice = { visits: candidate, evaluation };
        }
      }
      if (choice === null) {
        ok = false;
        break;
      }
      route = choice.visits;
      end += pickups.length;
    }
    if (!ok) continue;
    const evaluation = evaluateRoute(state, route);
    if (!evaluation.feasible) continue;
    if (best === null || evaluation.travelMinutes < best.evaluation.travelMinutes) {
      best = { visits: route, evaluation };
    }
  }
  return best;
}

/**
 * While pickups of several stores are placed one store at a time, a route missing another
 * store's pickups is "dropped before picked up" for those orders; that is not yet a reason to
 * reject a position.
 */
function onlyLaterFails(evaluation: RouteEvaluation): boolean {
  return (
    evaluation.violation !== null &&
    / is dropped before it is picked up$/.test(evaluation.violation)
  );
}

// ---------------------------------------------------------------- the planning problem

/** One request of the planning problem: an order's pickup and drop-off, resolved. */
export interface ProblemRequest {
  readonly orderId: string;
  readonly pickup: VisitSpec;
  readonly dropoff: VisitSpec;
  /** Per DIMENSIONS. */
  readonly load: readonly number[];
}

/**
 * What the host's planner needs, self-contained (carried by the `plan_requested` event): the
 * orders not on locked vans, the vans free to plan, capacities, the horizon, travel.
 */
export interface WaveProblem {
  readonly requestId: number;
  readonly attempt: number;
  readonly depot: LatLng;
  /** Minutes after departure by which vans are back. */
  readonly horizon: number;
  readonly vans: number;
  readonly capacity: readonly number[];
  readonly travel: WaveTravel;
  readonly requests: readonly ProblemRequest[];
}

export function buildProblem(
  state: WaveState,
  requestId: number,
  attempt: number,
  lockedOrderIds: ReadonlySet<string>,
  freeVans: number,
): WaveProblem {
  const config = state.config!;
  const requests: ProblemRequest[] = [];
  for (const order of Object.values(state.orders)) {
    if (order.status !== "joined" || lockedOrderIds.has(order.orderId)) continue;
    const pickup = visitSpec(state, { orderId: order.orderId, kind: "pickup" });
    const dropoff = visitSpec(state, { orderId: order.orderId, kind: "dropoff" });
    if (pickup === null || dropoff === null) continue;
    requests.push({ orderId: order.orderId, pickup, dropoff, load: loadOf(order) });
  }
  requests.sort((a, b) => (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0));
  return {
    requestId,
    attempt,
    depot: config.depot,
    horizon: (config.horizonAt - config.departAt) / MINUTE,
    vans: freeVans,
    capacity: capacityOf(config),
    travel: config.travel,
    requests,
  };
}
