/**
 * The tracking session as a pure state machine: `apply(state, frame)` → state. The mini-program
 * and the H5 page feed it the snapshot and every DownFrame, and render `trackingView(state)`.
 */
import type {
  ColdChainAlerts,
  CoordSystem,
  CourierFix,
  DownFrame,
  LatLng,
  LinkExpired,
  LiveUpFrame,
  OrderStatus,
  PushFrame,
  TemperatureClass,
  TrackSnapshot,
  TrackingState,
} from "./types.ts";

export const ORDER_STATUSES: readonly OrderStatus[] = [
  "created",
  "accepted",
  "preparing",
  "ready",
  "offered",
  "assigned",
  "at_store",
  "picked_up",
  "at_customer",
  "at_pickup_point",
  "delivered",
  "delivery_failed",
  "returned",
  "cancelled",
];

const TERMINAL: ReadonlySet<OrderStatus> = new Set([
  "delivered",
  "delivery_failed",
  "returned",
  "cancelled",
]);

/** Error codes on the live socket that mean the token will never work again. */
const AUTH_ERROR = /token|auth|forbidden|expired|denied/i;

const MAX_ERRORS = 5;

export function isOrderStatus(value: unknown): value is OrderStatus {
  return typeof value === "string" && (ORDER_STATUSES as readonly string[]).includes(value);
}

export function isTerminal(status: OrderStatus | null): boolean {
  return status !== null && TERMINAL.has(status);
}

export function initialTracking(orderId: string, coord: CoordSystem = "gcj02"): TrackingState {
  return {
    orderId,
    channel: `order:${orderId}`,
    coord,
    phase: "connecting",
    status: null,
    reached: {},
    courier: null,
    eta: null,
    temperatureClass: null,
    temperature: null,
    coldAlerts: null,
    certificate: { status: "idle" },
    destination: null,
    promisedAt: null,
    offset: null,
    clockSkewMs: 0,
    expired: null,
    errors: [],
  };
}

/** The frame to send on every (re)connect: resume after the last offset applied. */
export function subscribeFrame(state: TrackingState): LiveUpFrame {
  return state.offset === null
    ? { type: "subscribe", channel: state.channel }
    : { type: "subscribe", channel: state.channel, offset: state.offset };
}

function isLatLng(value: unknown): value is LatLng {
  if (typeof value !== "object" || value === null) return false;
  const { lat, lng } = value as Record<string, unknown>;
  return (
    typeof lat === "number" &&
    typeof lng === "number" &&
    Number.isFinite(lat) &&
    Number.isFinite(lng) &&
    Math.abs(lat) <= 90 &&
    Math.abs(lng) <= 180
  );
}

function reach(
  reached: TrackingState["reached"],
  status: OrderStatus,
  at: number,
): TrackingState["reached"] {
  const seen = reached[status];
  return seen !== undefined && seen <= at ? reached : { ...reached, [status]: at };
}

function withStatus(state: TrackingState, status: OrderStatus, at: number): TrackingState {
  // A status frame older than the one shown (replayed on resume) fills the timeline but does
  // not move the headline back.
  const latestAt = state.status === null ? -Infinity : (state.reached[state.status] ?? -Infinity);
  const reached = reach(state.reached, status, at);
  const current = at >= latestAt || state.status === null ? status : state.status;
  return { ...state, status: current, reached };
}

/** Fold the first-paint snapshot in; frames later on the socket win over it. */
export function applySnapshot(state: TrackingState, snapshot: TrackSnapshot): TrackingState {
  let next = state;
  for (const entry of snapshot.timeline ?? []) {
    if (isOrderStatus(entry.status)) next = withStatus(next, entry.status, entry.at);
  }
  // The snapshot's status is current as of the request, even when its time is not known.
  if (isOrderStatus(snapshot.status)) next = { ...next, status: snapshot.status };
  const c = snapshot.courier;
  if (c && isLatLng(c) && next.courier === null) {
    next = {
      ...next,
      courier: {
        courierId: c.courierId ?? "",
        lat: c.lat,
        lng: c.lng,
        at: c.at ?? 0,
        coarse: c.coarse ?? false,
      },
    };
  }
  const eta = snapshot.eta;
  if (eta && typeof eta.p50 === "number" && typeof eta.p90 === "number" && next.eta === null) {
    next = {
      ...next,
      eta: { leg: eta.leg ?? "to_customer", p50: eta.p50, p90: eta.p90, at: eta.at ?? 0 },
    };
  }
  if (snapshot.temperatureClass) next = { ...next, temperatureClass: snapshot.temperatureClass };
  if (snapshot.collectCode) next = { ...next, collectCode: snapshot.collectCode };
  // A page opened during an excursion learns of it from the order's record; alerts on the
  // socket (which come after the snapshot's offset) win over it.
  const excursions = snapshot.coldChain?.excursions ?? [];
  if (excursions.length > 0 && next.coldAlerts === null) {
    const open = excursions.filter((e) => e.endedAt === null);
    next = {
      ...next,
      coldAlerts: {
        excursion: open.some((e) => e.kind === "temperature"),
        silent: open.some((e) => e.kind === "sensor_silent"),
        seen: true,
        at: Math.max(...excursions.map((e) => e.endedAt ?? e.detectedAt ?? e.startedAt ?? 0)),
      },
    };
  }
  if (isLatLng(snapshot.destination)) {
    next = {
      ...next,
      destination: { lat: snapshot.destination.lat, lng: snapshot.destination.lng },
    };
  }
  if (typeof snapshot.promisedAt === "number") next = { ...next, promisedAt: snapshot.promisedAt };
  if (
    typeof snapshot.offset === "number" &&
    (next.offset === null || snapshot.offset > next.offset)
  ) {
    next = { ...next, offset: snapshot.offset };
  }
  return next;
}

function applyPush(state: TrackingState, frame: PushFrame): TrackingState {
  switch (frame.kind) {
    case "courier": {
      if (state.courier && state.courier.at > frame.at) return state;
      const courier: CourierFix = {
        courierId: frame.courierId,
        lat: frame.lat,
        lng: frame.lng,
        at: frame.at,
        coarse: frame.coarse ?? false,
        ...(frame.heading === undefined ? {} : { heading: frame.heading }),
      };
      return { ...state, courier };
    }
    case "eta":
      if (frame.orderId !== state.orderId) return state;
      if (state.eta && state.eta.at > frame.at) return state;
      return { ...state, eta: { leg: frame.leg, p50: frame.p50, p90: frame.p90, at: frame.at } };
    case "status":
      if (frame.orderId !== state.orderId || !isOrderStatus(frame.status)) return state;
      return withStatus(state, frame.status, frame.at);
    case "temperature": {
      if (frame.orderId !== undefined && frame.orderId !== state.orderId) return state;
      if (state.temperature && state.temperature.at > frame.at) return state;
      return {
        ...state,
        temperature: {
          celsius: frame.celsius,
          inRange: frame.inRange,
          at: frame.at,
          compartmentId: frame.compartmentId,
        },
      };
    }
    case "alert": {
      const next = coldAlert(state.coldAlerts, frame.code, frame.at);
      return next === null ? state : { ...state, coldAlerts: next };
    }
    case "couriers":
    case "order":
    case "offer":
    case "work":
    case "wave_route":
    case "wave_plan":
      // Market frames and a courier's own work are for the console and the driver app; a
      // shopper's channel does not carry them.
      return state;
  }
}

/**
 * The van's cold-chain alerts about the order's compartment (tracking/cold-chain.ts): an
 * excursion or a silent sensor starts (`temperature_excursion`, `sensor_silent`) and ends
 * (`…_ended`). Other alert codes are not the shopper's business: null.
 */
export function coldAlert(
  known: ColdChainAlerts | null,
  code: string,
  at: number,
): ColdChainAlerts | null {
  const now = known ?? { excursion: false, silent: false, seen: false, at: 0 };
  switch (code) {
    case "temperature_excursion":
      return { ...now, excursion: true, seen: true, at };
    case "temperature_excursion_ended":
      return { ...now, excursion: false, at };
    case "sensor_silent":
      return { ...now, silent: true, seen: true, at };
    case "sensor_silent_ended":
      return { ...now, silent: false, at };
    default:
      return null;
  }
}

/**
 * Apply one DownFrame. `localNow` is the device clock when it arrived (for the skew estimate).
 * Push frames at or below the offset already applied are duplicates from a resume: ignored.
 */
export function applyDownFrame(
  state: TrackingState,
  frame: DownFrame,
  localNow: number,
): TrackingState {
  if (state.phase === "expired" || state.phase === "stopped") return state;
  switch (frame.type) {
    case "welcome":
      return { ...state, clockSkewMs: frame.now - localNow };
    case "subscribed":
      if (frame.channel !== state.channel) return state;
      return {
        ...state,
        phase: "live",
        offset: state.offset === null ? frame.offset : Math.max(state.offset, frame.offset),
      };
    case "push": {
      if (frame.channel !== state.channel) return state;
      if (state.offset !== null && frame.offset <= state.offset) return state;
      return { ...applyPush(state, frame.frame), offset: frame.offset };
    }
    case "error": {
      if (AUTH_ERROR.test(frame.code)) {
        return expire(state, { reason: frame.code, message: frame.message });
      }
      const errors = [...state.errors, { code: frame.code, message: frame.message }];
      return { ...state, errors: errors.slice(-MAX_ERRORS) };
    }
    case "pong":
      return { ...state, clockSkewMs: frame.now - localNow };
    case "location_ack":
    case "temperature_ack":
      return state;
  }
}

export function expire(state: TrackingState, expired: LinkExpired): TrackingState {
  return { ...state, phase: "expired", expired };
}

/** The socket dropped: keep everything shown, say that we are reconnecting. */
export function disconnected(state: TrackingState): TrackingState {
  if (state.phase === "expired" || state.phase === "stopped") return state;
  return { ...state, phase: "reconnecting" };
}

export function stopped(state: TrackingState): TrackingState {
  return state.phase === "expired" ? state : { ...state, phase: "stopped" };
}

export function withTemperatureClass(
  state: TrackingState,
  temperatureClass: TemperatureClass,
): TrackingState {
  return { ...state, temperatureClass };
}

export function withDestination(state: TrackingState, destination: LatLng): TrackingState {
  return { ...state, destination };
}

// --- wire decoding --------------------------------------------------------------------------

const DOWN_TYPES: ReadonlySet<string> = new Set([
  "welcome",
  "push",
  "subscribed",
  "error",
  "pong",
  "location_ack",
  "temperature_ack",
]);

const PUSH_KINDS: ReadonlySet<string> = new Set([
  "courier",
  "eta",
  "status",
  "temperature",
  "couriers",
  "alert",
]);

/**
 * Parse a text frame from /ws/live. A structural check rather than protocol/'s zod schemas: the
 * gateway validated every frame it sends, and the mini-program runs without a bundler, so its
 * code cannot carry zod. What does not look like a DownFrame is dropped (null).
 */
export function decodeDownFrame(text: string): DownFrame | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const frame = value as Record<string, unknown>;
  if (typeof frame.type !== "string" || !DOWN_TYPES.has(frame.type)) return null;
  switch (frame.type) {
    case "push": {
      const push = frame.frame as Record<string, unknown> | null | undefined;
      if (typeof frame.channel !== "string" || typeof frame.offset !== "number") return null;
      if (typeof push !== "object" || push === null || typeof push.kind !== "string") return null;
      if (!PUSH_KINDS.has(push.kind)) return null;
      if ((push.kind === "courier" || push.kind === "temperature") && typeof push.at !== "number") {
        return null;
      }
      if (push.kind === "courier" && !isLatLng(push)) return null;
      if (push.kind === "eta" && (typeof push.p50 !== "number" || typeof push.p90 !== "number")) {
        return null;
      }
      if (push.kind === "status" && typeof push.status !== "string") return null;
      if (push.kind === "temperature" && typeof push.celsius !== "number") return null;
      if (push.kind === "alert" && (typeof push.code !== "string" || typeof push.at !== "number")) {
        return null;
      }
      break;
    }
    case "subscribed":
      if (typeof frame.channel !== "string" || typeof frame.offset !== "number") return null;
      break;
    case "welcome":
    case "pong":
      if (typeof frame.now !== "number") return null;
      break;
    case "error":
      if (typeof frame.code !== "string") return null;
      if (typeof frame.message !== "string") frame.message = "";
      break;
  }
  return frame as unknown as DownFrame;
}

/** Read the JSON body of GET /v1/orders/:id/track into the fields the page uses. */
export function decodeSnapshot(body: unknown): TrackSnapshot | null {
  if (typeof body !== "object" || body === null) return null;
  const raw = body as Record<string, unknown>;
  const destination = isLatLng(raw.destination)
    ? raw.destination
    : isLatLng(raw.dropoff)
      ? raw.dropoff
      : isLatLng((raw.dropoff as Record<string, unknown> | undefined)?.location)
        ? ((raw.dropoff as Record<string, unknown>).location as LatLng)
        : null;
  const tc = raw.temperatureClass;
  const timeline = Array.isArray(raw.timeline)
    ? (raw.timeline as unknown[]).filter(
        (e): e is { status: string; at: number } =>
          typeof e === "object" &&
          e !== null &&
          typeof (e as Record<string, unknown>).status === "string" &&
          typeof (e as Record<string, unknown>).at === "number",
      )
    : null;
  const courier = isLatLng(raw.courier) ? (raw.courier as TrackSnapshot["courier"]) : null;
  const eta =
    typeof raw.eta === "object" &&
    raw.eta !== null &&
    typeof (raw.eta as Record<string, unknown>).p50 === "number" &&
    typeof (raw.eta as Record<string, unknown>).p90 === "number"
      ? (raw.eta as TrackSnapshot["eta"])
      : null;
  const coldChain = decodeColdChain(raw.coldChain);
  return {
    status: typeof raw.status === "string" ? raw.status : null,
    ...(coldChain ? { coldChain } : {}),
    courier,
    eta,
    offset: typeof raw.offset === "number" ? raw.offset : null,
    temperatureClass: tc === "chilled" || tc === "frozen" || tc === "ambient" ? tc : null,
    destination,
    promisedAt: typeof raw.promisedAt === "number" ? raw.promisedAt : null,
    collectCode: typeof raw.collectCode === "string" ? raw.collectCode : null,
    timeline,
  };
}

function decodeColdChain(value: unknown): TrackSnapshot["coldChain"] {
  if (typeof value !== "object" || value === null) return null;
  const list = (value as Record<string, unknown>).excursions;
  if (!Array.isArray(list)) return null;
  const excursions = list.flatMap((e: unknown) => {
    if (typeof e !== "object" || e === null) return [];
    const x = e as Record<string, unknown>;
    if (typeof x.kind !== "string") return [];
    const endedAt = typeof x.endedAt === "number" ? x.endedAt : null;
    return [
      {
        kind: x.kind,
        endedAt,
        ...(typeof x.startedAt === "number" ? { startedAt: x.startedAt } : {}),
        ...(typeof x.detectedAt === "number" ? { detectedAt: x.detectedAt } : {}),
      },
    ];
  });
  return { excursions };
}
