/**
 * The simulation's clock. The demo runs on the wall clock (`speedup` 1); load runs on an
 * accelerated clock, where simulated time passes `speedup` times faster than the wall's and may
 * start at any time of day (the lunch peak, say).
 *
 * The platform itself always runs on the wall clock (its actors' "now" is the command's time),
 * so what the simulation tells it is in wall time: a promise of 40 simulated minutes at 10× is
 * made 4 wall minutes ahead (`wallAfter`). Sleeps are abortable, so stopping the world leaves no
 * timer behind.
 */
import { setTimeout as sleepFor } from "node:timers/promises";

export interface SimClock {
  /** Simulated time now, epoch ms. */
  now(): number;
  /** Simulated ms per wall ms (1: the wall clock). */
  readonly speedup: number;
  /** Wall ms that `simMs` of simulated time take. */
  wallMs(simMs: number): number;
  /** The wall-clock instant (epoch ms) `simMs` of simulated time from now. */
  wallAfter(simMs: number): number;
  /** Waits `simMs` of simulated time; rejects with an AbortError when `signal` aborts. */
  sleep(simMs: number, signal?: AbortSignal): Promise<void>;
}

export class InvalidSpeedupError extends Error {
  override readonly name = "InvalidSpeedupError";
}

export interface ClockOptions {
  /** Default 1. */
  readonly speedup?: number;
  /** Simulated time at the start, epoch ms. Default: now. */
  readonly startAt?: number;
  /** The wall clock. Default Date.now. */
  readonly wall?: () => number;
}

/** A clock `speedup` times the wall's, starting at `startAt` (the wall clock at 1× from now). */
export function simClock(options: ClockOptions = {}): SimClock {
  const speedup = options.speedup ?? 1;
  if (!(speedup > 0 && speedup <= 3600)) {
    throw new InvalidSpeedupError(`speedup must be in (0, 3600], not ${speedup}`);
  }
  const wall = options.wall ?? Date.now;
  const wall0 = wall();
  const sim0 = options.startAt ?? wall0;
  const wallMs = (simMs: number) => simMs / speedup;
  return {
    speedup,
    now: () => sim0 + (wall() - wall0) * speedup,
    wallMs,
    wallAfter: (simMs) => wall() + wallMs(simMs),
    sleep: (simMs, signal) =>
      sleepFor(Math.max(0, wallMs(simMs)), undefined, signal ? { signal } : {}),
  };
}

/** Whether `err` is the rejection of an aborted sleep (the world is stopping). */
export function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === "AbortError";
}

export class InvalidTimeOfDayError extends Error {
  override readonly name = "InvalidTimeOfDayError";
}

/** `HH:MM` (Asia/Shanghai) of the day `now` falls on, epoch ms: where an accelerated day starts. */
export function todayAt(hhmm: string, now = Date.now()): number {
  const m = /^([01]?[0-9]|2[0-3]):([0-5][0-9])$/.exec(hhmm.trim());
  if (m === null) throw new InvalidTimeOfDayError(`a time of day is HH:MM, not "${hhmm}"`);
  const offset = 8 * 3600_000;
  const midnight = Math.floor((now + offset) / 86_400_000) * 86_400_000 - offset;
  return midnight + (Number(m[1]) * 60 + Number(m[2])) * 60_000;
}
