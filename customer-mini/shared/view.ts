/**
 * What a tracking screen shows, as plain data: the mini-program passes it to `setData`, the H5
 * page renders it into the DOM. No DOM, no wx here.
 */
import { formatCelsius, formatClock } from "./format.ts";
import { messages } from "./i18n.ts";
import { isTerminal } from "./session.ts";
import type { Locale, OrderStatus, TrackingState } from "./types.ts";

export type StepState = "done" | "current" | "todo" | "failed";

export interface TimelineStep {
  readonly key: string;
  readonly label: string;
  /** "12:31" when the step was reached, else "". */
  readonly time: string;
  readonly state: StepState;
}

export interface EtaCard {
  /** "预计 12:40–12:52 送达", "已于 12:50 送达", or "正在计算送达时间". */
  readonly text: string;
  /** "约 12 分钟" (to the P50), "" when not known or done. */
  readonly minutes: string;
  readonly known: boolean;
  readonly done: boolean;
}

/**
 * `excursion` only when the van says so (its alert: out of range past the grace period);
 * `out_of_range` for a reading outside the range the van has not judged yet (a door opened for
 * loading is not an excursion); `silent` when the sensor stopped reporting.
 */
export type TemperatureBadgeState =
  "in_range" | "out_of_range" | "excursion" | "silent" | "waiting";

export interface TemperatureBadge {
  readonly state: TemperatureBadgeState;
  /** "冷藏 2.5°C". */
  readonly label: string;
  /** "温度正常" / "超出范围" / "温度异常" / "温度数据中断" / "已恢复正常" / "". */
  readonly verdict: string;
  /** "✓" in range, "!" otherwise, "" while waiting. */
  readonly mark: string;
  /** Says an excursion happened on the way once it is over; "" otherwise. */
  readonly note: string;
}

/** The certificate card after delivery; null while there is nothing to show. */
export interface CertificateCard {
  readonly state: "loading" | "ready" | "failed";
  readonly title: string;
  /** "全程温度达标" / "途中出现温度异常"; "" until ready. */
  readonly verdict: string;
  readonly verdictState: "ok" | "excursion" | "none";
  /** The gateway's check of the certificate against the stored readings. */
  readonly check: string;
  readonly checkState: "verified" | "failed" | "unknown";
  /** Summary lines. */
  readonly lines: readonly string[];
  /** "查看 / 打印完整证书" when ready, else "". */
  readonly linkLabel: string;
  /** Loading or failure text. */
  readonly note: string;
}

export interface CourierMarker {
  readonly lat: number;
  readonly lng: number;
  readonly coarse: boolean;
  readonly heading: number;
  readonly at: number;
}

export interface TrackingView {
  readonly title: string;
  readonly headline: string;
  readonly orderLabel: string;
  readonly eta: EtaCard;
  readonly steps: readonly TimelineStep[];
  /** Null for ambient orders and while nothing says the order is cold. */
  readonly temperature: TemperatureBadge | null;
  readonly certificate: CertificateCard | null;
  readonly courier: CourierMarker | null;
  readonly courierNote: string;
  readonly destination: { readonly lat: number; readonly lng: number } | null;
  /** "取件码 W10000" while a wave order waits at its pickup point; "" otherwise. */
  readonly collectCode: string;
  /** A thin banner: connecting / reconnecting; "" when live. */
  readonly banner: string;
  readonly expired: {
    readonly title: string;
    readonly reason: string;
    readonly hint: string;
  } | null;
}

interface Milestone {
  readonly key: string;
  /** The statuses that put the order at this milestone. */
  readonly statuses: readonly OrderStatus[];
  readonly label: (status: OrderStatus | null, locale: Locale) => string;
}

const MILESTONES: readonly Milestone[] = [
  { key: "placed", statuses: ["created"], label: (_, l) => messages(l).step.placed },
  { key: "accepted", statuses: ["accepted"], label: (_, l) => messages(l).step.accepted },
  {
    key: "preparing",
    statuses: ["preparing", "ready", "offered"],
    label: (s, l) =>
      s === "ready" || s === "offered" ? messages(l).step.ready : messages(l).step.preparing,
  },
  {
    key: "courier",
    statuses: ["assigned", "at_store"],
    label: (s, l) =>
      s === "at_store" ? messages(l).step.courierAtStore : messages(l).step.courierAssigned,
  },
  {
    key: "delivering",
    statuses: ["picked_up", "at_customer", "at_pickup_point"],
    label: (s, l) =>
      s === "at_pickup_point"
        ? messages(l).step.atPickupPoint
        : s === "at_customer"
          ? messages(l).step.courierArrived
          : messages(l).step.delivering,
  },
  { key: "delivered", statuses: ["delivered"], label: (_, l) => messages(l).step.delivered },
];

const FAILURE_LABEL: Partial<Record<OrderStatus, (l: Locale) => string>> = {
  cancelled: (l) => messages(l).step.cancelled,
  delivery_failed: (l) => messages(l).step.deliveryFailed,
  returned: (l) => messages(l).step.returned,
};

function milestoneIndex(status: OrderStatus): number {
  return MILESTONES.findIndex((m) => m.statuses.includes(status));
}

/** The milestones from order to delivery, with the time each was first reached. */
export function timelineSteps(state: TrackingState, locale: Locale): TimelineStep[] {
  const status = state.status;
  const failure = status ? FAILURE_LABEL[status] : undefined;
  // How far the order got: the current status, or for a failure the furthest status reached.
  let reachedIndex = status && !failure ? milestoneIndex(status) : -1;
  for (const [s, at] of Object.entries(state.reached)) {
    if (at !== undefined) reachedIndex = Math.max(reachedIndex, milestoneIndex(s as OrderStatus));
  }
  if (status === null && reachedIndex < 0) reachedIndex = 0;
  const steps: TimelineStep[] = [];
  MILESTONES.forEach((milestone, i) => {
    if (failure && i > reachedIndex) return;
    const times = milestone.statuses
      .map((s) => state.reached[s])
      .filter((t): t is number => t !== undefined);
    const first = times.length > 0 ? Math.min(...times) : null;
    // The label follows the latest status inside this milestone.
    const latest = [...milestone.statuses]
      .reverse()
      .find((s) => s === status || state.reached[s] !== undefined);
    const isCurrent = !failure && i === reachedIndex && status !== "delivered";
    steps.push({
      key: milestone.key,
      label: milestone.label(latest ?? null, locale),
      time: first === null ? "" : formatClock(first, locale),
      state:
        i < reachedIndex || (i === reachedIndex && (failure || status === "delivered"))
          ? "done"
          : isCurrent
            ? "current"
            : "todo",
    });
  });
  if (status && failure) {
    const at = state.reached[status];
    steps.push({
      key: status,
      label: failure(locale),
      time: at === undefined ? "" : formatClock(at, locale),
      state: "failed",
    });
  }
  return steps;
}

/** The ETA card, given the device clock `localNow` (corrected by the server's skew). */
export function etaCard(state: TrackingState, locale: Locale, localNow: number): EtaCard {
  const m = messages(locale);
  if (state.status === "delivered") {
    const at = state.reached.delivered;
    return {
      text: at === undefined ? m.headline.delivered : m.deliveredAt(formatClock(at, locale)),
      minutes: "",
      known: at !== undefined,
      done: true,
    };
  }
  if (!state.eta || isTerminal(state.status)) {
    // Before the first ETA frame, the time promised at checkout is the best we can say.
    const text =
      state.promisedAt !== null && !isTerminal(state.status)
        ? m.promisedBy(formatClock(state.promisedAt, locale))
        : m.etaUnknown;
    return { text, minutes: "", known: false, done: isTerminal(state.status) };
  }
  const from = formatClock(state.eta.p50, locale);
  const to = formatClock(Math.max(state.eta.p50, state.eta.p90), locale);
  const now = localNow + state.clockSkewMs;
  const left = Math.round((state.eta.p50 - now) / 60_000);
  return {
    text: from === to ? m.etaAt(from) : m.etaWindow(from, to),
    minutes: left <= 1 ? m.etaArrivingNow : m.etaMinutes(left),
    known: true,
    done: false,
  };
}

/**
 * The cold-chain badge: shown for chilled and frozen orders and whenever a reading or an alert
 * arrived. It says no more than it knows: red only for an excursion the van reported, amber for
 * a reading outside the range the van has not judged yet, grey when the sensor is silent.
 */
export function temperatureBadge(state: TrackingState, locale: Locale): TemperatureBadge | null {
  const m = messages(locale);
  const cls = state.temperatureClass;
  const alerts = state.coldAlerts;
  if (!state.temperature && !alerts && (cls === null || cls === "ambient")) return null;
  const name = cls === "chilled" || cls === "frozen" ? m.temperatureClass[cls] : m.temperatureCold;
  const t = state.temperature;
  const label = t ? `${name} ${formatCelsius(t.celsius)}` : name;
  const note =
    alerts?.seen && !alerts.excursion && !alerts.silent
      ? state.status === "delivered"
        ? m.temperatureExcursionNoteDelivered
        : m.temperatureExcursionNote
      : "";
  if (alerts?.silent) {
    return { state: "silent", label, verdict: m.temperatureSilent, mark: "!", note: "" };
  }
  if (alerts?.excursion) {
    return { state: "excursion", label, verdict: m.temperatureExcursion, mark: "!", note: "" };
  }
  if (!t) {
    return { state: "waiting", label, verdict: "", mark: "", note };
  }
  if (!t.inRange) {
    return { state: "out_of_range", label, verdict: m.temperatureOutOfRange, mark: "!", note };
  }
  return {
    state: "in_range",
    label,
    verdict: alerts?.seen ? m.temperatureRecovered : m.temperatureInRange,
    mark: "✓",
    note,
  };
}

function durationText(locale: Locale, ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  return messages(locale).duration(
    Math.floor(total / 3600),
    Math.floor((total % 3600) / 60),
    total % 60,
  );
}

function rangeText(range: { minC: number | null; maxC: number | null }, locale: Locale): string {
  if (range.minC !== null && range.maxC !== null) {
    const to = locale === "en" ? "to" : "至";
    return `${formatCelsius(range.minC)} ${to} ${formatCelsius(range.maxC)}`;
  }
  if (range.maxC !== null) return `≤ ${formatCelsius(range.maxC)}`;
  if (range.minC !== null) return `≥ ${formatCelsius(range.minC)}`;
  return "—";
}

/** The certificate card: after delivery of a chilled or frozen order that has one (coming). */
export function certificateCard(state: TrackingState, locale: Locale): CertificateCard | null {
  const m = messages(locale).certificate;
  const c = state.certificate;
  const base = {
    title: m.title,
    verdict: "",
    verdictState: "none" as const,
    check: "",
    checkState: "unknown" as const,
    lines: [] as string[],
    linkLabel: "",
  };
  switch (c.status) {
    case "idle":
    case "none":
      return null;
    case "loading":
    case "pending":
      return { ...base, state: "loading", note: m.loading };
    case "failed":
      return c.retryAt === null
        ? { ...base, state: "failed", note: m.failed }
        : { ...base, state: "loading", note: m.loading };
    case "ready": {
      const f = c.facts;
      const celsius = (v: number | null) => (v === null ? "—" : formatCelsius(v));
      const range = rangeText(f.range, locale);
      const lines = [
        m.required(range),
        m.duration(durationText(locale, f.durationMs)),
        m.span(celsius(f.minC), celsius(f.maxC), celsius(f.meanC)),
        m.readings(f.readingCount),
        ...(f.excursionCount > 0
          ? [m.excursions(f.excursionCount, durationText(locale, f.excursionMs))]
          : []),
        m.issued(formatClock(f.issuedAt, locale)),
      ];
      return {
        state: "ready",
        title: m.title,
        verdict: f.verdict === "ok" ? m.verdictOk : m.verdictExcursion,
        verdictState: f.verdict,
        check:
          f.verified === true ? m.verified : f.verified === false ? m.notVerified : m.unchecked,
        checkState: f.verified === true ? "verified" : f.verified === false ? "failed" : "unknown",
        lines,
        linkLabel: m.open,
        note: "",
      };
    }
  }
}

function ago(locale: Locale, ms: number): string {
  const m = messages(locale);
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? m.secondsAgo(s) : m.minutesAgo(Math.round(s / 60));
}

export function trackingView(state: TrackingState, locale: Locale, localNow: number): TrackingView {
  const m = messages(locale);
  const now = localNow + state.clockSkewMs;
  const courier = state.courier;
  const showCourier = courier !== null && !isTerminal(state.status);
  return {
    title: m.title,
    headline: state.status ? m.headline[state.status] : m.connecting,
    orderLabel: m.orderNo(state.orderId),
    eta: etaCard(state, locale, localNow),
    steps: timelineSteps(state, locale),
    temperature: temperatureBadge(state, locale),
    certificate: certificateCard(state, locale),
    courier: showCourier
      ? {
          lat: courier.lat,
          lng: courier.lng,
          coarse: courier.coarse,
          heading: courier.heading ?? 0,
          at: courier.at,
        }
      : null,
    courierNote: !showCourier
      ? ""
      : courier.coarse
        ? m.courierApproximate
        : courier.at > 0
          ? m.courierUpdated(ago(locale, now - courier.at))
          : "",
    destination: state.destination,
    collectCode:
      state.status === "at_pickup_point" && state.collectCode
        ? m.collectCode(state.collectCode)
        : "",
    banner:
      state.phase === "reconnecting"
        ? m.reconnecting
        : state.phase === "connecting" && state.status === null
          ? m.connecting
          : "",
    expired: state.expired
      ? {
          title: m.expiredTitle,
          reason: m.expiredReason(state.expired.reason),
          hint: m.expiredHint,
        }
      : null,
  };
}
