/**
 * The live KPI strip, computed from the frames the console receives since it opened: on-time
 * share and mean click-to-door of the orders delivered (click: the order's `created` frame;
 * door: its `delivered` frame; an order first seen after its creation has no click time and
 * counts for on-time only), and courier utilisation, the busy share of on-shift courier time
 * (sampled every second from the couriers' statuses).
 */
import type { OrderFrame } from "./orders.ts";

export interface Kpis {
  delivered: number;
  /** Share delivered by the promised time, 0..1; null before any delivery with a promise. */
  onTime: number | null;
  /** Mean minutes from creation to delivery; null before any. */
  meanClickToDoorMinutes: number | null;
  /** Busy share of on-shift courier-seconds, 0..1; null before any courier was on shift. */
  utilisation: number | null;
}

export class KpiBook {
  private readonly createdAt = new Map<string, number>();
  private readonly promisedAt = new Map<string, number>();
  private readonly done = new Set<string>();
  private onTime = 0;
  private judged = 0;
  private clickToDoorTotal = 0;
  private clickToDoorCount = 0;
  private busySeconds = 0;
  private activeSeconds = 0;

  apply(frame: OrderFrame): void {
    if (frame.status === "created") this.createdAt.set(frame.orderId, frame.at);
    if (frame.promisedAt !== undefined) this.promisedAt.set(frame.orderId, frame.promisedAt);
    if (frame.status !== "delivered" || this.done.has(frame.orderId)) return;
    this.done.add(frame.orderId);
    const promised = this.promisedAt.get(frame.orderId);
    if (promised !== undefined) {
      this.judged += 1;
      if (frame.at <= promised) this.onTime += 1;
    }
    const created = this.createdAt.get(frame.orderId);
    if (created !== undefined && frame.at >= created) {
      this.clickToDoorTotal += frame.at - created;
      this.clickToDoorCount += 1;
    }
  }

  /** One second of the fleet: how many couriers were on shift and how many of them busy. */
  sample(busy: number, active: number): void {
    this.busySeconds += Math.min(busy, active);
    this.activeSeconds += active;
  }

  read(): Kpis {
    return {
      delivered: this.done.size,
      onTime: this.judged === 0 ? null : this.onTime / this.judged,
      meanClickToDoorMinutes:
        this.clickToDoorCount === 0 ? null : this.clickToDoorTotal / this.clickToDoorCount / 60_000,
      utilisation: this.activeSeconds === 0 ? null : this.busySeconds / this.activeSeconds,
    };
  }
}
