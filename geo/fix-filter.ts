/**
 * GPS sanity and smoothing for courier fixes. Stateless: the caller keeps the last accepted fix
 * (`previous`) and passes it back in, so the courier actor can persist it with its own state.
 *
 * Smoothing is a 1-D Kalman filter on position (the same gain for both axes, because a phone's
 * accuracy is a radius): the state is the previous smoothed position and its standard error,
 * which the accepted fix carries as `accuracy`. Between fixes the uncertainty grows by
 * `processNoiseMps` × elapsed seconds. It only smooths a courier standing still (waiting at a
 * store, in a lift lobby): when the fix looks like movement, the raw position is taken as it is,
 * so the marker never lags behind a moving courier. "Movement" is the device reporting a speed
 * ≥ `movingSpeedMps`, or the fix lying outside `movementGateSigma` combined standard errors of
 * the previous estimate. Slow movement hidden in the noise is still smoothed, but the smoothed
 * position is kept inside the new fix's own accuracy circle, so it never lags by more than that.
 *
 * A rejected fix does not advance `previous`; if `previous` itself was a bad fix that slipped
 * through, the implied speed towards the true position falls as time passes, so the filter
 * recovers by itself once (distance / elapsed) is plausible again.
 */
import { haversine } from "./coords.ts";

export interface FixFilterOptions {
  /** A fix stamped further than this ahead of `now` is refused (device clock wrong). 30 s. */
  maxFutureMs: number;
  /** A fix older than this is refused. 5 min. */
  maxAgeMs: number;
  /** Implied speed from the previous accepted fix above this is an impossible jump. 150 km/h. */
  maxSpeedKmh: number;
  /** Fixes with a worse accuracy radius than this are refused. 500 m. */
  maxAccuracyMeters: number;
  /** Accuracy assumed when a fix reports none, for the jump check and smoothing. 15 m. */
  assumedAccuracyMeters: number;
  /** How much of each fix's accuracy radius the jump check forgives (1 = one radius each). */
  jumpAccuracyAllowance: number;
  /** (0, 0) is what broken devices send when they have no fix; refuse it. true. */
  rejectNullIsland: boolean;
  /** Smoothing on/off. true. */
  smooth: boolean;
  /** Random-walk noise of a courier "standing still", m/s; larger smooths less. 0.5. */
  processNoiseMps: number;
  /** A device-reported speed at or above this means moving: no smoothing. 1 m/s. */
  movingSpeedMps: number;
  /** A fix further than this many combined standard errors from the estimate is movement. 2. */
  movementGateSigma: number;
}

export function fixFilterDefaults(options: Partial<FixFilterOptions> = {}): FixFilterOptions {
  return {
    maxFutureMs: 30_000,
    maxAgeMs: 5 * 60_000,
    maxSpeedKmh: 150,
    maxAccuracyMeters: 500,
    assumedAccuracyMeters: 15,
    jumpAccuracyAllowance: 1,
    rejectNullIsland: true,
    smooth: true,
    processNoiseMps: 0.5,
    movingSpeedMps: 1,
    movementGateSigma: 2,
    ...options,
  };
}

/** A fix as it arrives (WGS-84; convert GCJ-02 first). */
export interface RawFix {
  lat: number;
  lng: number;
  /** When the fix was taken, ms since the epoch. */
  at: number;
  /** Horizontal accuracy radius, metres. */
  accuracy?: number;
  /** m/s. */
  speed?: number;
  /** Degrees clockwise from north. */
  heading?: number;
}

/**
 * An accepted fix: `lat`/`lng` are the smoothed position and `accuracy` its standard error;
 * `raw` is the position the device reported.
 */
export interface AcceptedFix {
  lat: number;
  lng: number;
  at: number;
  accuracy?: number;
  speed?: number;
  heading?: number;
  raw: { lat: number; lng: number };
}

export type FixRejection =
  | "not_finite"
  | "out_of_range"
  | "future"
  | "stale"
  | "out_of_order"
  | "impossible_jump"
  | "low_accuracy";

export type FixVerdict =
  { ok: true; fix: AcceptedFix } | { ok: false; code: FixRejection; message: string };

export class FixFilter {
  readonly options: FixFilterOptions;

  constructor(options?: Partial<FixFilterOptions>) {
    this.options = fixFilterDefaults(options);
  }

  check(previous: AcceptedFix | null, fix: RawFix, now: number): FixVerdict {
    const o = this.options;
    const { lat, lng, at, accuracy, speed, heading } = fix;
    if (
      !Number.isFinite(lat) ||
      !Number.isFinite(lng) ||
      !Number.isFinite(at) ||
      (accuracy !== undefined && !Number.isFinite(accuracy)) ||
      (speed !== undefined && !Number.isFinite(speed)) ||
      (heading !== undefined && !Number.isFinite(heading))
    ) {
      return reject("not_finite", "a coordinate, time, accuracy, speed or heading is not finite");
    }
    if (lat < -90 || lat > 90 || lng < -180 || lng > 180) {
      return reject("out_of_range", `lat ${lat}, lng ${lng} is outside the globe`);
    }
    if (o.rejectNullIsland && lat === 0 && lng === 0) {
      return reject("out_of_range", "0,0 is a device without a fix");
    }
    if (
      (accuracy !== undefined && accuracy < 0) ||
      (speed !== undefined && speed < 0) ||
      (heading !== undefined && (heading < 0 || heading > 360))
    ) {
      return reject("out_of_range", "negative accuracy or speed, or heading outside 0..360");
    }
    if (at - now > o.maxFutureMs) {
      return reject("future", `fix is ${Math.round((at - now) / 1000)} s ahead of the server`);
    }
    if (now - at > o.maxAgeMs) {
      return reject("stale", `fix is ${Math.round((now - at) / 1000)} s old`);
    }
    if (previous !== null && at <= previous.at) {
      return reject("out_of_order", "fix is not newer than the last accepted one");
    }
    if (accuracy !== undefined && accuracy > o.maxAccuracyMeters) {
      return reject("low_accuracy", `accuracy ${Math.round(accuracy)} m`);
    }

    const acc = accuracy ?? o.assumedAccuracyMeters;
    if (previous === null) {
      return accept({ ...fix, raw: { lat, lng } });
    }

    const seconds = (at - previous.at) / 1000;
    const hop = haversine(previous.raw.lat, previous.raw.lng, lat, lng);
    // A jittery short hop is forgiven up to both accuracy radii.
    const prevAcc = previous.accuracy ?? o.assumedAccuracyMeters;
    const forgiven = o.jumpAccuracyAllowance * (acc + prevAcc);
    const impliedKmh = (Math.max(0, hop - forgiven) / seconds) * 3.6;
    if (impliedKmh > o.maxSpeedKmh) {
      return reject(
        "impossible_jump",
        `${Math.round(hop)} m in ${seconds.toFixed(1)} s is ${Math.round(impliedKmh)} km/h`,
      );
    }

    if (!o.smooth) return accept({ ...fix, raw: { lat, lng } });

    // Kalman step on the smoothed position.
    const variance = prevAcc * prevAcc + (o.processNoiseMps * seconds) ** 2;
    const measured = acc * acc;
    const fromEstimate = haversine(previous.lat, previous.lng, lat, lng);
    const moving =
      (speed !== undefined && speed >= o.movingSpeedMps) ||
      fromEstimate > o.movementGateSigma * Math.sqrt(variance + measured);
    if (moving) return accept({ ...fix, raw: { lat, lng } });

    const gain = variance / (variance + measured);
    let smoothedLat = previous.lat + gain * (lat - previous.lat);
    let smoothedLng = previous.lng + gain * (lng - previous.lng);
    const lag = (1 - gain) * fromEstimate;
    if (lag > acc) {
      // Pull the estimate onto the fix's accuracy circle, towards the fix.
      const keep = acc / lag;
      smoothedLat = lat + (smoothedLat - lat) * keep;
      smoothedLng = lng + (smoothedLng - lng) * keep;
    }
    const out: AcceptedFix = {
      lat: smoothedLat,
      lng: smoothedLng,
      at,
      accuracy: Math.sqrt((1 - gain) * variance),
      raw: { lat, lng },
    };
    if (speed !== undefined) out.speed = speed;
    if (heading !== undefined) out.heading = heading;
    return accept(out);
  }
}

function accept(fix: AcceptedFix): FixVerdict {
  return { ok: true, fix };
}

function reject(code: FixRejection, message: string): FixVerdict {
  return { ok: false, code, message };
}
