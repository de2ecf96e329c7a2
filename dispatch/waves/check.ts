/**
 * The independent feasibility checker: replays each route from the depot using only the
 * instance (no search state) and recomputes the cost. Every plan in the tests goes through it.
 */
import type { CheckReport, PdptwInstance, Violation } from "./types.ts";

/** Slack for float round-off in times and loads. */
const TOLERANCE = 1e-6;

export function checkSolution(
  instance: PdptwInstance,
  routes: readonly (readonly number[])[],
  options: { requireAll?: boolean } = {},
): CheckReport {
  const requireAll = options.requireAll ?? true;
  const { size, time, cost, ready, due, service, demand, capacity, partner, isPickup } = instance;
  const D = capacity.length;
  const violations: Violation[] = [];
  const add = (kind: Violation["kind"], route: number, node: number, detail: string) =>
    violations.push({ kind, route, node, detail });
  const routeOf = new Int32Array(size).fill(-1);
  const positionOf = new Int32Array(size).fill(-1);
  let total = 0;
  let vehicles = 0;

  routes.forEach((route, r) => {
    if (route.length > 0) vehicles++;
    route.forEach((node, k) => {
      if (!Number.isInteger(node) || node < 0 || node >= size) {
        add("unknown-node", r, node, `node ${node} is not in the instance`);
        return;
      }
      if (node === 0) {
        add("depot-in-route", r, node, `the depot is a stop at position ${k}`);
        return;
      }
      if (routeOf[node] !== -1) {
        add("duplicate", r, node, `node ${node} is also in route ${routeOf[node]}`);
        return;
      }
      routeOf[node] = r;
      positionOf[node] = k;
    });
  });

  routes.forEach((route, r) => {
    if (route.length === 0) return;
    let t = ready[0]!;
    let at = 0;
    const load = new Float64Array(D);
    for (const node of route) {
      if (!Number.isInteger(node) || node <= 0 || node >= size) continue;
      const arrive = t + service[at]! + time[at * size + node]!;
      total += cost[at * size + node]!;
      t = Math.max(arrive, ready[node]!);
      if (t > due[node]! + TOLERANCE) {
        add("time-window", r, node, `service starts at ${t}, window closes at ${due[node]}`);
      }
      for (let d = 0; d < D; d++) {
        load[d] = load[d]! + demand[node * D + d]!;
        if (load[d]! > capacity[d]! + TOLERANCE) {
          add("capacity", r, node, `load ${load[d]} over capacity ${capacity[d]} (dim ${d})`);
        }
      }
      at = node;
    }
    total += cost[at * size]!;
    const back = t + service[at]! + time[at * size]!;
    if (back > due[0]! + TOLERANCE) {
      add("horizon", r, 0, `returns to the depot at ${back}, horizon ${due[0]}`);
    }
  });

  for (let node = 1; node < size; node++) {
    if (isPickup[node] !== 1) continue;
    const other = partner[node]!;
    const rp = routeOf[node]!;
    const rd = routeOf[other]!;
    if (rp === -1 && rd === -1) {
      if (requireAll) add("missing", -1, node, `request ${node}→${other} is not served`);
      continue;
    }
    if (rp === -1 || rd === -1) {
      add("split", rp === -1 ? rd : rp, node, `only one half of request ${node}→${other} served`);
    } else if (rp !== rd) {
      add("split", rp, node, `pickup ${node} in route ${rp}, delivery ${other} in route ${rd}`);
    } else if (positionOf[node]! > positionOf[other]!) {
      add("precedence", rp, node, `delivery ${other} comes before pickup ${node}`);
    }
  }
  if (vehicles > instance.vehicles) {
    add("fleet", -1, 0, `${vehicles} vehicles used, ${instance.vehicles} available`);
  }
  return { feasible: violations.length === 0, violations, vehicles, cost: total };
}
