/**
 * Destroy: take q requests out of the plan into its bank. Random; worst (the requests whose
 * removal saves most); Shaw (requests related to one another by place, time and load, which are
 * the ones worth re-arranging together) — after Ropke & Pisinger (2006).
 */
import type { Plan } from "./plan-state.ts";
import type { Rng } from "./rng.ts";

/** Pickups of the requests currently in routes. */
export function placedRequests(plan: Plan): number[] {
  const out: number[] = [];
  const isPickup = plan.ctx.isPickup;
  for (const route of plan.routes) {
    const nodes = route.nodes;
    for (let k = 1; k < nodes.length - 1; k++) if (isPickup[nodes[k]!] === 1) out.push(nodes[k]!);
  }
  return out;
}

export function randomRemoval(plan: Plan, q: number, rng: Rng): void {
  const placed = placedRequests(plan);
  q = Math.min(q, placed.length);
  for (let k = 0; k < q; k++) {
    const at = k + rng.int(placed.length - k);
    const p = placed[at]!;
    placed[at] = placed[k]!;
    placed[k] = p;
    plan.remove(p);
    plan.bank.push(p);
  }
}

/**
 * Reorders `items` so that `items[rank]` is the element a sort by `key` ascending would put
 * there (ties by node id, so the result does not depend on the order before): quickselect,
 * O(n) where sorting for one pick was the removals' main cost on large instances.
 */
export function selectRank(items: number[], rank: number, key: Float64Array): void {
  const less = (a: number, b: number) => key[a]! < key[b]! || (key[a] === key[b] && a < b);
  let lo = 0;
  let hi = items.length - 1;
  while (lo < hi) {
    const pivot = items[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (less(items[i]!, pivot)) i++;
      while (less(pivot, items[j]!)) j--;
      if (i <= j) {
        const t = items[i]!;
        items[i] = items[j]!;
        items[j] = t;
        i++;
        j--;
      }
    }
    if (rank <= j) hi = j;
    else if (rank >= i) lo = i;
    else return;
  }
}

/** What taking request `p` out of its route saves. */
export function removalGain(plan: Plan, p: number): number {
  const { cost: C, size: S, partner } = plan.ctx;
  const d = partner[p]!;
  const nodes = plan.routes[plan.routeOf[p]!]!.nodes;
  const ip = plan.positionOf[p]!;
  const id = plan.positionOf[d]!;
  const a = nodes[ip - 1]!;
  const z = nodes[id + 1]!;
  if (id === ip + 1) {
    return C[a * S + p]! + C[p * S + d]! + C[d * S + z]! - C[a * S + z]!;
  }
  const b = nodes[ip + 1]!;
  const y = nodes[id - 1]!;
  return (
    C[a * S + p]! + C[p * S + b]! - C[a * S + b]! + C[y * S + d]! + C[d * S + z]! - C[y * S + z]!
  );
}

export function worstRemoval(plan: Plan, q: number, rng: Rng, randomness = 3): void {
  const placed = placedRequests(plan);
  q = Math.min(q, placed.length);
  const gain = new Float64Array(plan.ctx.size);
  for (const p of placed) gain[p] = removalGain(plan, p);
  const key = new Float64Array(plan.ctx.size);
  for (let k = 0; k < q; k++) {
    for (const p of placed) key[p] = -gain[p]!;
    const at = Math.floor(Math.pow(rng.next(), randomness) * placed.length);
    selectRank(placed, at, key);
    const p = placed[at]!;
    placed[at] = placed[placed.length - 1]!;
    placed.pop();
    const r = plan.remove(p);
    plan.bank.push(p);
    // Only the route that lost p changes its gains.
    const nodes = plan.routes[r]!.nodes;
    for (let i = 1; i < nodes.length - 1; i++) {
      const n = nodes[i]!;
      if (plan.ctx.isPickup[n] === 1) gain[n] = removalGain(plan, n);
    }
  }
}

/**
 * Shaw relatedness of requests a and b (lower is more related): distance between their pickups
 * and between their deliveries, difference of their service times and of their first load.
 */
function relatedness(plan: Plan, a: number, b: number, timeScale: number, loadScale: number) {
  const { cost: C, size: S, partner, demand, dims } = plan.ctx;
  const da = partner[a]!;
  const db = partner[b]!;
  const ra = plan.routes[plan.routeOf[a]!]!;
  const rb = plan.routes[plan.routeOf[b]!]!;
  const ta = ra.start[plan.positionOf[a]!]!;
  const tb = rb.start[plan.positionOf[b]!]!;
  const tda = ra.start[plan.positionOf[da]!]!;
  const tdb = rb.start[plan.positionOf[db]!]!;
  return (
    9 * ((C[a * S + b]! + C[da * S + db]!) / plan.ctx.maxArc) +
    3 * ((Math.abs(ta - tb) + Math.abs(tda - tdb)) / timeScale) +
    2 * (Math.abs(demand[a * dims]! - demand[b * dims]!) / loadScale)
  );
}

export function shawRemoval(plan: Plan, q: number, rng: Rng, randomness = 6): void {
  const ctx = plan.ctx;
  const placed = placedRequests(plan);
  q = Math.min(q, placed.length);
  if (q === 0) return;
  const timeScale = Math.max(1e-9, ctx.due[0]! - ctx.ready[0]!);
  let loadScale = 1e-9;
  for (const p of placed) loadScale = Math.max(loadScale, Math.abs(ctx.demand[p * ctx.dims]!));
  const first = rng.int(placed.length);
  const chosen = [placed[first]!];
  placed[first] = placed[placed.length - 1]!;
  placed.pop();
  const score = new Float64Array(ctx.size);
  while (chosen.length < q) {
    const ref = chosen[rng.int(chosen.length)]!;
    for (const p of placed) score[p] = relatedness(plan, ref, p, timeScale, loadScale);
    const at = Math.floor(Math.pow(rng.next(), randomness) * placed.length);
    selectRank(placed, at, score);
    chosen.push(placed[at]!);
    placed[at] = placed[placed.length - 1]!;
    placed.pop();
  }
  for (const p of chosen) {
    plan.remove(p);
    plan.bank.push(p);
  }
}
