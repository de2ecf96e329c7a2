/**
 * Test helpers: random small PDPTW instances and an exact solver by brute-force enumeration
 * (every split of the requests into routes, every order of each route's stops). Used only by
 * the tests; not part of the public surface.
 */
import { checkSolution } from "./check.ts";
import { buildInstance, euclideanTravel } from "./model.ts";
import { Rng } from "./rng.ts";
import type { PdptwInstance } from "./types.ts";

/** A random instance with `requests` requests on a 100 × 100 square, Euclidean travel. */
export function randomInstance(seed: number, requests: number): PdptwInstance {
  const rng = new Rng(seed);
  const horizon = 400 + rng.int(400);
  const points = [{ x: 50, y: 50 }];
  for (let k = 0; k < 2 * requests; k++) points.push({ x: rng.int(101), y: rng.int(101) });
  const window = (centre: number) => {
    const width = 20 + rng.int(200);
    const ready = Math.min(Math.max(0, centre - width / 2), horizon - 100);
    return { ready, due: Math.min(horizon - 60, ready + width) };
  };
  const dist = (a: { x: number; y: number }, b: { x: number; y: number }) =>
    Math.hypot(a.x - b.x, a.y - b.y);
  const specs = [];
  for (let k = 0; k < requests; k++) {
    const pickupAt = 1 + 2 * k;
    const from = points[pickupAt]!;
    const to = points[pickupAt + 1]!;
    // Draw windows until the request can be served on its own, so the optimum serves them all.
    for (;;) {
      const t = 60 + rng.int(Math.max(1, horizon - 300));
      const pw = window(t);
      const dw = window(t + 60 + rng.int(120));
      const ps = rng.int(11);
      const ds = rng.int(11);
      const atPickup = Math.max(pw.ready, dist(points[0]!, from));
      const atDelivery = Math.max(dw.ready, atPickup + ps + dist(from, to));
      const back = atDelivery + ds + dist(to, points[0]!);
      if (atPickup > pw.due || atDelivery > dw.due || back > horizon) continue;
      specs.push({
        pickup: { at: pickupAt, ready: pw.ready, due: pw.due, service: ps },
        delivery: { at: pickupAt + 1, ready: dw.ready, due: dw.due, service: ds },
        load: { weight: 1 + rng.int(8) },
      });
      break;
    }
  }
  return buildInstance({
    name: `random-${seed}`,
    depot: { at: 0, ready: 0, due: horizon },
    requests: specs,
    fleet: { vehicles: requests, capacity: { weight: 8 + rng.int(10) } },
    travel: euclideanTravel(points),
  });
}

/** Pickup-before-delivery orders of the given requests' stops. */
function* orders(instance: PdptwInstance, pickups: number[]): Generator<number[]> {
  const route: number[] = [];
  const open = new Set<number>();
  const waiting = new Set(pickups);
  function* step(): Generator<number[]> {
    if (waiting.size === 0 && open.size === 0) {
      yield route.slice();
      return;
    }
    for (const p of [...waiting]) {
      waiting.delete(p);
      open.add(p);
      route.push(p);
      yield* step();
      route.pop();
      open.delete(p);
      waiting.add(p);
    }
    for (const p of [...open]) {
      open.delete(p);
      route.push(instance.partner[p]!);
      yield* step();
      route.pop();
      open.add(p);
    }
  }
  yield* step();
}

/**
 * The optimum by enumeration: fewest vehicles, then least cost, or null if some request fits in
 * no route. Exponential; for up to four or five requests.
 */
export function bruteForce(
  instance: PdptwInstance,
): { vehicles: number; cost: number; routes: number[][] } | null {
  const pickups: number[] = [];
  for (let i = 1; i < instance.size; i++) if (instance.isPickup[i] === 1) pickups.push(i);
  const n = pickups.length;
  const full = (1 << n) - 1;
  const routeCost = new Float64Array(1 << n).fill(Infinity);
  const routeOf: number[][] = [];
  for (let mask = 1; mask <= full; mask++) {
    const members = pickups.filter((_, k) => (mask >> k) & 1);
    for (const order of orders(instance, members)) {
      const report = checkSolution(instance, [order], { requireAll: false });
      if (report.feasible && report.cost < routeCost[mask]!) {
        routeCost[mask] = report.cost;
        routeOf[mask] = order;
      }
    }
  }
  // Least (vehicles, cost) over partitions of the request set into feasible routes.
  const vehicles = new Float64Array(1 << n).fill(Infinity);
  const cost = new Float64Array(1 << n).fill(Infinity);
  const choice = new Int32Array(1 << n);
  vehicles[0] = 0;
  cost[0] = 0;
  for (let mask = 1; mask <= full; mask++) {
    const low = mask & -mask;
    for (let sub = mask; sub > 0; sub = (sub - 1) & mask) {
      if ((sub & low) === 0 || routeCost[sub] === Infinity) continue;
      const v = vehicles[mask ^ sub]! + 1;
      const c = cost[mask ^ sub]! + routeCost[sub]!;
      if (v < vehicles[mask]! || (v === vehicles[mask]! && c < cost[mask]!)) {
        vehicles[mask] = v;
        cost[mask] = c;
        choice[mask] = sub;
      }
    }
  }
  if (vehicles[full] === Infinity) return null;
  const routes: number[][] = [];
  for (let mask = full; mask > 0; mask ^= choice[mask]!) routes.push(routeOf[choice[mask]!]!);
  return { vehicles: vehicles[full]!, cost: cost[full]!, routes };
}
