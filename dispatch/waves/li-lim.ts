/**
 * Li & Lim PDPTW instances (the SINTEF TOP distribution, tab-separated). Node ids are kept as
 * in the file. Distance is Euclidean and unrounded; travel time = distance (the standard's
 * convention, the one behind the best-known costs).
 */
import { InvalidInstanceError } from "./model.ts";
import type { PdptwInstance } from "./types.ts";

/** The best-known solution of an instance, as recorded in BKS.json. */
export interface BestKnown {
  readonly vehicles: number;
  readonly cost: number;
}

export function parseLiLim(text: string, name: string): PdptwInstance {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => l.split(/\s+/).map(Number));
  const head = lines[0];
  if (!head || head.length < 2 || head.some((v) => !Number.isFinite(v))) {
    throw new InvalidInstanceError(`${name}: first line must be "vehicles capacity speed"`);
  }
  const rows = lines.slice(1);
  const size = rows.length;
  const x = new Float64Array(size);
  const y = new Float64Array(size);
  const demand = new Float64Array(size);
  const ready = new Float64Array(size);
  const due = new Float64Array(size);
  const service = new Float64Array(size);
  const partner = new Int32Array(size).fill(-1);
  const isPickup = new Uint8Array(size);
  for (const row of rows) {
    if (row.length < 9 || row.some((v) => !Number.isFinite(v))) {
      throw new InvalidInstanceError(
        `${name}: a task line needs 9 numbers, got "${row.join(" ")}"`,
      );
    }
    const [id, px, py, q, e, l, s, pickupSibling, deliverySibling] = row as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    if (!Number.isInteger(id) || id < 0 || id >= size) {
      throw new InvalidInstanceError(`${name}: task id ${id} outside 0..${size - 1}`);
    }
    x[id] = px;
    y[id] = py;
    demand[id] = q;
    ready[id] = e;
    due[id] = l;
    service[id] = s;
    if (id === 0) continue;
    if (pickupSibling === 0) {
      isPickup[id] = 1;
      partner[id] = deliverySibling;
    } else {
      partner[id] = pickupSibling;
    }
  }
  for (let i = 1; i < size; i++) {
    const j = partner[i]!;
    if (j <= 0 || j >= size || partner[j] !== i || isPickup[i] === isPickup[j]) {
      throw new InvalidInstanceError(`${name}: task ${i} has no matching sibling`);
    }
  }
  const dist = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      dist[i * size + j] = Math.hypot(x[i]! - x[j]!, y[i]! - y[j]!);
    }
  }
  return {
    name,
    size,
    dimensions: ["load"],
    capacity: Float64Array.of(head[1]!),
    demand,
    ready,
    due,
    service,
    partner,
    isPickup,
    time: dist,
    cost: dist,
    vehicles: head[0]!,
  };
}

/** BKS.json entries by instance name. */
export function parseBestKnown(json: string): Map<string, BestKnown> {
  const raw = JSON.parse(json) as Record<
    string,
    { solved_with_vehicles: number; best_known_cost: number }
  >;
  const out = new Map<string, BestKnown>();
  for (const [name, v] of Object.entries(raw)) {
    out.set(name, { vehicles: v.solved_with_vehicles, cost: v.best_known_cost });
  }
  return out;
}
