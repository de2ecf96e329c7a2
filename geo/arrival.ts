/**
 * Arrival at a place (a store, a customer's door, a pickup locker): a geofence with a dwell time
 * and exit hysteresis. The logic is a pure step over a small JSON state (`arrivalStep`), so an
 * actor can keep the state in its own persisted state; `ArrivalDetector` wraps it for callers
 * that hold it in memory. One state per place: a courier with three stops has three.
 *
 * - Arrived: the courier has been inside `radiusMeters` continuously for `dwellSeconds`, by the
 *   fixes' own timestamps. Stepping outside the radius before that restarts the dwell.
 * - Left: after arriving, the courier has been beyond `exitRadiusMeters` (larger than the entry
 *   radius, so GPS jitter at the edge cannot flap arrived/left) for `exitSeconds`.
 * - Fixes older than the last one seen, and fixes with an accuracy worse than
 *   `maxAccuracyMeters`, change nothing.
 * `arrived` and `left` are edges: true only on the fix that crosses the threshold.
 */
import { haversine } from "./coords.ts";
import type { LatLng } from "./types.ts";

export interface ArrivalOptions {
  /** Entry radius, metres. 60. */
  radiusMeters: number;
  /** Continuous time inside before "arrived". 20 s. */
  dwellSeconds: number;
  /** Exit radius, metres; default max(2 × radius, radius + 40). */
  exitRadiusMeters: number;
  /** Continuous time beyond the exit radius before "left". 15 s. */
  exitSeconds: number;
  /** Fixes less accurate than this are ignored. 150 m. */
  maxAccuracyMeters: number;
}

export function arrivalDefaults(options: Partial<ArrivalOptions> = {}): ArrivalOptions {
  const radiusMeters = options.radiusMeters ?? 60;
  return {
    radiusMeters,
    dwellSeconds: 20,
    exitRadiusMeters: Math.max(2 * radiusMeters, radiusMeters + 40),
    exitSeconds: 15,
    maxAccuracyMeters: 150,
    ...options,
  };
}

export type ArrivalState =
  | { phase: "away"; lastAt: number | null }
  | { phase: "entering"; since: number; lastAt: number }
  | { phase: "arrived"; arrivedAt: number; lastAt: number }
  | { phase: "leaving"; arrivedAt: number; since: number; lastAt: number };

export const initialArrivalState: ArrivalState = { phase: "away", lastAt: null };

export interface ArrivalFix {
  lat: number;
  lng: number;
  at: number;
  accuracy?: number;
}

export interface ArrivalUpdate {
  arrived: boolean;
  left: boolean;
  /** Arrived and not yet left. */
  present: boolean;
  meters: number;
}

export function arrivalStep(
  state: ArrivalState,
  place: LatLng,
  fix: ArrivalFix,
  options: ArrivalOptions,
): { state: ArrivalState; update: ArrivalUpdate } {
  const meters = haversine(place.lat, place.lng, fix.lat, fix.lng);
  const present = state.phase === "arrived" || state.phase === "leaving";
  const unchanged = { state, update: { arrived: false, left: false, present, meters } };
  if (state.lastAt !== null && fix.at <= state.lastAt) return unchanged;
  if (fix.accuracy !== undefined && fix.accuracy > options.maxAccuracyMeters) return unchanged;
  const at = fix.at;
  const inside = meters <= options.radiusMeters;
  const beyondExit = meters > options.exitRadiusMeters;

  const result = (next: ArrivalState, arrived = false, left = false) => ({
    state: next,
    update: {
      arrived,
      left,
      present: next.phase === "arrived" || next.phase === "leaving",
      meters,
    },
  });

  switch (state.phase) {
    case "away":
      if (!inside) return result({ phase: "away", lastAt: at });
      if (options.dwellSeconds <= 0)
        return result({ phase: "arrived", arrivedAt: at, lastAt: at }, true);
      return result({ phase: "entering", since: at, lastAt: at });
    case "entering":
      if (!inside) return result({ phase: "away", lastAt: at });
      if (at - state.since >= options.dwellSeconds * 1000) {
        return result({ phase: "arrived", arrivedAt: at, lastAt: at }, true);
      }
      return result({ ...state, lastAt: at });
    case "arrived":
      if (!beyondExit) return result({ ...state, lastAt: at });
      if (options.exitSeconds <= 0) return result({ phase: "away", lastAt: at }, false, true);
      return result({ phase: "leaving", arrivedAt: state.arrivedAt, since: at, lastAt: at });
    case "leaving":
      if (!beyondExit) return result({ phase: "arrived", arrivedAt: state.arrivedAt, lastAt: at });
      if (at - state.since >= options.exitSeconds * 1000) {
        return result({ phase: "away", lastAt: at }, false, true);
      }
      return result({ ...state, lastAt: at });
  }
}

/** `arrivalStep` with the state held in memory, for one place. */
export class ArrivalDetector {
  readonly options: ArrivalOptions;
  private current: ArrivalState;

  constructor(
    readonly place: LatLng,
    options?: Partial<ArrivalOptions>,
    state: ArrivalState = initialArrivalState,
  ) {
    this.options = arrivalDefaults(options);
    this.current = state;
  }

  get state(): ArrivalState {
    return this.current;
  }

  update(fix: ArrivalFix): ArrivalUpdate {
    const { state, update } = arrivalStep(this.current, this.place, fix, this.options);
    this.current = state;
    return update;
  }
}
