import { latLngToCell } from "h3-js";
import { describe, expect, it } from "vitest";
import { DEMAND_RESOLUTION, balanceCells, balanceKey, demandCells } from "./demand.ts";
import type { CourierView } from "./fleet.ts";
import type { OrderStatus, OrderView } from "./orders.ts";

const STORE_A = { lat: 25.0406, lng: 102.7123 };
const STORE_B = { lat: 25.1, lng: 102.8 };
const HOME = { lat: 25.06, lng: 102.69 };

function order(
  orderId: string,
  status: OrderStatus,
  pickup = STORE_A,
  courierId: string | null = null,
): OrderView {
  return {
    orderId,
    marketId: "km",
    status,
    statusAt: 0,
    courierId,
    storeId: "s",
    pickup,
    dropoff: HOME,
  };
}

const courier = (courierId: string, at: typeof STORE_A, status: string): CourierView => ({
  courierId,
  ...at,
  at: 0,
  status: status as CourierView["status"],
});

const cellOf = (p: typeof STORE_A) => latLngToCell(p.lat, p.lng, DEMAND_RESOLUTION);

describe("demandCells", () => {
  it("counts orders still at the store, per res-8 cell of the pickup", () => {
    const cells = demandCells([
      order("o-1", "created"),
      order("o-2", "assigned", STORE_A, "c-1"),
      order("o-3", "at_store", STORE_A, "c-2"),
      order("o-4", "ready", STORE_B),
      // Carried by a courier, or finished: not demand.
      order("o-5", "picked_up", STORE_A, "c-3"),
      { ...order("o-6", "ready"), finishedAt: 1 },
      { ...order("o-7", "ready"), pickup: undefined },
    ]);
    expect(cells.map((c) => [c.cell, c.count, c.level]).sort()).toEqual(
      [
        [cellOf(STORE_A), 3, 3],
        [cellOf(STORE_B), 1, 1],
      ].sort(),
    );
    expect(cells[0]?.boundary).toHaveLength(6);
  });
});

describe("balanceCells", () => {
  it("is free couriers minus orders without a courier, per cell", () => {
    const cells = balanceCells(
      [
        courier("c-1", STORE_A, "idle"),
        courier("c-2", STORE_A, "busy"),
        courier("c-3", STORE_B, "idle"),
        courier("c-4", STORE_B, "unknown"),
        courier("c-5", HOME, "offline"),
      ],
      [
        order("o-1", "created"),
        order("o-2", "ready"),
        order("o-3", "offered"),
        order("o-4", "assigned", STORE_A, "c-2"),
      ],
    );
    const byCell = new Map(cells.map((c) => [c.cell, c]));
    expect(byCell.get(cellOf(STORE_A))).toMatchObject({
      free: 1,
      unassigned: 3,
      balance: -2,
      tone: "short",
      level: 2,
    });
    expect(byCell.get(cellOf(STORE_B))).toMatchObject({ balance: 2, tone: "spare" });
    expect(byCell.has(cellOf(HOME))).toBe(false);
    expect(cells).toHaveLength(2);
  });

  it("breaks even in grey and keys on counts only", () => {
    const even = balanceCells([courier("c-1", STORE_A, "idle")], [order("o-1", "created")]);
    expect(even[0]).toMatchObject({ balance: 0, tone: "even" });
    const moved = balanceCells(
      [courier("c-1", { lat: 25.0407, lng: 102.7124 }, "idle")],
      [order("o-1", "created")],
    );
    expect(balanceKey(moved)).toBe(balanceKey(even));
  });
});
