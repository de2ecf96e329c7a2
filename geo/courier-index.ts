/**
 * Where a market's couriers are, on H3 (res 9 by default, cells of ~0.1 km², edge ~174 m).
 *
 * - `upsert` is O(1). Each courier remembers its cell; each cell knows its centre and the radius
 *   of the circle inscribed in it. A move that stays inside that circle (about 90 % of a cell's
 *   area, and nearly every 1-3 s GPS update) is decided by a planar distance to the centre with
 *   no h3 call at all; otherwise `latLngToCell` decides, and only a change of cell touches set
 *   membership (swap-remove from one array, push onto another).
 * - `nearest` searches rings of cells around the query's cell, widening until k couriers are
 *   found and the distance from the query to the outside of the searched disk is no less than
 *   the k-th distance; candidates are ranked by exact haversine distance. Rings are cached per
 *   cell as arrays of cell objects, so a query does one `latLngToCell` and no other allocation
 *   than its result. When the next ring would hold more cells than there are couriers, it scans
 *   all couriers instead (sparse markets).
 * Last write wins: ordering fixes is the caller's job (`FixFilter` refuses out-of-order ones).
 */
import { cellToBoundary, cellToLatLng, cellToParent, gridRing, latLngToCell } from "h3-js";
import { assertLatLng, haversine } from "./coords.ts";

const M_PER_DEG = 111_195; // metres per degree of latitude on the mean sphere
const RAD = Math.PI / 180;
/** Metres per degree of latitude on the sphere `haversine` uses (2πR / 360). */
const M_PER_DEG_EXACT = (6_371_008.8 * Math.PI) / 180;
/** The inscribed radius is used at 98 %, the edge length at 90 %: margins for cell distortion. */
const INNER_MARGIN = 0.98;
const EDGE_MARGIN = 0.9;
/** Rings beyond this are not cached (a sparse market would otherwise cache thousands). */
const MAX_CACHED_RING = 6;

interface Cell {
  readonly id: string;
  members: Courier[];
  /** Geometry, filled on first use as a courier's cell or a query's origin. */
  geometry: boolean;
  lat: number;
  lng: number;
  cosLat: number;
  /** Squared inscribed radius with margin, m². */
  inner2: number;
  inner: number;
  /** Shortest boundary edge with margin, m. */
  edge: number;
  /** rings[r] = the cells at grid distance r (r ≥ 1), cached up to MAX_CACHED_RING. */
  rings: Cell[][];
}

interface Courier {
  readonly id: string;
  lat: number;
  lng: number;
  at: number;
  cell: Cell;
  slot: number;
}

export interface CourierIndexOptions {
  /** H3 resolution of the index. 9. */
  resolution?: number;
}

export interface CourierPlace {
  lat: number;
  lng: number;
  at: number;
  cell: string;
}

export interface CourierDistance {
  id: string;
  meters: number;
}

export class CourierIndex {
  readonly resolution: number;
  private readonly couriers = new Map<string, Courier>();
  private readonly cells = new Map<string, Cell>();
  // Scratch space for the top-k of `nearest`, reused across queries.
  private bestMeters = new Float64Array(16);
  private bestCouriers: (Courier | undefined)[] = new Array<Courier | undefined>(16);

  constructor(options: CourierIndexOptions = {}) {
    this.resolution = options.resolution ?? 9;
  }

  get size(): number {
    return this.couriers.size;
  }

  upsert(id: string, lat: number, lng: number, at: number): void {
    assertLatLng(lat, lng);
    const courier = this.couriers.get(id);
    if (courier === undefined) {
      const cell = this.cellWithGeometry(latLngToCell(lat, lng, this.resolution));
      const added: Courier = { id, lat, lng, at, cell, slot: cell.members.length };
      cell.members.push(added);
      this.couriers.set(id, added);
      return;
    }
    courier.lat = lat;
    courier.lng = lng;
    courier.at = at;
    const cell = courier.cell;
    const dy = (lat - cell.lat) * M_PER_DEG;
    const dx = (lng - cell.lng) * M_PER_DEG * cell.cosLat;
    if (dx * dx + dy * dy < cell.inner2) return;
    const cellId = latLngToCell(lat, lng, this.resolution);
    if (cellId === cell.id) return;
    detach(courier);
    const next = this.cellWithGeometry(cellId);
    courier.cell = next;
    courier.slot = next.members.length;
    next.members.push(courier);
  }

  remove(id: string): boolean {
    const courier = this.couriers.get(id);
    if (courier === undefined) return false;
    detach(courier);
    this.couriers.delete(id);
    return true;
  }

  get(id: string): CourierPlace | null {
    const c = this.couriers.get(id);
    return c === undefined ? null : { lat: c.lat, lng: c.lng, at: c.at, cell: c.cell.id };
  }

  has(id: string): boolean {
    return this.couriers.has(id);
  }

  /** Every courier, in no particular order. */
  *entries(): IterableIterator<[string, CourierPlace]> {
    for (const c of this.couriers.values()) {
      yield [c.id, { lat: c.lat, lng: c.lng, at: c.at, cell: c.cell.id }];
    }
  }

  /** The k nearest couriers to a point, nearest first, optionally no further than maxMeters. */
  nearest(lat: number, lng: number, k: number, maxMeters = Infinity): CourierDistance[] {
    assertLatLng(lat, lng);
    if (k <= 0 || this.couriers.size === 0) return [];
    if (this.bestMeters.length < k) {
      this.bestMeters = new Float64Array(k);
      this.bestCouriers = new Array<Courier | undefined>(k);
    }
    const best = this.bestMeters;
    const bestC = this.bestCouriers;
    let found = 0;
    const cosQ = Math.cos(lat * RAD);
    const origin = this.cellWithGeometry(latLngToCell(lat, lng, this.resolution));
    const offset = planar(origin, lat, lng);
    const size = this.couriers.size;

    for (let r = 0; ; r++) {
      let cells: Cell[] | null = null;
      if (r > 0) {
        // A scan of every courier is cheaper than a ring with more cells than couriers.
        if (6 * r > size) {
          found = 0;
          for (const c of this.couriers.values()) {
            found = offer(c, lat, lng, cosQ, k, maxMeters, best, bestC, found);
          }
          break;
        }
        cells = this.ring(origin, r);
      }
      if (cells === null) {
        found = scanCell(origin, lat, lng, cosQ, k, maxMeters, best, bestC, found);
      } else {
        for (let i = 0; i < cells.length; i++) {
          found = scanCell(cells[i]!, lat, lng, cosQ, k, maxMeters, best, bestC, found);
        }
      }
      // Nothing outside the disk of radius r is closer than `reach`.
      const reach = r === 0 ? origin.inner - offset : (1.5 * r + 0.5) * origin.edge - offset;
      if (reach >= maxMeters) break;
      if (found === k && best[k - 1]! <= reach) break;
    }

    const out: CourierDistance[] = new Array<CourierDistance>(found);
    for (let i = 0; i < found; i++) {
      out[i] = { id: bestC[i]!.id, meters: best[i]! };
      bestC[i] = undefined;
    }
    return out;
  }

  /** Every courier within `meters` of a point, nearest first. */
  withinMeters(lat: number, lng: number, meters: number): CourierDistance[] {
    assertLatLng(lat, lng);
    const out: CourierDistance[] = [];
    if (this.couriers.size === 0 || !(meters >= 0)) return out;
    const origin = this.cellWithGeometry(latLngToCell(lat, lng, this.resolution));
    const offset = planar(origin, lat, lng);
    const collect = (c: Courier) => {
      const d = haversine(lat, lng, c.lat, c.lng);
      if (d <= meters) out.push({ id: c.id, meters: d });
    };
    for (let r = 0; ; r++) {
      if (r > 0 && 6 * r > this.couriers.size) {
        out.length = 0;
        for (const c of this.couriers.values()) collect(c);
        break;
      }
      const cells = r === 0 ? [origin] : this.ring(origin, r);
      for (const cell of cells) for (const c of cell.members) collect(c);
      const reach = r === 0 ? origin.inner - offset : (1.5 * r + 0.5) * origin.edge - offset;
      if (reach >= meters) break;
    }
    return out.sort((a, b) => a.meters - b.meters);
  }

  /**
   * Couriers per cell at a resolution (default the index's), for supply shading. Coarser
   * resolutions aggregate parents; finer ones re-index each courier.
   */
  cellCounts(resolution = this.resolution): Map<string, number> {
    const counts = new Map<string, number>();
    const add = (key: string, n: number) => counts.set(key, (counts.get(key) ?? 0) + n);
    if (resolution > this.resolution) {
      for (const c of this.couriers.values()) add(latLngToCell(c.lat, c.lng, resolution), 1);
      return counts;
    }
    for (const cell of this.cells.values()) {
      const n = cell.members.length;
      if (n === 0) continue;
      add(resolution === this.resolution ? cell.id : cellToParent(cell.id, resolution), n);
    }
    return counts;
  }

  private cell(id: string): Cell {
    let cell = this.cells.get(id);
    if (cell === undefined) {
      cell = {
        id,
        members: [],
        geometry: false,
        lat: 0,
        lng: 0,
        cosLat: 1,
        inner2: -1,
        inner: 0,
        edge: 0,
        rings: [],
      };
      this.cells.set(id, cell);
    }
    return cell;
  }

  private cellWithGeometry(id: string): Cell {
    const cell = this.cell(id);
    if (!cell.geometry) measure(cell);
    return cell;
  }

  private ring(origin: Cell, r: number): Cell[] {
    const cached = origin.rings[r];
    if (cached !== undefined) return cached;
    const cells = gridRing(origin.id, r).map((id) => this.cell(id));
    if (r <= MAX_CACHED_RING) origin.rings[r] = cells;
    return cells;
  }
}

function detach(courier: Courier): void {
  const members = courier.cell.members;
  const last = members.pop()!;
  if (last !== courier) {
    members[courier.slot] = last;
    last.slot = courier.slot;
  }
}

/** Centre, inscribed radius and shortest edge of a cell, in a local plane around its centre. */
function measure(cell: Cell): void {
  const [lat, lng] = cellToLatLng(cell.id);
  const cosLat = Math.cos(lat * RAD);
  const boundary = cellToBoundary(cell.id).map(([vLat, vLng]) => ({
    x: (vLng - lng) * M_PER_DEG * cosLat,
    y: (vLat - lat) * M_PER_DEG,
  }));
  let inner = Infinity;
  let edge = Infinity;
  for (let i = 0; i < boundary.length; i++) {
    const a = boundary[i]!;
    const b = boundary[(i + 1) % boundary.length]!;
    const ex = b.x - a.x;
    const ey = b.y - a.y;
    const len = Math.hypot(ex, ey);
    edge = Math.min(edge, len);
    // Distance from the centre (origin of the plane) to the edge's line.
    inner = Math.min(inner, Math.abs(a.x * ey - a.y * ex) / len);
  }
  cell.lat = lat;
  cell.lng = lng;
  cell.cosLat = cosLat;
  cell.inner = inner * INNER_MARGIN;
  cell.inner2 = cell.inner * cell.inner;
  cell.edge = edge * EDGE_MARGIN;
  cell.geometry = true;
}

function planar(cell: Cell, lat: number, lng: number): number {
  const dy = (lat - cell.lat) * M_PER_DEG;
  const dx = (lng - cell.lng) * M_PER_DEG * cell.cosLat;
  return Math.sqrt(dx * dx + dy * dy);
}

function scanCell(
  cell: Cell,
  lat: number,
  lng: number,
  cosQ: number,
  k: number,
  maxMeters: number,
  best: Float64Array,
  bestC: (Courier | undefined)[],
  found: number,
): number {
  const members = cell.members;
  for (let i = 0; i < members.length; i++) {
    found = offer(members[i]!, lat, lng, cosQ, k, maxMeters, best, bestC, found);
  }
  return found;
}

/** Haversine from the query (cos of its latitude precomputed) and insertion into the top k. */
function offer(
  c: Courier,
  lat: number,
  lng: number,
  cosQ: number,
  k: number,
  maxMeters: number,
  best: Float64Array,
  bestC: (Courier | undefined)[],
  found: number,
): number {
  const dLat = c.lat - lat;
  // The latitude difference alone is a lower bound on the distance: skip the trigonometry.
  if (found === k && Math.abs(dLat) * M_PER_DEG_EXACT >= best[k - 1]!) return found;
  const s1 = Math.sin(dLat * RAD * 0.5);
  const s2 = Math.sin((c.lng - lng) * RAD * 0.5);
  const h = s1 * s1 + cosQ * Math.cos(c.lat * RAD) * s2 * s2;
  const d = 12_742_017.6 * Math.asin(Math.min(1, Math.sqrt(h)));
  if (d > maxMeters) return found;
  if (found === k && d >= best[k - 1]!) return found;
  let i = found === k ? k - 1 : found++;
  while (i > 0 && best[i - 1]! > d) {
    best[i] = best[i - 1]!;
    bestC[i] = bestC[i - 1];
    i--;
  }
  best[i] = d;
  bestC[i] = c;
  return found;
}
