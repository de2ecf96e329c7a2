/**
 * One van's temperature history for the console's chart: the readings and excursions of each
 * compartment (`GET /v1/vehicles/:id/readings`), kept current by the `temperature` and `alert`
 * frames of its `vehicle:<id>` channel, drawn as inline SVG: the allowed range shaded, the
 * excursions as red bands, the readings as a step line (a value holds until the next reading,
 * as the certificate reads them). No DOM here: `chartSvg` returns markup.
 */
import type { PushFrame } from "../../protocol/index.ts";
import { vehicleSubject } from "./vans.ts";

type Reading = Extract<PushFrame, { kind: "temperature" }>;
type Alert = Extract<PushFrame, { kind: "alert" }>;

export interface ChartReading {
  readonly at: number;
  readonly celsius: number;
}

export interface ChartExcursion {
  readonly kind: "temperature" | "sensor_silent";
  readonly startedAt: number;
  /** null while it goes on. */
  readonly endedAt: number | null;
  readonly peakC: number | null;
}

export interface CompartmentSeries {
  readonly id: string;
  readonly class: string;
  readonly minC: number | null;
  readonly maxC: number | null;
  readonly readings: readonly ChartReading[];
  readonly excursions: readonly ChartExcursion[];
}

/** The readings route's answer (the fields the chart reads). */
export interface VehicleReadings {
  readonly vehicleId: string;
  readonly driverId: string | null;
  readonly from: number;
  readonly to: number;
  readonly compartments: ReadonlyArray<
    CompartmentSeries & {
      readonly latest: { celsius: number; at: number } | null;
      readonly inExcursion: boolean;
    }
  >;
}

/** The chart's window: the last two hours, as the readings route gives by default. */
export const CHART_WINDOW_MS = 2 * 3_600_000;
/** A step line is not drawn on past its last reading by more than this (a silent sensor). */
const HOLD_MS = 5 * 60_000;

type Range = { minC: number | null; maxC: number | null };

function outside(s: Range, celsius: number): boolean {
  return beyond(s, celsius) > 0;
}

/** How far outside the range, °C (0 inside). */
function beyond(s: Range, celsius: number): number {
  return Math.max(
    0,
    s.maxC === null ? 0 : celsius - s.maxC,
    s.minC === null ? 0 : s.minC - celsius,
  );
}

export class VanSeries {
  private readonly compartments = new Map<string, CompartmentSeries>();

  constructor(readonly vehicleId: string) {}

  /** Takes the route's answer; live readings newer than it stay. */
  load(answer: VehicleReadings): void {
    for (const k of answer.compartments) {
      const live = this.compartments.get(k.id)?.readings.filter((r) => r.at > answer.to) ?? [];
      this.compartments.set(k.id, {
        id: k.id,
        class: k.class,
        minC: k.minC,
        maxC: k.maxC,
        readings: [...k.readings.map((r) => ({ at: r.at, celsius: r.celsius })), ...live],
        excursions: k.excursions.map((e) => ({ ...e })),
      });
    }
  }

  /** A live reading of a known compartment; true when it changed the chart. */
  add(frame: Reading): boolean {
    if (frame.vehicleId !== this.vehicleId) return false;
    const c = this.compartments.get(frame.compartmentId);
    if (c === undefined) return false;
    const last = c.readings.at(-1);
    if (last !== undefined && last.at >= frame.at) return false;
    this.compartments.set(c.id, {
      ...c,
      readings: [...c.readings, { at: frame.at, celsius: frame.celsius }],
    });
    return true;
  }

  /**
   * A cold-chain alert for this van: opens an excursion band from the first reading of the
   * current run outside the range (the van's own start is in the next answer of the route), or
   * closes the open one.
   */
  alert(alert: Alert): boolean {
    const subject = vehicleSubject(alert.subject);
    if (subject?.vehicleId !== this.vehicleId || subject.compartmentId === null) return false;
    const c = this.compartments.get(subject.compartmentId);
    if (c === undefined) return false;
    const kind = alert.code.startsWith("sensor_silent") ? "sensor_silent" : "temperature";
    const open = c.excursions.findIndex((e) => e.kind === kind && e.endedAt === null);
    let excursions = c.excursions;
    if (alert.code === "temperature_excursion" || alert.code === "sensor_silent") {
      if (open >= 0) return false;
      excursions = [...excursions, { kind, ...startOf(c, kind, alert.at), endedAt: null }];
    } else if (alert.code.endsWith("_ended")) {
      if (open < 0) return false;
      excursions = excursions.map((e, i) =>
        i === open ? { ...e, endedAt: Math.max(e.startedAt, alert.at) } : e,
      );
    } else {
      return false;
    }
    this.compartments.set(c.id, { ...c, excursions });
    return true;
  }

  /** Forgets what fell out of the window. */
  trim(from: number): void {
    for (const [id, c] of this.compartments) {
      this.compartments.set(id, {
        ...c,
        readings: c.readings.slice(heldAt(c.readings, from)),
        excursions: c.excursions.filter((e) => e.endedAt === null || e.endedAt >= from),
      });
    }
  }

  list(): CompartmentSeries[] {
    return [...this.compartments.values()].sort((a, b) => a.id.localeCompare(b.id));
  }
}

/**
 * The index of the reading whose value holds at `from` (the last one before it), or of the first
 * one after it: the line starts at the window's edge.
 */
function heldAt(readings: readonly ChartReading[], from: number): number {
  const firstInside = readings.findIndex((r) => r.at >= from);
  return firstInside < 0 ? Math.max(0, readings.length - 1) : Math.max(0, firstInside - 1);
}

function startOf(
  c: CompartmentSeries,
  kind: ChartExcursion["kind"],
  at: number,
): { startedAt: number; peakC: number | null } {
  if (kind === "sensor_silent") {
    return { startedAt: Math.min(at, c.readings.at(-1)?.at ?? at), peakC: null };
  }
  let startedAt = at;
  let peakC: number | null = null;
  for (let i = c.readings.length - 1; i >= 0; i--) {
    const r = c.readings[i]!;
    if (!outside(c, r.celsius)) break;
    startedAt = Math.min(startedAt, r.at);
    if (peakC === null || beyond(c, r.celsius) > beyond(c, peakC)) peakC = r.celsius;
  }
  return { startedAt, peakC };
}

// ---------------------------------------------------------------------------------------------
// The chart

export interface ChartLabels {
  /** The chart's accessible name. */
  readonly title: string;
  readonly noReadings: string;
  /** "超温 10:05–10:12", for an excursion's tooltip. */
  readonly excursion: (kind: ChartExcursion["kind"], from: string, to: string) => string;
  readonly now: string;
}

const W = 640;
const H = 170;
const PAD = { left: 40, right: 12, top: 10, bottom: 22 };
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
const TIME_STEPS_MIN = [5, 10, 15, 30, 60, 120, 180, 360, 720];

function escapeXml(value: unknown): string {
  return String(value)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** "10:05" on Beijing time, whatever the browser's zone. */
export function beijingClock(ms: number): string {
  const d = new Date(ms + SHANGHAI_OFFSET_MS);
  return `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
}

function niceStep(span: number, maxTicks: number): number {
  const raw = span / maxTicks;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

/** The compartment's chart over [from, to] as an `<svg>` element's markup. */
export function chartSvg(
  s: CompartmentSeries,
  window: { from: number; to: number },
  labels: ChartLabels,
): string {
  const { from, to } = window;
  const span = Math.max(1, to - from);
  const shown = s.readings.slice(heldAt(s.readings, from)).filter((r) => r.at <= to);
  const values = [...shown.map((r) => r.celsius), s.minC, s.maxC].filter(
    (v): v is number => v !== null,
  );
  const lo = values.length > 0 ? Math.min(...values) - 1 : -1;
  const hi = values.length > 0 ? Math.max(...values) + 1 : 1;
  const step = niceStep(hi - lo, 5);
  const yMin = Math.floor(lo / step) * step;
  const yMax = Math.ceil(hi / step) * step;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (ms: number) => PAD.left + ((Math.min(Math.max(ms, from), to) - from) / span) * plotW;
  const y = (c: number) => PAD.top + ((yMax - c) / (yMax - yMin)) * plotH;
  const f = (n: number) => n.toFixed(1);
  const parts: string[] = [];

  if (s.minC !== null || s.maxC !== null) {
    const top = y(Math.min(s.maxC ?? yMax, yMax));
    const bottom = y(Math.max(s.minC ?? yMin, yMin));
    parts.push(
      `<rect class="band" x="${f(PAD.left)}" y="${f(top)}" width="${f(plotW)}" height="${f(Math.max(0, bottom - top))}"/>`,
    );
  }
  for (const e of s.excursions) {
    const end = e.endedAt ?? to;
    if (end < from || e.startedAt > to) continue;
    const x0 = x(e.startedAt);
    const text = labels.excursion(
      e.kind,
      beijingClock(e.startedAt),
      e.endedAt === null ? labels.now : beijingClock(e.endedAt),
    );
    parts.push(
      `<rect class="exc ${e.kind === "sensor_silent" ? "silent" : "temperature"}${e.endedAt === null ? " open" : ""}" x="${f(x0)}" y="${f(PAD.top)}" width="${f(Math.max(2, x(end) - x0))}" height="${f(plotH)}"><title>${escapeXml(text)}</title></rect>`,
    );
  }
  for (let v = yMin; v <= yMax + step / 2; v += step) {
    const value = Math.round(v * 1000) / 1000 + 0;
    parts.push(
      `<line class="grid" x1="${f(PAD.left)}" x2="${f(W - PAD.right)}" y1="${f(y(value))}" y2="${f(y(value))}"/>`,
      `<text class="tick" x="${f(PAD.left - 5)}" y="${f(y(value) + 4)}" text-anchor="end">${escapeXml(value)}</text>`,
    );
  }
  const stepMin = TIME_STEPS_MIN.find((m) => span / (m * 60_000) <= 6) ?? TIME_STEPS_MIN.at(-1)!;
  const stepMs = stepMin * 60_000;
  const firstTick = Math.ceil((from + SHANGHAI_OFFSET_MS) / stepMs) * stepMs - SHANGHAI_OFFSET_MS;
  for (let tick = firstTick; tick <= to; tick += stepMs) {
    parts.push(
      `<line class="grid" x1="${f(x(tick))}" x2="${f(x(tick))}" y1="${f(PAD.top)}" y2="${f(PAD.top + plotH)}"/>`,
      `<text class="tick" x="${f(x(tick))}" y="${f(H - 6)}" text-anchor="middle">${escapeXml(beijingClock(tick))}</text>`,
    );
  }
  if (shown.length === 0) {
    parts.push(
      `<text class="empty" x="${f(PAD.left + plotW / 2)}" y="${f(PAD.top + plotH / 2)}" text-anchor="middle">${escapeXml(labels.noReadings)}</text>`,
    );
  } else {
    const last = shown.at(-1)!;
    let d = `M${f(x(shown[0]!.at))} ${f(y(shown[0]!.celsius))}`;
    for (const r of shown.slice(1)) d += ` H${f(x(r.at))} V${f(y(r.celsius))}`;
    d += ` H${f(x(Math.min(to, last.at + HOLD_MS)))}`;
    parts.push(`<path class="line" d="${d}"/>`);
    if (shown.length <= 240) {
      for (const r of shown) {
        if (r.at < from) continue;
        parts.push(
          `<circle class="${outside(s, r.celsius) ? "pt out" : "pt"}" cx="${f(x(r.at))}" cy="${f(y(r.celsius))}" r="2.2"><title>${escapeXml(`${beijingClock(r.at)} ${r.celsius} °C`)}</title></circle>`,
        );
      }
    }
  }
  parts.push(
    `<rect class="frame" x="${f(PAD.left)}" y="${f(PAD.top)}" width="${f(plotW)}" height="${f(plotH)}"/>`,
  );
  return `<svg class="van-chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeXml(labels.title)}" xmlns="http://www.w3.org/2000/svg">${parts.join("")}</svg>`;
}
