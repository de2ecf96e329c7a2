import type { CoordSystem } from "../../protocol/live.ts";

export type { CoordSystem, DownFrame, LiveUpFrame, PushFrame } from "../../protocol/live.ts";

/** The order statuses of actors/order (an app may not import actors/, so they are listed here). */
export type OrderStatus =
  | "created"
  | "accepted"
  | "preparing"
  | "ready"
  | "offered"
  | "assigned"
  | "at_store"
  | "picked_up"
  | "at_customer"
  | "at_pickup_point"
  | "delivered"
  | "delivery_failed"
  | "returned"
  | "cancelled";

export type TemperatureClass = "ambient" | "chilled" | "frozen";

export type Locale = "zh-CN" | "en";

export interface LatLng {
  readonly lat: number;
  readonly lng: number;
}

/** The courier's last known position, in the coordinate system the session asked for. */
export interface CourierFix extends LatLng {
  readonly courierId: string;
  readonly at: number;
  /** True before pickup: the gateway sends a coarsened position, drawn as an area. */
  readonly coarse: boolean;
  readonly heading?: number;
}

export interface EtaState {
  readonly leg: "to_store" | "to_customer";
  readonly p50: number;
  readonly p90: number;
  readonly at: number;
}

export interface TemperatureReading {
  readonly celsius: number;
  readonly inRange: boolean;
  readonly at: number;
  readonly compartmentId: string;
}

/**
 * What the van's alerts said about the compartment the order rides in (`alert` frames on the
 * order's channel): an excursion is judged by the vehicle (out of range past its grace period,
 * or a silent sensor), which a single reading out of range is not.
 */
export interface ColdChainAlerts {
  /** A temperature excursion is going on now. */
  readonly excursion: boolean;
  /** The compartment's sensor has gone silent (no data, so nothing can be said). */
  readonly silent: boolean;
  /** An excursion or silence was reported while this page watched (ended or not). */
  readonly seen: boolean;
  /** The latest alert's time, ms. */
  readonly at: number;
}

/** What a tracking screen shows of an order's cold-chain certificate (GET …/certificate). */
export interface CertificateFacts {
  readonly verdict: "ok" | "excursion";
  /** Whether the gateway's check passed (signature, and the readings as stored now); null: not said. */
  readonly verified: boolean | null;
  readonly temperatureClass: "chilled" | "frozen";
  readonly range: { readonly minC: number | null; readonly maxC: number | null };
  readonly handedOffAt: number;
  readonly deliveredAt: number;
  readonly durationMs: number;
  readonly readingCount: number;
  readonly minC: number | null;
  readonly maxC: number | null;
  readonly meanC: number | null;
  readonly excursionCount: number;
  /** How long the excursions lasted inside the window, ms. */
  readonly excursionMs: number;
  readonly issuedAt: number;
}

/**
 * Fetching the certificate after delivery: it is issued a few seconds after it (`pending` retries
 * at `retryAt`); an order that has no cold chain gets none (`none`).
 */
export type CertificateState =
  | { readonly status: "idle" }
  | { readonly status: "loading"; readonly attempts: number }
  | { readonly status: "pending"; readonly attempts: number; readonly retryAt: number }
  | { readonly status: "ready"; readonly facts: CertificateFacts }
  | { readonly status: "none" }
  | {
      readonly status: "failed";
      readonly code: string;
      readonly attempts: number;
      /** null: given up. */
      readonly retryAt: number | null;
    };

/** Why a tracking link no longer works, as the gateway (or the token itself) said. */
export interface LinkExpired {
  readonly reason: string;
  readonly message: string | null;
}

export type ConnectionPhase = "connecting" | "live" | "reconnecting" | "expired" | "stopped";

/** Everything a tracking screen shows, built only from the snapshot and DownFrames. */
export interface TrackingState {
  readonly orderId: string;
  readonly channel: `order:${string}`;
  readonly coord: CoordSystem;
  readonly phase: ConnectionPhase;
  readonly status: OrderStatus | null;
  /** First time each status was reached (server time, ms). */
  readonly reached: Readonly<Partial<Record<OrderStatus, number>>>;
  readonly courier: CourierFix | null;
  readonly eta: EtaState | null;
  readonly temperatureClass: TemperatureClass | null;
  readonly temperature: TemperatureReading | null;
  readonly coldAlerts: ColdChainAlerts | null;
  readonly certificate: CertificateState;
  readonly destination: LatLng | null;
  /** The time promised to the shopper when the order was placed (ms), when known. */
  readonly promisedAt: number | null;
  /** A wave order at its pickup point: the code to show there (from the snapshot). */
  readonly collectCode?: string | null;
  /** Last push offset applied on the channel; sent back on subscribe to resume without gaps. */
  readonly offset: number | null;
  /** Server clock minus local clock, from the welcome frame. */
  readonly clockSkewMs: number;
  readonly expired: LinkExpired | null;
  /** Error frames that were not about the token, newest last (bounded). */
  readonly errors: readonly { readonly code: string; readonly message: string }[];
}

/** The first-paint snapshot, GET /v1/orders/:id/track (fields the page uses; all optional). */
export interface TrackSnapshot {
  readonly status?: string | null;
  readonly courier?: {
    readonly courierId?: string;
    readonly lat: number;
    readonly lng: number;
    readonly at?: number;
    readonly coarse?: boolean;
  } | null;
  readonly eta?: {
    readonly leg?: "to_store" | "to_customer";
    readonly p50: number;
    readonly p90: number;
    readonly at?: number;
  } | null;
  readonly offset?: number | null;
  readonly temperatureClass?: TemperatureClass | null;
  readonly destination?: LatLng | null;
  readonly promisedAt?: number | null;
  readonly collectCode?: string | null;
  readonly timeline?: readonly { readonly status: string; readonly at: number }[] | null;
  /** The order's cold-chain record when the gateway gives it: excursions with `endedAt` null go on. */
  readonly coldChain?: {
    readonly excursions: readonly {
      readonly kind: string;
      readonly detectedAt?: number;
      readonly startedAt?: number;
      readonly endedAt: number | null;
    }[];
  } | null;
}
