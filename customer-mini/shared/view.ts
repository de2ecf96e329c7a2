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

export type TemperatureBadgeState = "in_range" | "excursion" | "waiting";

export interface TemperatureBadge {
  readonly state: TemperatureBadgeState;
  /** "冷藏 2.5°C". */
  readonly label: string;
  /** "温度正常" / "温度异常" / "". */
  readonly verdict: string;
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
  readonly courier: CourierMarker | null;
  readonly courierNote: string;
  readonly destination: { readonly lat: number; readonly lng: number } | null;
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
    statuses: ["picked_up", "at_customer"],
    label: (s, l) =>
      s === "at_customer" ? messages(l).step.courierArrived : messages(l).step.delivering,
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

/** The cold-chain badge: shown for chilled and frozen orders and whenever a reading arrived. */
export function temperatureBadge(state: TrackingState, locale: Locale): TemperatureBadge | null {
  const m = messages(locale);
  const cls = state.temperatureClass;
  if (!state.temperature && (cls === null || cls === "ambient")) return null;
  const name = cls === "chilled" || cls === "frozen" ? m.temperatureClass[cls] : m.temperatureCold;
  if (!state.temperature) return { state: "waiting", label: name, verdict: "" };
  const t = state.temperature;
  return {
    state: t.inRange ? "in_range" : "excursion",
    label: `${name} ${formatCelsius(t.celsius)}`,
    verdict: t.inRange ? m.temperatureInRange : m.temperatureExcursion,
  };
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
