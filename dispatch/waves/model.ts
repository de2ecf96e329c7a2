/**
 * Builds a `PdptwInstance` from a description in domain terms: stops on a travel matrix,
 * requests with loads in named dimensions, a compartment class per request. The Li & Lim
 * parser builds its instances directly (li-lim.ts); waves come through here.
 */
import type { PdptwInstance } from "./types.ts";

/** Named error for a description the planner cannot model. */
export class InvalidInstanceError extends Error {
  override readonly name = "InvalidInstanceError";
}

/** A travel matrix over `locations` places, row-major. `cost` defaults to `time`. */
export interface TravelMatrix {
  readonly locations: number;
  readonly time: ArrayLike<number>;
  readonly cost?: ArrayLike<number>;
}

export interface StopSpec {
  /** Index of the place in the travel matrix. */
  readonly at: number;
  readonly ready: number;
  readonly due: number;
  readonly service: number;
}

export interface RequestSpec {
  readonly pickup: StopSpec;
  readonly delivery: StopSpec;
  /** Load per capacity dimension (missing dimensions count 0). */
  readonly load: Readonly<Record<string, number>>;
  /** Compartment class (e.g. "frozen"); none for goods that ride anywhere. */
  readonly compartment?: string;
}

export interface FleetSpec {
  readonly vehicles: number;
  /** Capacity per dimension, e.g. `{ weight: 1200, volume: 8 }`. */
  readonly capacity: Readonly<Record<string, number>>;
  /** Room per compartment class, measured in `compartmentMeasure`, e.g. `{ frozen: 2, chilled: 3 }`. */
  readonly compartments?: Readonly<Record<string, number>>;
  /** The load dimension compartments are measured in. Default "volume". */
  readonly compartmentMeasure?: string;
}

export interface PdptwSpec {
  readonly name: string;
  /** The depot: where vans start and end, with the earliest departure and latest return. */
  readonly depot: { readonly at: number; readonly ready: number; readonly due: number };
  readonly requests: readonly RequestSpec[];
  readonly fleet: FleetSpec;
  readonly travel: TravelMatrix;
}

/** Travel matrix of Euclidean distances between points (time = cost = distance, unrounded). */
export function euclideanTravel(points: readonly { x: number; y: number }[]): TravelMatrix {
  const n = points.length;
  const time = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const a = points[i]!;
    for (let j = 0; j < n; j++) {
      const b = points[j]!;
      time[i * n + j] = Math.hypot(a.x - b.x, a.y - b.y);
    }
  }
  return { locations: n, time };
}

/**
 * Nodes are numbered depot 0, then request k's pickup 2k+1 and delivery 2k+2. Compartment
 * classes become capacity dimensions named `compartment:<class>`, so the search checks them as
 * it checks weight. Travel times are closed under shortest paths (Floyd–Warshall on the nodes)
 * because the search relies on removing a stop never making a later stop later; road matrices
 * break the triangle inequality by small amounts.
 */
export function buildInstance(spec: PdptwSpec): PdptwInstance {
  const { fleet, requests, travel } = spec;
  const measure = fleet.compartmentMeasure ?? "volume";
  const dims = Object.keys(fleet.capacity);
  const classes = Object.keys(fleet.compartments ?? {});
  for (const r of requests) {
    for (const d of Object.keys(r.load)) {
      if (!dims.includes(d)) throw new InvalidInstanceError(`load in unknown dimension ${d}`);
    }
    if (r.compartment !== undefined && !classes.includes(r.compartment)) {
      throw new InvalidInstanceError(`no van has a ${r.compartment} compartment`);
    }
  }
  const dimensions = [...dims, ...classes.map((c) => `compartment:${c}`)];
  const D = dimensions.length;
  const size = 1 + 2 * requests.length;
  const capacity = new Float64Array(D);
  dims.forEach((d, i) => (capacity[i] = fleet.capacity[d]!));
  classes.forEach((c, i) => (capacity[dims.length + i] = fleet.compartments![c]!));
  const demand = new Float64Array(size * D);
  const ready = new Float64Array(size);
  const due = new Float64Array(size);
  const service = new Float64Array(size);
  const partner = new Int32Array(size).fill(-1);
  const isPickup = new Uint8Array(size);
  const place = new Int32Array(size);
  place[0] = spec.depot.at;
  ready[0] = spec.depot.ready;
  due[0] = spec.depot.due;
  requests.forEach((r, k) => {
    const p = 2 * k + 1;
    const d = p + 1;
    partner[p] = d;
    partner[d] = p;
    isPickup[p] = 1;
    for (const [stop, node] of [
      [r.pickup, p],
      [r.delivery, d],
    ] as const) {
      if (stop.at < 0 || stop.at >= travel.locations) {
        throw new InvalidInstanceError(`stop at ${stop.at} is outside the travel matrix`);
      }
      place[node] = stop.at;
      ready[node] = stop.ready;
      due[node] = stop.due;
      service[node] = stop.service;
    }
    dims.forEach((dim, i) => {
      const q = r.load[dim] ?? 0;
      demand[p * D + i] = q;
      demand[d * D + i] = -q;
    });
    if (r.compartment !== undefined) {
      const i = dims.length + classes.indexOf(r.compartment);
      const q = r.load[measure] ?? 0;
      demand[p * D + i] = q;
      demand[d * D + i] = -q;
    }
  });
  const L = travel.locations;
  const time = new Float64Array(size * size);
  const cost = new Float64Array(size * size);
  const costSource = travel.cost ?? travel.time;
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      time[i * size + j] = i === j ? 0 : travel.time[place[i]! * L + place[j]!]!;
      cost[i * size + j] = i === j ? 0 : costSource[place[i]! * L + place[j]!]!;
    }
  }
  for (let k = 0; k < size; k++) {
    for (let i = 0; i < size; i++) {
      const ik = time[i * size + k]!;
      for (let j = 0; j < size; j++) {
        const via = ik + time[k * size + j]!;
        if (via < time[i * size + j]!) time[i * size + j] = via;
      }
    }
  }
  return {
    name: spec.name,
    size,
    dimensions,
    capacity,
    demand,
    ready,
    due,
    service,
    partner,
    isPickup,
    time,
    cost,
    vehicles: fleet.vehicles,
  };
}

/** Pickup nodes of an instance, in node order. */
export function pickupsOf(instance: PdptwInstance): number[] {
  const out: number[] = [];
  for (let i = 1; i < instance.size; i++) if (instance.isPickup[i] === 1) out.push(i);
  return out;
}
