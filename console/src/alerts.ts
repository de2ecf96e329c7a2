/** The console's alert list: newest first, each alert once (a replay repeats ids), bounded. */
import type { PushFrame } from "../../protocol/index.ts";

export type Alert = Extract<PushFrame, { kind: "alert" }>;

const SEVERITY_RANK: Record<Alert["severity"], number> = { critical: 0, warning: 1, info: 2 };

export class AlertBook {
  private readonly alerts = new Map<string, Alert>();

  constructor(private readonly limit = 50) {}

  /** True when the alert is new. */
  add(alert: Alert): boolean {
    if (this.alerts.has(alert.id)) return false;
    this.alerts.set(alert.id, alert);
    if (this.alerts.size > this.limit) {
      const oldest = [...this.alerts.values()].sort((a, b) => a.at - b.at)[0];
      if (oldest !== undefined) this.alerts.delete(oldest.id);
    }
    return true;
  }

  /** Newest first; at the same moment, the more severe first. */
  list(): Alert[] {
    return [...this.alerts.values()].sort(
      (a, b) => b.at - a.at || SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity],
    );
  }

  count(severity?: Alert["severity"]): number {
    if (severity === undefined) return this.alerts.size;
    let n = 0;
    for (const alert of this.alerts.values()) if (alert.severity === severity) n += 1;
    return n;
  }
}
