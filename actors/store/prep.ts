/**
 * Learned preparation time per store: from each order's accepted-at to the moment staff mark it
 * ready. An exponentially weighted mean and mean absolute deviation follow a store that speeds
 * up or slows down; the first samples are averaged plainly so the prior is forgotten quickly.
 */
import type { PrepStats } from "./types.ts";

/** Before a store has reported anything: a typical fresh-grocery picking time. */
export const DEFAULT_PREP: PrepStats = { meanMinutes: 15, spreadMinutes: 5, samples: 0 };
/** Weight of a new sample once the store has history (≈ the last 10 orders dominate). */
export const PREP_ALPHA = 0.2;
/** A sample longer than this is an order forgotten on a shelf, not a preparation time. */
export const PREP_MAX_MINUTES = 240;

export function learnPrep(stats: PrepStats, minutes: number): PrepStats {
  const x = Math.min(Math.max(minutes, 0), PREP_MAX_MINUTES);
  const w = Math.max(PREP_ALPHA, 1 / (stats.samples + 1));
  const deviation = Math.abs(x - stats.meanMinutes);
  return {
    meanMinutes: stats.meanMinutes + w * (x - stats.meanMinutes),
    spreadMinutes: stats.spreadMinutes + w * (deviation - stats.spreadMinutes),
    samples: stats.samples + 1,
  };
}

/** When an order accepted at `acceptedAt` is expected to be ready (ms epoch, whole ms). */
export function predictReadyAt(stats: PrepStats, acceptedAt: number): number {
  return acceptedAt + Math.round(stats.meanMinutes * 60_000);
}

/** The expected ready time with a one-spread window either side (never before acceptance). */
export function predictReadyWindow(
  stats: PrepStats,
  acceptedAt: number,
): { readonly earliest: number; readonly expected: number; readonly latest: number } {
  const minutes = (m: number) => acceptedAt + Math.round(Math.max(0, m) * 60_000);
  return {
    earliest: minutes(stats.meanMinutes - stats.spreadMinutes),
    expected: minutes(stats.meanMinutes),
    latest: minutes(stats.meanMinutes + stats.spreadMinutes),
  };
}
