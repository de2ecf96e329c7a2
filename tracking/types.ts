import type { CourierIndex } from "../geo/index.ts";

/** A courier fix as the gateway publishes it on `loc.courier.<id>` (WGS-84, validated). */
export interface LocationMessage {
  readonly courierId: string;
  readonly marketId: string;
  readonly lat: number;
  readonly lng: number;
  readonly at: number;
  readonly accuracy?: number;
  readonly speed?: number;
  readonly heading?: number;
  readonly receivedAt: number;
}

/** What the tracker knows of an order a courier carries. */
export interface Delivery {
  readonly orderId: string;
  courierId: string | null;
  pickedUp: boolean;
  marketId: string | null;
  pickup: { lat: number; lng: number } | null;
  dropoff: { lat: number; lng: number } | null;
  /** When the last ETA frame was published (ms), to throttle them. */
  lastEtaAt: number;
}

export interface CourierLive {
  marketId: string;
  lat: number;
  lng: number;
  at: number;
  speed?: number;
}

/** Read access for dispatch and benchmarks. */
export interface TrackerView {
  index(marketId: string): CourierIndex | null;
  courier(courierId: string): CourierLive | null;
  readonly updates: number;
}
