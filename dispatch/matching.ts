/**
 * Min-cost assignment on a sparse bipartite graph: rows (orders or bundles) to columns
 * (couriers), each row with a short list of candidate columns and their costs, each column used
 * at most once, a row allowed to stay unassigned at `unassignedCost`.
 *
 * Shortest augmenting paths (the Hungarian method with Dijkstra and potentials, as in
 * Jonker–Volgenant): each row in turn searches the cheapest path to a free column through
 * rows already matched, stopping at the first free column it settles. Every row has a private
 * dummy column priced `unassignedCost`, so a search never runs further than that. On a city's
 * sparse graph (a few candidates per order) most searches settle within a few columns.
 */

export interface SparseCosts {
  readonly rows: number;
  readonly cols: number;
  /** Row r's edges are `col[rowStart[r] .. rowStart[r+1])`. */
  readonly rowStart: Int32Array;
  readonly col: Int32Array;
  readonly cost: Float64Array;
}

/** Builds the CSR form from per-row lists. */
export function sparseCosts(
  cols: number,
  rows: readonly (readonly { col: number; cost: number }[])[],
): SparseCosts {
  const rowStart = new Int32Array(rows.length + 1);
  let edges = 0;
  for (let r = 0; r < rows.length; r++) {
    rowStart[r] = edges;
    edges += rows[r]!.length;
  }
  rowStart[rows.length] = edges;
  const col = new Int32Array(edges);
  const cost = new Float64Array(edges);
  let e = 0;
  for (const row of rows) {
    for (const edge of row) {
      if (!(edge.col >= 0 && edge.col < cols))
        throw new RangeError(`column ${edge.col} out of range`);
      if (!Number.isFinite(edge.cost)) throw new RangeError(`cost ${edge.cost} is not finite`);
      col[e] = edge.col;
      cost[e] = edge.cost;
      e++;
    }
  }
  return { rows: rows.length, cols, rowStart, col, cost };
}

/** Builds `SparseCosts` row by row without an object per edge (the engine's hot path). */
export class SparseBuilder {
  readonly #rowStart: Int32Array;
  #col: Int32Array;
  #cost: Float64Array;
  #rows = 0;
  #edges = 0;

  constructor(
    readonly cols: number,
    rows: number,
  ) {
    this.#rowStart = new Int32Array(rows + 1);
    this.#col = new Int32Array(Math.max(16, rows * 8));
    this.#cost = new Float64Array(Math.max(16, rows * 8));
  }

  startRow(): void {
    this.#rowStart[this.#rows++] = this.#edges;
  }

  edge(col: number, cost: number): void {
    if (!(col >= 0 && col < this.cols)) throw new RangeError(`column ${col} out of range`);
    if (!Number.isFinite(cost)) throw new RangeError(`cost ${cost} is not finite`);
    if (this.#edges === this.#col.length) {
      const col2 = new Int32Array(this.#col.length * 2);
      col2.set(this.#col);
      const cost2 = new Float64Array(this.#cost.length * 2);
      cost2.set(this.#cost);
      this.#col = col2;
      this.#cost = cost2;
    }
    this.#col[this.#edges] = col;
    this.#cost[this.#edges] = cost;
    this.#edges++;
  }

  /** Edges of the row being built. */
  rowLength(): number {
    return this.#edges - this.#rowStart[this.#rows - 1]!;
  }

  build(): SparseCosts {
    const rowStart = this.#rowStart.subarray(0, this.#rows + 1);
    rowStart[this.#rows] = this.#edges;
    return {
      rows: this.#rows,
      cols: this.cols,
      rowStart,
      col: this.#col.subarray(0, this.#edges),
      cost: this.#cost.subarray(0, this.#edges),
    };
  }
}

/**
 * For each row, the column it gets, or -1. Minimises the number of unassigned rows first
 * (when `unassignedCost` exceeds every real cost difference) and then the total cost.
 */
export function minCostAssignment(m: SparseCosts, unassignedCost: number): Int32Array {
  const { rows, cols, rowStart, col, cost } = m;
  // Costs shifted to ≥ 0 so that reduced costs start non-negative (every row takes exactly one
  // column, real or dummy, so a common shift changes no decision).
  let minCost = 0;
  for (let e = 0; e < cost.length; e++) if (cost[e]! < minCost) minCost = cost[e]!;
  const shift = -minCost;
  const dummyCost = unassignedCost + shift;
  const total = cols + rows; // real columns, then one dummy per row
  const w = work.fit(rows, total);
  const u = w.u;
  const v = w.v;
  const rowOf = w.rowOf;
  const colOf = w.colOf;
  const dist = w.dist;
  const pred = w.pred;
  const seen = w.seen; // stamp: dist valid for this search
  const done = w.done; // stamp: settled in this search
  const rowDist = w.rowDist;
  const reachedRows = w.reachedRows;
  const settled = w.settled;
  const heap = w.heap;

  for (let s = 0; s < rows; s++) {
    const stamp = s + 1;
    heap.clear();
    let reached = 0;
    let settledCount = 0;
    rowDist[s] = 0;
    reachedRows[reached++] = s;
    // Relax row s's edges (then, in the loop, each reached row's) from distance `base`.
    let i = s;
    let base = 0;
    let target = -1;
    for (;;) {
      for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++) {
        const j = col[e]!;
        if (done[j] === stamp) continue;
        const d = base + cost[e]! + shift - u[i]! - v[j]!;
        if (seen[j] !== stamp || d < dist[j]!) {
          seen[j] = stamp;
          dist[j] = d;
          pred[j] = i;
          heap.push(d, j);
        }
      }
      const dummy = cols + i;
      if (done[dummy] !== stamp) {
        const d = base + dummyCost - u[i]! - v[dummy]!;
        if (seen[dummy] !== stamp || d < dist[dummy]!) {
          seen[dummy] = stamp;
          dist[dummy] = d;
          pred[dummy] = i;
          heap.push(d, dummy);
        }
      }
      let next = -1;
      while (heap.size > 0) {
        const j = heap.popIndex();
        if (done[j] === stamp) continue;
        done[j] = stamp;
        settled[settledCount++] = j;
        const owner = rowOf[j]!;
        if (owner < 0) {
          target = j;
          break;
        }
        rowDist[owner] = dist[j]!;
        reachedRows[reached++] = owner;
        next = owner;
        base = dist[j]!;
        break;
      }
      if (target >= 0 || next < 0) break;
      i = next;
    }
    // Every row reaches its own dummy, which only it can hold: a search always ends.
    const D = dist[target]!;
    for (let k = 0; k < reached; k++) {
      const r = reachedRows[k]!;
      u[r] = u[r]! + (D - rowDist[r]!);
    }
    for (let k = 0; k < settledCount; k++) {
      const j = settled[k]!;
      v[j] = v[j]! - (D - dist[j]!);
    }
    // Augment along the path back to s.
    let j = target;
    for (;;) {
      const i = pred[j]!;
      const previous = colOf[i]!;
      colOf[i] = j;
      rowOf[j] = i;
      if (i === s) break;
      j = previous;
    }
  }
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) out[r] = colOf[r]! < cols ? colOf[r]! : -1;
  return out;
}

/** The search's arrays, reused from call to call (grown as needed, cleared per call). */
class Work {
  u = new Float64Array(0);
  colOf = new Int32Array(0);
  rowDist = new Float64Array(0);
  reachedRows = new Int32Array(0);
  v = new Float64Array(0);
  rowOf = new Int32Array(0);
  dist = new Float64Array(0);
  pred = new Int32Array(0);
  seen = new Int32Array(0);
  done = new Int32Array(0);
  settled = new Int32Array(0);
  readonly heap = new MinHeap();

  fit(rows: number, total: number): this {
    if (this.u.length < rows) {
      const n = rows * 2;
      this.u = new Float64Array(n);
      this.colOf = new Int32Array(n);
      this.rowDist = new Float64Array(n);
      this.reachedRows = new Int32Array(n);
    }
    if (this.v.length < total) {
      const n = total * 2;
      this.v = new Float64Array(n);
      this.rowOf = new Int32Array(n);
      this.dist = new Float64Array(n);
      this.pred = new Int32Array(n);
      this.seen = new Int32Array(n);
      this.done = new Int32Array(n);
      this.settled = new Int32Array(n);
    }
    this.u.fill(0, 0, rows);
    this.colOf.fill(-1, 0, rows);
    this.rowDist.fill(0, 0, rows);
    this.v.fill(0, 0, total);
    this.rowOf.fill(-1, 0, total);
    this.dist.fill(0, 0, total);
    this.pred.fill(0, 0, total);
    this.seen.fill(0, 0, total);
    this.done.fill(0, 0, total);
    return this;
  }
}
/** A binary min-heap of (key, index) with lazy deletion. */
class MinHeap {
  private keys = new Float64Array(64);
  private values = new Int32Array(64);
  size = 0;

  clear(): void {
    this.size = 0;
  }

  push(key: number, value: number): void {
    if (this.size === this.keys.length) {
      const keys = new Float64Array(this.size * 2);
      keys.set(this.keys);
      const values = new Int32Array(this.size * 2);
      values.set(this.values);
      this.keys = keys;
      this.values = values;
    }
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keys[parent]! <= key) break;
      this.keys[i] = this.keys[parent]!;
      this.values[i] = this.values[parent]!;
      i = parent;
    }
    this.keys[i] = key;
    this.values[i] = value;
  }

  popIndex(): number {
    const top = this.values[0]!;
    const lastKey = this.keys[--this.size]!;
    const lastValue = this.values[this.size]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && this.keys[child + 1]! < this.keys[child]!) child++;
      if (this.keys[child]! >= lastKey) break;
      this.keys[i] = this.keys[child]!;
      this.values[i] = this.values[child]!;
      i = child;
    }
    this.keys[i] = lastKey;
    this.values[i] = lastValue;
    return top;
  }
}

const work = new Work();
