/**
 * The console's HTTP calls: the dispatcher's overrides (`/v1/markets/:id/...`), the market's
 * view, a van's temperature readings (`/v1/vehicles/:id/readings`), and the store screen's
 * orders and staff actions (`/v1/stores/:id/...`). A refusal comes back as its stable code,
 * which the screen translates.
 */
import type { VehicleReadings } from "./van-chart.ts";

export type ApiResult<T = unknown> =
  { ok: true; body: T } | { ok: false; status: number; code: string; message: string | null };

export async function call<T = unknown>(
  baseUrl: string,
  token: string,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): Promise<ApiResult<T>> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined
          ? {
              "content-type": "application/json",
              // One click, one command: a retry of this request would be applied once.
              "idempotency-key": `con-${globalThis.crypto.randomUUID()}`,
            }
          : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    return { ok: false, status: 0, code: "network_error", message: null };
  }
  const parsed: unknown = await response.json().catch(() => null);
  if (response.ok) return { ok: true, body: parsed as T };
  const error = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return {
    ok: false,
    status: response.status,
    code: typeof error?.code === "string" ? error.code : `http_${response.status}`,
    message: typeof error?.message === "string" ? error.message : null,
  };
}

const seg = encodeURIComponent;

/** What the store screen lists (`GET /v1/stores/:id/orders`; pickup codes are never in it). */
export interface StoreOrders {
  storeId: string;
  name: string;
  incoming: Array<{
    orderId: string;
    shopOrderId: string;
    placedAt: number;
    promisedAt: number;
    temperatureClass: "ambient" | "chilled" | "frozen";
    itemsSummary: string;
  }>;
  pending: Array<{
    orderId: string;
    shopOrderId: string;
    acceptedAt: number;
    promisedAt: number;
    temperatureClass: "ambient" | "chilled" | "frozen";
    itemsSummary: string;
    readyAt: number;
    preparingAt: number | null;
    readyMarkedAt: number | null;
    courierId: string | null;
  }>;
}

export const storeApi = {
  orders: (base: string, token: string, storeId: string) =>
    call<StoreOrders>(base, token, "GET", `/v1/stores/${seg(storeId)}/orders`),
  act: (
    base: string,
    token: string,
    storeId: string,
    orderId: string,
    action: "accept" | "preparing" | "ready" | "hand-off",
    body: Record<string, unknown> = {},
  ) =>
    call(base, token, "POST", `/v1/stores/${seg(storeId)}/orders/${seg(orderId)}/${action}`, body),
};

export type Override = "reassign" | "lock" | "unlock" | "hold" | "release";

/** A piece of the market actor's view the console reads: holds, locks and assignments. */
export interface MarketView {
  orders: Record<
    string,
    { orderId: string; held: boolean; lockedTo: string | null; promisedBy: number | null }
  >;
  assigned: Record<string, { orderId: string; courierId: string; locked: boolean }>;
  offers: Record<string, { orderId: string; courierId: string }>;
  couriers: Record<
    string,
    {
      courierId: string;
      position: { lat: number; lng: number; at: number } | null;
      /** The refrigerated van the courier drives on this shift. */
      vehicleId?: string | null;
    }
  >;
}

export const vehicleApi = {
  /** A van's compartments over [from, to] (epoch ms); the gateway's default is the last 2 h. */
  readings: (
    base: string,
    token: string,
    vehicleId: string,
    window?: { from: number; to: number },
  ) =>
    call<VehicleReadings>(
      base,
      token,
      "GET",
      `/v1/vehicles/${seg(vehicleId)}/readings${window ? `?from=${window.from}&to=${window.to}` : ""}`,
    ),
};

export const dispatchApi = {
  market: (base: string, token: string, marketId: string) =>
    call<MarketView>(base, token, "GET", `/v1/markets/${seg(marketId)}`),
  override: (
    base: string,
    token: string,
    marketId: string,
    orderId: string,
    action: Override,
    body: { reason: string; courierId?: string },
  ) =>
    call(
      base,
      token,
      "POST",
      `/v1/markets/${seg(marketId)}/orders/${seg(orderId)}/${action}`,
      body,
    ),
  reorder: (
    base: string,
    token: string,
    marketId: string,
    courierId: string,
    body: { reason: string; stops: Array<{ orderId: string; kind: "pickup" | "dropoff" }> },
  ) =>
    call(
      base,
      token,
      "POST",
      `/v1/markets/${seg(marketId)}/couriers/${seg(courierId)}/stops`,
      body,
    ),
};
