/**
 * Demand shading, on the same H3 res-8 grid as supply (supply.ts), and the balance of the two.
 *
 * Where demand sits: an order counts at its **pickup** (the store) while it still waits there
 * (created … at_store), because that is where a courier has to go next; once picked up it is
 * carried by a courier, needs no further supply, and is not counted. Counting drop-offs instead
 * would show where customers are, which is a planning question, not a dispatching one.
 *
 * The balance view answers the dispatcher's question "where am I short of couriers right now?":
 * per cell, couriers free to take an order (idle, or on shift with no known status) minus orders
 * that still have no courier (created … offered). Cells with a shortfall are shaded red, cells
 * with spare couriers green, cells that just break even grey.
 */
import { cellToBoundary, latLngToCell } from "h3-js";
import type { CourierView } from "./fleet.ts";
import type { OrderView } from "./orders.ts";
import { awaitingPickup, phaseOf } from "./orders.ts";
import { SUPPLY_RESOLUTION, levelOf } from "./supply.ts";
import type { SupplyCell } from "./supply.ts";

export const DEMAND_RESOLUTION = SUPPLY_RESOLUTION;

/** Same shape as a supply cell: `count` orders waiting for pickup in the cell. */
export type DemandCell = SupplyCell;

export interface BalanceCell {
  cell: string;
  /** Couriers free to take an order. */
  free: number;
  /** Orders with no courier yet. */
  unassigned: number;
  /** free − unassigned. */
  balance: number;
  tone: "short" | "even" | "spare";
  /** How strong the shade: 1 (off by one) to 3 (off by three or more). */
  level: 1 | 2 | 3;
  boundary: Array<[number, number]>;
}

function boundaryOf(cell: string): Array<[number, number]> {
  return cellToBoundary(cell) as Array<[number, number]>;
}

/** Orders still waiting at the store, counted per cell of their pickup. */
export function demandCells(orders: Iterable<OrderView>): DemandCell[] {
  const counts = new Map<string, number>();
  for (const order of orders) {
    if (order.finishedAt !== undefined || order.pickup === undefined) continue;
    if (!awaitingPickup(order.status)) continue;
    const cell = latLngToCell(order.pickup.lat, order.pickup.lng, DEMAND_RESOLUTION);
    counts.set(cell, (counts.get(cell) ?? 0) + 1);
  }
  return [...counts].map(([cell, count]) => ({
    cell,
    count,
    level: levelOf(count),
    boundary: boundaryOf(cell),
  }));
}

export function balanceCells(
  couriers: Iterable<CourierView>,
  orders: Iterable<OrderView>,
): BalanceCell[] {
  const free = new Map<string, number>();
  const unassigned = new Map<string, number>();
  for (const courier of couriers) {
    if (courier.status !== "idle" && courier.status !== "unknown") continue;
    const cell = latLngToCell(courier.lat, courier.lng, DEMAND_RESOLUTION);
    free.set(cell, (free.get(cell) ?? 0) + 1);
  }
  for (const order of orders) {
    if (order.finishedAt !== undefined || order.pickup === undefined) continue;
    if (phaseOf(order.status) !== "waiting" || order.courierId !== null) continue;
    const cell = latLngToCell(order.pickup.lat, order.pickup.lng, DEMAND_RESOLUTION);
    unassigned.set(cell, (unassigned.get(cell) ?? 0) + 1);
  }
  const cells = new Set([...free.keys(), ...unassigned.keys()]);
  return [...cells].map((cell) => {
    const f = free.get(cell) ?? 0;
    const u = unassigned.get(cell) ?? 0;
    const balance = f - u;
    return {
      cell,
      free: f,
      unassigned: u,
      balance,
      tone: balance < 0 ? "short" : balance > 0 ? "spare" : "even",
      level: Math.min(3, Math.max(1, Math.abs(balance))) as BalanceCell["level"],
      boundary: boundaryOf(cell),
    };
  });
}

/** A key that changes only when the balance shading would. */
export function balanceKey(cells: readonly BalanceCell[]): string {
  return cells
    .map((c) => `${c.cell}:${c.free}:${c.unassigned}`)
    .sort()
    .join(",");
}
