/**
 * The market's refrigerated vans as the console knows them: which vans there are (from the
 * market's couriers driving one, from alerts naming one, from temperature frames), each
 * compartment's latest reading, and whether the van says it is in an excursion. No DOM.
 */
import type { PushFrame } from "../../protocol/index.ts";

export type Reading = Extract<PushFrame, { kind: "temperature" }>;
type Alert = Extract<PushFrame, { kind: "alert" }>;

/** A compartment's layout as the readings route gives it. */
export interface CompartmentLayout {
  readonly id: string;
  readonly class: string;
  readonly minC: number | null;
  readonly maxC: number | null;
  readonly latest: { celsius: number; at: number } | null;
  readonly inExcursion: boolean;
}

export interface CompartmentView {
  readonly id: string;
  readonly class: string | null;
  readonly minC: number | null;
  readonly maxC: number | null;
  readonly celsius: number | null;
  readonly at: number | null;
  readonly inRange: boolean | null;
  /** The van reported an excursion (out of range past its grace period) that has not ended. */
  readonly excursion: boolean;
  /** The sensor has gone silent. */
  readonly silent: boolean;
}

/** The worst of its compartments, for the list's badge. */
export type VanState = "excursion" | "silent" | "out_of_range" | "in_range" | "unknown";

export interface VanView {
  readonly vehicleId: string;
  readonly driverId: string | null;
  readonly state: VanState;
  readonly compartments: readonly CompartmentView[];
  /** The newest reading's time, or null. */
  readonly at: number | null;
}

interface CompartmentKnown {
  class: string | null;
  minC: number | null;
  maxC: number | null;
  celsius: number | null;
  at: number | null;
  inRange: boolean | null;
  excursion: boolean;
  silent: boolean;
}

interface VanKnown {
  driverId: string | null;
  compartments: Map<string, CompartmentKnown>;
}

const RANK: Record<VanState, number> = {
  excursion: 0,
  silent: 1,
  out_of_range: 2,
  in_range: 3,
  unknown: 4,
};

/** `vehicle:<id>/<compartment>` (the cold-chain alerts' subject) → its parts, else null. */
export function vehicleSubject(
  subject: string | undefined,
): { vehicleId: string; compartmentId: string | null } | null {
  const match = /^vehicle:([A-Za-z0-9_-]{1,64})(?:\/(.{1,64}))?$/.exec(subject ?? "");
  return match ? { vehicleId: match[1]!, compartmentId: match[2] ?? null } : null;
}

/** The cold-chain alert codes (tracking/cold-chain.ts). */
export const COLD_CHAIN_ALERTS: ReadonlySet<string> = new Set([
  "temperature_excursion",
  "temperature_excursion_ended",
  "sensor_silent",
  "sensor_silent_ended",
]);

function inRange(c: { minC: number | null; maxC: number | null }, celsius: number): boolean {
  return (c.minC === null || celsius >= c.minC) && (c.maxC === null || celsius <= c.maxC);
}

export class VanBoard {
  private readonly vans = new Map<string, VanKnown>();

  private van(vehicleId: string): VanKnown {
    let van = this.vans.get(vehicleId);
    if (van === undefined) {
      van = { driverId: null, compartments: new Map() };
      this.vans.set(vehicleId, van);
    }
    return van;
  }

  private compartment(van: VanKnown, id: string): CompartmentKnown {
    let c = van.compartments.get(id);
    if (c === undefined) {
      c = {
        class: null,
        minC: null,
        maxC: null,
        celsius: null,
        at: null,
        inRange: null,
        excursion: false,
        silent: false,
      };
      van.compartments.set(id, c);
    }
    return c;
  }

  /** A van the console heard of (a courier driving it). True when it is new or its driver changed. */
  know(vehicleId: string, driverId: string | null = null): boolean {
    const isNew = !this.vans.has(vehicleId);
    const van = this.van(vehicleId);
    if (driverId === null || van.driverId === driverId) return isNew;
    van.driverId = driverId;
    return true;
  }

  has(vehicleId: string): boolean {
    return this.vans.has(vehicleId);
  }

  /** True when the reading is newer than the one shown for that compartment. */
  add(reading: Reading): boolean {
    const c = this.compartment(this.van(reading.vehicleId), reading.compartmentId);
    if (c.at !== null && c.at >= reading.at) return false;
    c.celsius = reading.celsius;
    c.at = reading.at;
    c.inRange = reading.inRange;
    return true;
  }

  /** Layout, latest reading and excursion state as the readings route says them. */
  layout(vehicleId: string, driverId: string | null, compartments: readonly CompartmentLayout[]) {
    const van = this.van(vehicleId);
    if (driverId !== null) van.driverId = driverId;
    for (const k of compartments) {
      const c = this.compartment(van, k.id);
      c.class = k.class;
      c.minC = k.minC;
      c.maxC = k.maxC;
      c.excursion = k.inExcursion;
      if (k.latest !== null && (c.at === null || k.latest.at > c.at)) {
        c.celsius = k.latest.celsius;
        c.at = k.latest.at;
        c.inRange = inRange(k, k.latest.celsius);
      }
    }
  }

  /** A cold-chain alert: marks or clears the compartment's excursion or silence. */
  alert(alert: Alert): boolean {
    const subject = vehicleSubject(alert.subject);
    if (subject === null || !COLD_CHAIN_ALERTS.has(alert.code)) return false;
    const van = this.van(subject.vehicleId);
    if (subject.compartmentId === null) return true;
    const c = this.compartment(van, subject.compartmentId);
    switch (alert.code) {
      case "temperature_excursion":
        c.excursion = true;
        break;
      case "temperature_excursion_ended":
        c.excursion = false;
        break;
      case "sensor_silent":
        c.silent = true;
        break;
      case "sensor_silent_ended":
        c.silent = false;
        break;
    }
    return true;
  }

  get(vehicleId: string): VanView | null {
    const van = this.vans.get(vehicleId);
    return van === undefined ? null : view(vehicleId, van);
  }

  /** Vans in trouble first (excursion, silent, out of range), then by id. */
  list(): VanView[] {
    return [...this.vans.entries()]
      .map(([id, van]) => view(id, van))
      .sort((a, b) => RANK[a.state] - RANK[b.state] || a.vehicleId.localeCompare(b.vehicleId));
  }

  ids(): string[] {
    return [...this.vans.keys()];
  }
}

function view(vehicleId: string, van: VanKnown): VanView {
  const compartments = [...van.compartments.entries()]
    .map(([id, c]) => ({ id, ...c }))
    .sort((a, b) => a.id.localeCompare(b.id));
  let state: VanState = "unknown";
  for (const c of compartments) {
    const s: VanState = c.excursion
      ? "excursion"
      : c.silent
        ? "silent"
        : c.inRange === false
          ? "out_of_range"
          : c.inRange === true
            ? "in_range"
            : "unknown";
    if (RANK[s] < RANK[state]) state = s;
  }
  const times = compartments.map((c) => c.at).filter((t): t is number => t !== null);
  return {
    vehicleId,
    driverId: van.driverId,
    state,
    compartments,
    at: times.length > 0 ? Math.max(...times) : null,
  };
}
