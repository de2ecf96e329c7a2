/** Refrigerated compartments seen on the market channel: the latest reading of each. */
import type { PushFrame } from "../../protocol/index.ts";

export type Reading = Extract<PushFrame, { kind: "temperature" }>;

export class VanBoard {
  private readonly readings = new Map<string, Reading>();

  /** True when the reading is newer than the one shown for that compartment. */
  add(reading: Reading): boolean {
    const key = `${reading.vehicleId}/${reading.compartmentId}`;
    const known = this.readings.get(key);
    if (known !== undefined && known.at >= reading.at) return false;
    this.readings.set(key, reading);
    return true;
  }

  /** Out-of-range compartments first, then by vehicle. */
  list(): Reading[] {
    return [...this.readings.values()].sort(
      (a, b) =>
        Number(a.inRange) - Number(b.inRange) ||
        a.vehicleId.localeCompare(b.vehicleId) ||
        a.compartmentId.localeCompare(b.compartmentId),
    );
  }
}
