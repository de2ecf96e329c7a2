/**
 * Speeds learned from couriers' own traces, per H3 cell (res 8 by default, ~0.7 km²) and hour
 * of the week in Asia/Shanghai (0 = Monday 00:00).
 *
 * Each pair of fixes of a courier gives one sample: distance / time, credited to the cell of the
 * pair's midpoint and the hour of its first fix. Pairs are ignored when they are too far apart
 * in time (a gap says nothing about the road), not yet used when too short in distance (GPS
 * jitter dominates; see `observe`),
 * stationary (a courier standing still is at a store, a door or a lift: service time, which the
 * ETA counts separately; waiting at lights shows up in slow moving pairs, which are kept), or
 * faster than any courier rides (an outlier the fix filter let through).
 *
 * What is averaged is pace (seconds per metre), not speed: travel time is distance × pace, and
 * the mean of speeds overstates speed. The average is an EWMA whose weight is 1/n for the first
 * samples (a plain mean) and `alpha` after, so it follows changes (new roads, seasons).
 */
import { latLngToCell, getResolution, cellToParent } from "h3-js";
import { haversine, hourOfWeek } from "./coords.ts";

export interface SpeedTableOptions {
  /** H3 resolution, 7 or 8. 8. */
  resolution: number;
  /** EWMA weight once there are more than 1/alpha samples. 0.05. */
  alpha: number;
  /** Pairs further apart in time are ignored. 30 s. */
  maxGapSeconds: number;
  /** Pairs closer than this are too short to measure (jitter dominates). 20 m. */
  minMeters: number;
  /** Slower than this is standing still. 1 m/s. */
  minMps: number;
  /** Faster than this is an outlier. 35 m/s (126 km/h). */
  maxMps: number;
}

export function speedTableDefaults(options: Partial<SpeedTableOptions> = {}): SpeedTableOptions {
  return {
    resolution: 8,
    alpha: 0.05,
    maxGapSeconds: 30,
    minMeters: 20,
    minMps: 1,
    maxMps: 35,
    ...options,
  };
}

export interface TimedPoint {
  lat: number;
  lng: number;
  at: number;
}

export type SpeedObservation = "used" | "short" | "ignored";

export interface LearnedSpeed {
  mps: number;
  samples: number;
}

/** The persisted form: [cell, hourOfWeek, secondsPerMetre, samples] per learned slot. */
export interface SpeedTableJson {
  version: 1;
  resolution: number;
  entries: [string, number, number, number][];
}

const HOURS = 168;

export class SpeedTable {
  readonly options: SpeedTableOptions;
  /** Per cell: [pace, samples] × 168 hours. */
  private readonly cells = new Map<string, Float64Array>();

  constructor(options?: Partial<SpeedTableOptions>) {
    this.options = speedTableDefaults(options);
  }

  get resolution(): number {
    return this.options.resolution;
  }

  /** Cells with at least one sample. */
  get size(): number {
    return this.cells.size;
  }

  /**
   * Learns from two fixes of one courier. "used": learned; "ignored": not a travel sample;
   * "short": too close to measure yet. Fixes come every 1-3 s, often closer than `minMeters`,
   * so the caller keeps `from` while the answer is "short" and moves it on otherwise:
   * `if (speeds.observe(anchor, fix) !== "short") anchor = fix`.
   */
  observe(from: TimedPoint, to: TimedPoint): SpeedObservation {
    const o = this.options;
    const seconds = (to.at - from.at) / 1000;
    if (!(seconds > 0) || seconds > o.maxGapSeconds) return "ignored";
    const meters = haversine(from.lat, from.lng, to.lat, to.lng);
    if (!Number.isFinite(meters)) return "ignored";
    const mps = meters / seconds;
    if (mps > o.maxMps) return "ignored";
    if (meters < o.minMeters) return "short";
    if (mps < o.minMps) return "ignored";
    const cell = latLngToCell((from.lat + to.lat) / 2, (from.lng + to.lng) / 2, o.resolution);
    this.add(cell, hourOfWeek(from.at), seconds / meters, 1);
    return "used";
  }

  /** The learned speed in a cell (of this resolution or finer) at an hour of the week. */
  speedAt(cell: string, hourOfWeekIndex: number): LearnedSpeed | null {
    const res = getResolution(cell);
    const key =
      res === this.options.resolution
        ? cell
        : res > this.options.resolution
          ? cellToParent(cell, this.options.resolution)
          : null;
    if (key === null) return null;
    const slots = this.cells.get(key);
    if (slots === undefined) return null;
    const h = ((Math.floor(hourOfWeekIndex) % HOURS) + HOURS) % HOURS;
    const samples = slots[2 * h + 1]!;
    if (samples === 0) return null;
    return { mps: 1 / slots[2 * h]!, samples };
  }

  /** `speedAt` for a point and a time. */
  speedNear(lat: number, lng: number, at: number): LearnedSpeed | null {
    return this.speedAt(latLngToCell(lat, lng, this.options.resolution), hourOfWeek(at));
  }

  toJSON(): SpeedTableJson {
    const entries: [string, number, number, number][] = [];
    for (const [cell, slots] of this.cells) {
      for (let h = 0; h < HOURS; h++) {
        const samples = slots[2 * h + 1]!;
        if (samples > 0) entries.push([cell, h, slots[2 * h]!, samples]);
      }
    }
    return { version: 1, resolution: this.options.resolution, entries };
  }

  static fromJSON(json: SpeedTableJson, options?: Partial<SpeedTableOptions>): SpeedTable {
    const table = new SpeedTable({ ...options, resolution: json.resolution });
    for (const [cell, h, pace, samples] of json.entries) {
      if (!(pace > 0) || !(samples > 0) || !(h >= 0 && h < HOURS)) continue;
      let slots = table.cells.get(cell);
      if (slots === undefined) {
        slots = new Float64Array(2 * HOURS);
        table.cells.set(cell, slots);
      }
      slots[2 * h] = pace;
      slots[2 * h + 1] = samples;
    }
    return table;
  }

  private add(cell: string, h: number, pace: number, n: number): void {
    let slots = this.cells.get(cell);
    if (slots === undefined) {
      slots = new Float64Array(2 * HOURS);
      this.cells.set(cell, slots);
    }
    const samples = slots[2 * h + 1]! + n;
    const weight = Math.max(this.options.alpha, 1 / samples);
    slots[2 * h] = samples === 1 ? pace : slots[2 * h]! + weight * (pace - slots[2 * h]!);
    slots[2 * h + 1] = samples;
  }
}
