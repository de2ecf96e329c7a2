/**
 * The terminal's live summary, counted from what the platform itself says on the market's
 * channel (the dispatcher console's feed), so the line shows the system working, not the
 * simulation's intentions: orders placed (`created` frames) and delivered, on-time share
 * (delivered by the promised time), mean click-to-door (created → delivered), and open alerts —
 * cold-chain ones (`temperature_excursion`, `sensor_silent`) until their `…_ended`, dispatch ones
 * (`no_courier`, `many_declines`) until the order gets a courier or ends.
 */
import type { PushFrame } from "../../protocol/index.ts";

const COLD_CODES = new Set(["temperature_excursion", "sensor_silent"]);
const DISPATCH_CODES = new Set(["no_courier", "many_declines"]);
/** Statuses after which an order's dispatch alerts are over. */
const SERVED = new Set([
  "assigned",
  "at_store",
  "picked_up",
  "at_customer",
  "delivered",
  "cancelled",
  "returned",
]);

export interface SummaryCounts {
  readonly placed: number;
  readonly delivered: number;
  /** Share of delivered orders on time, 0-1; null before any. */
  readonly onTime: number | null;
  /** Mean minutes from click to door (simulated minutes on an accelerated clock); null before any. */
  readonly meanClickToDoorMinutes: number | null;
  readonly openColdAlerts: number;
  readonly openDispatchAlerts: number;
}

export class SummaryBook {
  readonly #createdAt = new Map<string, number>();
  readonly #promisedAt = new Map<string, number>();
  readonly #delivered = new Set<string>();
  /** Open alerts: `<subject>|<code>` → kind. */
  readonly #open = new Map<string, "cold" | "dispatch">();
  #placed = 0;
  #judged = 0;
  #onTime = 0;
  #clickToDoorMs = 0;
  #clickToDoorCount = 0;

  /** `speedup`: simulated ms per wall ms, to report click-to-door in simulated minutes. */
  constructor(readonly speedup = 1) {}

  apply(frame: PushFrame): void {
    if (frame.kind === "order") this.#order(frame);
    else if (frame.kind === "alert") this.#alert(frame);
  }

  #order(frame: Extract<PushFrame, { kind: "order" }>): void {
    if (frame.status === "created" && !this.#createdAt.has(frame.orderId)) {
      this.#placed++;
      this.#createdAt.set(frame.orderId, frame.at);
    }
    if (frame.promisedAt !== undefined) this.#promisedAt.set(frame.orderId, frame.promisedAt);
    if (SERVED.has(frame.status)) {
      for (const key of this.#open.keys()) {
        if (key.startsWith(`order:${frame.orderId}|`)) this.#open.delete(key);
      }
    }
    if (frame.status !== "delivered" || this.#delivered.has(frame.orderId)) return;
    this.#delivered.add(frame.orderId);
    const promised = this.#promisedAt.get(frame.orderId);
    if (promised !== undefined) {
      this.#judged++;
      if (frame.at <= promised) this.#onTime++;
    }
    const created = this.#createdAt.get(frame.orderId);
    if (created !== undefined && frame.at >= created) {
      this.#clickToDoorMs += frame.at - created;
      this.#clickToDoorCount++;
    }
    this.#createdAt.delete(frame.orderId);
    this.#promisedAt.delete(frame.orderId);
  }

  #alert(frame: Extract<PushFrame, { kind: "alert" }>): void {
    const subject = frame.subject ?? "";
    if (COLD_CODES.has(frame.code)) this.#open.set(`${subject}|${frame.code}`, "cold");
    else if (DISPATCH_CODES.has(frame.code)) this.#open.set(`${subject}|${frame.code}`, "dispatch");
    else if (frame.code.endsWith("_ended")) {
      this.#open.delete(`${subject}|${frame.code.slice(0, -"_ended".length)}`);
    }
  }

  read(): SummaryCounts {
    let cold = 0;
    let dispatch = 0;
    for (const kind of this.#open.values()) {
      if (kind === "cold") cold++;
      else dispatch++;
    }
    return {
      placed: this.#placed,
      delivered: this.#delivered.size,
      onTime: this.#judged === 0 ? null : this.#onTime / this.#judged,
      meanClickToDoorMinutes:
        this.#clickToDoorCount === 0
          ? null
          : (this.#clickToDoorMs / this.#clickToDoorCount / 60_000) * this.speedup,
      openColdAlerts: cold,
      openDispatchAlerts: dispatch,
    };
  }
}

export interface FleetCounts {
  readonly busy: number;
  readonly idle: number;
  readonly offShift: number;
}

/** `HH:MM:SS` in Asia/Shanghai. */
export function shanghaiTime(at: number): string {
  const d = new Date(at + 8 * 3600_000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/**
 * One line, Chinese label then English:
 * `12:03:05 下单 placed 14 · 送达 delivered 6 · 准时 on-time 100% · 平均送达 click-to-door 9.8 分钟 min · 告警 alerts 1 (冷链 cold 1, 调度 dispatch 0) · 骑手 couriers 忙 busy 4 / 闲 idle 8`
 */
export function summaryLine(at: number, c: SummaryCounts, fleet: FleetCounts): string {
  const pct = c.onTime === null ? "—" : `${Math.round(c.onTime * 100)}%`;
  const ctd = c.meanClickToDoorMinutes === null ? "—" : c.meanClickToDoorMinutes.toFixed(1);
  const alerts = c.openColdAlerts + c.openDispatchAlerts;
  return (
    `${shanghaiTime(at)}  下单 placed ${c.placed} · 送达 delivered ${c.delivered} · ` +
    `准时 on-time ${pct} · 平均送达 click-to-door ${ctd} 分钟 min · ` +
    `告警 alerts ${alerts} (冷链 cold ${c.openColdAlerts}, 调度 dispatch ${c.openDispatchAlerts}) · ` +
    `骑手 couriers 忙 busy ${fleet.busy} / 闲 idle ${fleet.idle}` +
    (fleet.offShift > 0 ? ` / 下班 off ${fleet.offShift}` : "")
  );
}
