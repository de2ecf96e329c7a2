import { describe, expect, it } from "vitest";
import { seededRandom } from "../geo/index.ts";
import { minCostAssignment, SparseBuilder, sparseCosts } from "./matching.ts";

/** Exhaustive search: fewest unassigned rows, then least cost. */
function bruteForce(
  cols: number,
  rows: { col: number; cost: number }[][],
  unassigned: number,
): number {
  let best = Infinity;
  const used = new Array<boolean>(cols).fill(false);
  const go = (r: number, acc: number) => {
    if (r === rows.length) {
      best = Math.min(best, acc);
      return;
    }
    go(r + 1, acc + unassigned);
    for (const e of rows[r]!) {
      if (used[e.col]) continue;
      used[e.col] = true;
      go(r + 1, acc + e.cost);
      used[e.col] = false;
    }
  };
  go(0, 0);
  return best;
}

function totalOf(
  rows: { col: number; cost: number }[][],
  match: Int32Array,
  unassigned: number,
): number {
  let total = 0;
  const used = new Set<number>();
  match.forEach((col, r) => {
    if (col < 0) {
      total += unassigned;
      return;
    }
    expect(used.has(col), `column ${col} used twice`).toBe(false);
    used.add(col);
    const edge = rows[r]!.find((e) => e.col === col);
    expect(edge, `row ${r} got column ${col} it has no edge to`).toBeDefined();
    total += edge!.cost;
  });
  return total;
}

describe("minCostAssignment", () => {
  it("beats first-come greedy on the crossing case", () => {
    // Row 0 is a little closer to column 0, but row 1 can only use column 0 cheaply.
    const rows = [
      [
        { col: 0, cost: 4 },
        { col: 1, cost: 5 },
      ],
      [
        { col: 0, cost: 5 },
        { col: 1, cost: 30 },
      ],
    ];
    const match = minCostAssignment(sparseCosts(2, rows), 1e6);
    expect([...match]).toEqual([1, 0]);
    expect(totalOf(rows, match, 1e6)).toBe(10); // greedy: 4 + 30
  });

  it("leaves a row unassigned only when no free column is left", () => {
    const rows = [[{ col: 0, cost: 1 }], [{ col: 0, cost: 2 }], []];
    const match = minCostAssignment(sparseCosts(1, rows), 1e6);
    expect(match.filter((c) => c >= 0).length).toBe(1);
    expect(match[2]).toBe(-1);
  });

  it("handles negative costs", () => {
    const rows = [
      [
        { col: 0, cost: -5 },
        { col: 1, cost: -1 },
      ],
      [{ col: 0, cost: -4 }],
    ];
    const match = minCostAssignment(sparseCosts(2, rows), 1e6);
    expect([...match]).toEqual([1, 0]);
  });

  it("rejects edges to unknown columns and non-finite costs", () => {
    expect(() => sparseCosts(1, [[{ col: 1, cost: 1 }]])).toThrow(RangeError);
    expect(() => sparseCosts(1, [[{ col: 0, cost: NaN }]])).toThrow(RangeError);
  });

  it("builds the same graph row by row as from lists, growing past its first guess", () => {
    const random = seededRandom(5);
    const rows = Array.from({ length: 30 }, () =>
      Array.from({ length: Math.floor(random() * 20) }, () => ({
        col: Math.floor(random() * 12),
        cost: random() * 50,
      })),
    );
    const builder = new SparseBuilder(12, rows.length);
    for (const row of rows) {
      builder.startRow();
      for (const e of row) builder.edge(e.col, e.cost);
      expect(builder.rowLength()).toBe(row.length);
    }
    const built = builder.build();
    const listed = sparseCosts(12, rows);
    expect([...built.rowStart]).toEqual([...listed.rowStart]);
    expect([...built.col]).toEqual([...listed.col]);
    expect([...built.cost]).toEqual([...listed.cost]);
    expect(() => new SparseBuilder(2, 1).edge(2, 1)).toThrow(RangeError);
  });

  it("is optimal on 400 random sparse instances (against brute force)", () => {
    const random = seededRandom(20261122);
    for (let n = 0; n < 400; n++) {
      const rowCount = 1 + Math.floor(random() * 6);
      const cols = 1 + Math.floor(random() * 6);
      const rows = Array.from({ length: rowCount }, () => {
        const list: { col: number; cost: number }[] = [];
        for (let c = 0; c < cols; c++) {
          if (random() < 0.6) list.push({ col: c, cost: Math.round(random() * 100) / 4 });
        }
        return list;
      });
      const unassigned = 1e4;
      const match = minCostAssignment(sparseCosts(cols, rows), unassigned);
      expect(totalOf(rows, match, unassigned), `case ${n}`).toBeCloseTo(
        bruteForce(cols, rows, unassigned),
        6,
      );
    }
  });
});
