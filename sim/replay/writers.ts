/** The replay's output files as text (pure; `io.ts` writes them). */
import { csvLine } from "./csv.ts";
import { formatIsoTime } from "./time.ts";
import type { Metrics, Move, OrderOutcome } from "./types.ts";

/** Six decimals of a degree: about 0.1 m, enough to draw and to re-measure a leg. */
const coord = (x: number) => x.toFixed(6);

export function ordersCsv(orders: readonly OrderOutcome[], utcOffsetMinutes: number): string {
  const time = (t: number | null) => (t === null ? "" : formatIsoTime(t, utcOffsetMinutes));
  const lines = [
    "id,courier_id,placed_at,ready_at,assigned_at,picked_up_at,delivered_at",
    ...orders.map((o) =>
      csvLine([
        o.id,
        o.courierId ?? "",
        time(o.placedAt),
        time(o.readyAt),
        time(o.assignedAt),
        time(o.pickedUpAt),
        time(o.deliveredAt),
      ]),
    ),
  ];
  return lines.join("\n") + "\n";
}

export function movesCsv(moves: readonly Move[], utcOffsetMinutes: number): string {
  const time = (t: number) => formatIsoTime(t, utcOffsetMinutes);
  const lines = [
    "courier_id,departed_at,from_lat,from_lng,to_lat,to_lng,arrived_at",
    ...moves.map((m) =>
      csvLine([
        m.courierId,
        time(m.departedAt),
        coord(m.from.lat),
        coord(m.from.lng),
        coord(m.to.lat),
        coord(m.to.lng),
        time(m.arrivedAt),
      ]),
    ),
  ];
  return lines.join("\n") + "\n";
}

export function metricsJson(metrics: Metrics): string {
  return JSON.stringify(metrics, null, 2) + "\n";
}
