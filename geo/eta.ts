/**
 * ETA as a window. Travel time comes from a `TravelTimeSource` (OSRM) when one is configured,
 * leg by leg, with the model standing in for any leg the source cannot answer; else from the
 * model: straight-line distance × detour factor ÷ speed, where the speed is the mode's default
 * or, for each ~250 m stretch of the straight line whose cell has at least `minSamples` learned
 * samples at that hour of the week, the learned speed.
 *
 * The window: p50 is start + travel + service; p90 is start + (p50 − start) × f, where f is the
 * 90th percentile of the ratio actual ÷ predicted duration, learned per source from
 * `recordOutcome` by stochastic-approximation quantile tracking in log space
 * (q ← q + η·(τ − 1[x ≤ q]), x = ln ratio, fixed step η so it follows drift; it settles where
 * a fraction τ of outcomes fall at or below q). The median ratio is tracked the same way as a
 * diagnostic of bias (`calibration()`); it is not applied to p50, so that every recorded
 * outcome is measured against the same uncorrected model.
 */
import { latLngToCell } from "h3-js";
import { haversine, hourOfWeek, interpolate } from "./coords.ts";
import type { TravelTimeSource } from "./osrm.ts";
import type { SpeedTable } from "./speeds.ts";
import type { LatLng, Mode } from "./types.ts";

/** Typical door-to-door speeds in Chinese regional cities, lights and traffic included, m/s. */
export const DEFAULT_SPEEDS: Readonly<Record<Mode, number>> = {
  foot: 1.3,
  bike: 3.5,
  ebike: 4.5,
  car: 6.5,
  van: 6,
};

export type EtaSource = "osrm" | "model";

export interface EtaModelOptions {
  source?: TravelTimeSource | null;
  /** Learned speeds used for every mode without its own table. */
  speeds?: SpeedTable;
  /** Learned speeds per mode (e.g. e-bike traces for ebike, van traces for van). */
  speedTables?: Partial<Record<Mode, SpeedTable>>;
  /** Road distance ÷ straight-line distance. 1.3. */
  detourFactor?: number;
  speedsByMode?: Partial<Record<Mode, number>>;
  /** Learned samples needed before a cell's speed replaces the default. 5. */
  minSamples?: number;
  /** Length of the straight-line stretches looked up in the speed table. 250 m. */
  stretchMeters?: number;
  /** p90 ÷ p50 duration before any outcome is recorded. 1.35. */
  initialSpread?: number;
  /** Quantile-tracking step, in log units. 0.03. */
  calibrationStep?: number;
  /** A persisted calibration (`calibrationToJSON()`). */
  calibration?: EtaCalibrationJson;
}

export interface EtaLeg {
  from: LatLng;
  to: LatLng;
}

export interface EtaEstimate {
  /** Epoch ms. */
  startAt: number;
  p50: number;
  p90: number;
  meters: number;
  /** p50 − startAt in seconds: travel plus service. */
  seconds: number;
  source: EtaSource;
}

interface Quantiles {
  /** ln of the median and 90th-percentile ratio actual ÷ predicted. */
  q50: number;
  q90: number;
  samples: number;
}

export interface EtaCalibrationJson {
  version: 1;
  osrm: Quantiles;
  model: Quantiles;
}

export interface EtaCalibration {
  /** Median of actual ÷ predicted duration (1 = unbiased). */
  median: number;
  /** The p90 factor in use. */
  p90: number;
  samples: number;
}

export class EtaModel {
  private readonly source: TravelTimeSource | null;
  private readonly speeds: SpeedTable | null;
  private readonly speedTables: Partial<Record<Mode, SpeedTable>>;
  private readonly detour: number;
  private readonly defaultSpeeds: Record<Mode, number>;
  private readonly minSamples: number;
  private readonly stretchMeters: number;
  private readonly step: number;
  private readonly quantiles: Record<EtaSource, Quantiles>;

  constructor(options: EtaModelOptions = {}) {
    this.source = options.source ?? null;
    this.speeds = options.speeds ?? null;
    this.speedTables = options.speedTables ?? {};
    this.detour = options.detourFactor ?? 1.3;
    this.defaultSpeeds = { ...DEFAULT_SPEEDS, ...options.speedsByMode };
    this.minSamples = options.minSamples ?? 5;
    this.stretchMeters = options.stretchMeters ?? 250;
    this.step = options.calibrationStep ?? 0.03;
    const spread = Math.log(options.initialSpread ?? 1.35);
    const fresh = (): Quantiles => ({ q50: 0, q90: spread, samples: 0 });
    this.quantiles = {
      osrm: { ...(options.calibration?.osrm ?? fresh()) },
      model: { ...(options.calibration?.model ?? fresh()) },
    };
  }

  /** Arrival window at the end of the last leg. `serviceSeconds[i]` is spent at `legs[i].to`. */
  async estimate(
    legs: EtaLeg[],
    mode: Mode,
    startAt: number,
    serviceSeconds: number[] = [],
  ): Promise<EtaEstimate> {
    const routed =
      this.source === null
        ? legs.map(() => null)
        : await Promise.all(
            legs.map((leg) => this.source!.route(leg.from, leg.to, mode).catch(() => null)),
          );
    let seconds = 0;
    let meters = 0;
    let allRouted = legs.length > 0 && this.source !== null;
    for (let i = 0; i < legs.length; i++) {
      const leg = legs[i]!;
      const r = routed[i];
      if (r !== null && r !== undefined && Number.isFinite(r.seconds) && r.seconds >= 0) {
        seconds += r.seconds;
        meters += r.meters;
      } else {
        allRouted = false;
        const m = this.modelLeg(leg.from, leg.to, mode, startAt + seconds * 1000);
        seconds += m.seconds;
        meters += m.meters;
      }
      seconds += Math.max(0, serviceSeconds[i] ?? 0);
    }
    return this.window(startAt, seconds, meters, allRouted ? "osrm" : "model");
  }

  /** The model alone, synchronously, for hot paths (dispatch cost evaluation). */
  estimateStraight(from: LatLng, to: LatLng, mode: Mode, startAt: number): EtaEstimate {
    const m = this.modelLeg(from, to, mode, startAt);
    return this.window(startAt, m.seconds, m.meters, "model");
  }

  /** Learns the window's spread from what happened. Ignores nonsense (arrival before start). */
  recordOutcome(
    predicted: { p50: number; p90: number; startAt: number; source?: EtaSource },
    actualArrival: number,
  ): void {
    const predictedMs = predicted.p50 - predicted.startAt;
    const actualMs = actualArrival - predicted.startAt;
    if (!(predictedMs > 0) || !(actualMs > 0)) return;
    const x = Math.max(-3, Math.min(3, Math.log(actualMs / predictedMs)));
    const q = this.quantiles[predicted.source ?? "model"];
    q.q50 += this.step * (0.5 - (x <= q.q50 ? 1 : 0));
    q.q90 += this.step * (0.9 - (x <= q.q90 ? 1 : 0));
    q.samples += 1;
  }

  calibration(source: EtaSource = "model"): EtaCalibration {
    const q = this.quantiles[source];
    return { median: Math.exp(q.q50), p90: this.spread(source), samples: q.samples };
  }

  calibrationToJSON(): EtaCalibrationJson {
    return { version: 1, osrm: { ...this.quantiles.osrm }, model: { ...this.quantiles.model } };
  }

  private spread(source: EtaSource): number {
    // The window never closes below p50, and never opens absurdly wide on a bad streak.
    return Math.min(4, Math.max(1, Math.exp(this.quantiles[source].q90)));
  }

  private window(startAt: number, seconds: number, meters: number, source: EtaSource): EtaEstimate {
    const ms = seconds * 1000;
    return {
      startAt,
      p50: startAt + ms,
      p90: startAt + ms * this.spread(source),
      meters,
      seconds,
      source,
    };
  }

  private modelLeg(from: LatLng, to: LatLng, mode: Mode, startAt: number) {
    const straight = haversine(from.lat, from.lng, to.lat, to.lng);
    const meters = straight * this.detour;
    const fallback = this.defaultSpeeds[mode];
    const table = this.speedTables[mode] ?? this.speeds;
    if (table === null || table.size === 0 || straight === 0) {
      return { seconds: meters / fallback, meters };
    }
    const stretches = Math.max(1, Math.ceil(straight / this.stretchMeters));
    const stretchMeters = meters / stretches;
    let seconds = 0;
    for (let i = 0; i < stretches; i++) {
      const mid = interpolate(from, to, (i + 0.5) / stretches);
      const cell = latLngToCell(mid.lat, mid.lng, table.resolution);
      const learned = table.speedAt(cell, hourOfWeek(startAt + seconds * 1000));
      const mps = learned !== null && learned.samples >= this.minSamples ? learned.mps : fallback;
      seconds += stretchMeters / mps;
    }
    return { seconds, meters };
  }
}
