/** The scores of a replay, computed from its record alone (pure). */
import type { Metrics, ReplayRecord, ScenarioConfig, Summary } from "./types.ts";

const MINUTE = 60_000;

/** Nearest-rank percentile of sorted values (q in 0..1); 0 for none. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

const mean = (xs: readonly number[]) =>
  xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length;
/** Two decimals: enough for minutes and percentages, and stable text in metrics.json. */
const r2 = (x: number) => Math.round(x * 100) / 100;
const pct = (part: number, whole: number) => (whole === 0 ? 0 : r2((100 * part) / whole));

function summary(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    mean: r2(mean(sorted)),
    p50: r2(percentile(sorted, 0.5)),
    p90: r2(percentile(sorted, 0.9)),
    max: r2(sorted[sorted.length - 1] ?? 0),
  };
}

export function computeMetrics(record: ReplayRecord, config: ScenarioConfig): Metrics {
  const all = record.orders;
  const delivered = all.filter((o) => o.deliveredAt !== null);
  const minutes = (a: number, b: number) => (b - a) / MINUTE;

  const clickToDoor = delivered.map((o) => minutes(o.placedAt, o.deliveredAt!));
  const target = config.targetClickToDoorMinutes;
  const overage = clickToDoor.map((m) => Math.max(0, m - target));
  const late = overage.filter((m) => m > 0);

  const picked = all.filter((o) => o.pickedUpAt !== null);
  const readyToPickup = picked.map((o) => minutes(o.readyAt, o.pickedUpAt!)).sort((a, b) => a - b);

  const eta = delivered.filter((o) => o.predictedDropoffAt !== null);
  const errors = eta.map((o) => minutes(o.predictedDropoffAt!, o.deliveredAt!));
  const inside = eta.filter(
    (o) => o.deliveredAt! >= o.predictedDropoffAt! && o.deliveredAt! <= o.predictedDropoffP90!,
  ).length;
  const before = eta.filter((o) => o.deliveredAt! < o.predictedDropoffAt!).length;

  let duty = 0;
  let busy = 0;
  let waiting = 0;
  const trips: number[] = [];
  for (const c of record.couriers) {
    duty += Math.max(c.offAt, c.doneAt) - c.onAt;
    busy += c.travelMs + c.serviceMs;
    waiting += c.waitingMs;
    trips.push(...c.trips);
  }
  const offered = all.filter((o) => o.offers > 0);
  const engine = [...record.engineMs].sort((a, b) => a - b);

  return {
    orders: {
      total: all.length,
      delivered: delivered.length,
      undelivered: all.length - delivered.length,
      deliveredPct: pct(delivered.length, all.length),
      undeliveredPct: pct(all.length - delivered.length, all.length),
      cancelled: all.filter((o) => o.cancelled).length,
    },
    clickToDoorMinutes: summary(clickToDoor),
    overTarget: {
      targetMinutes: target,
      meanOverageMinutes: r2(mean(overage)),
      meanOverageOfLateMinutes: r2(mean(late)),
      latePct: pct(late.length, delivered.length),
      overMaxPct: pct(
        clickToDoor.filter((m) => m > config.maxClickToDoorMinutes).length,
        delivered.length,
      ),
    },
    readyToPickupMinutes: {
      mean: r2(mean(readyToPickup)),
      p90: r2(percentile(readyToPickup, 0.9)),
    },
    readyToDoorMinutes: {
      mean: r2(mean(delivered.map((o) => minutes(o.readyAt, o.deliveredAt!)))),
    },
    courierUtilisationPct: pct(busy, duty),
    courierWaitingPct: pct(waiting, duty),
    ordersPerTrip: r2(mean(trips)),
    offersPerOrder: r2(
      offered.length === 0 ? 0 : offered.reduce((s, o) => s + o.offers, 0) / offered.length,
    ),
    eta: {
      meanAbsoluteErrorMinutes: r2(mean(errors.map(Math.abs))),
      meanErrorMinutes: r2(mean(errors)),
      insideP50P90Pct: pct(inside, eta.length),
      beforeP50Pct: pct(before, eta.length),
      afterP90Pct: pct(eta.length - inside - before, eta.length),
    },
    engine: {
      ticks: engine.length,
      p50Ms: Math.round(percentile(engine, 0.5) * 1000) / 1000,
      p99Ms: Math.round(percentile(engine, 0.99) * 1000) / 1000,
      maxMs: Math.round((engine[engine.length - 1] ?? 0) * 1000) / 1000,
      totalMs: Math.round(engine.reduce((s, x) => s + x, 0)),
    },
    alerts: record.alerts,
    handedBack: record.handedBack,
    takenBack: record.takenBack,
    ruleRejections: record.ruleRejections,
  };
}
