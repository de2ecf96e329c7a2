/**
 * The driver app's HTTP calls to the gateway. A refusal comes back as a code the screen
 * translates; the exact body shape is read leniently (`{code}`, `{error: {code}}` or
 * `{refusal: {code}}`) so a message from any layer of the gateway reaches the courier.
 */
import type { QueuedAction, SendResult } from "./actions.ts";

export type ShiftResult = { ok: true } | { ok: false; code: string; message: string | null };

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export async function setShift(
  baseUrl: string,
  token: string,
  on: boolean,
  fetchImpl: Fetch = (input, init) => fetch(input, init),
): Promise<ShiftResult> {
  let response: Response;
  try {
    response = await fetchImpl(`${baseUrl}/v1/couriers/me/shift`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${token}`,
        "idempotency-key": randomId(),
      },
      body: JSON.stringify({ on }),
    });
  } catch {
    return { ok: false, code: "network_error", message: null };
  }
  if (response.ok) return { ok: true };
  const body: unknown = await response.json().catch(() => null);
  const refusal = refusalOf(body);
  if (refusal !== null) return { ok: false, ...refusal };
  if (response.status === 401) return { ok: false, code: "unauthorized", message: null };
  if (response.status === 403) return { ok: false, code: "forbidden", message: null };
  return { ok: false, code: `http_${response.status}`, message: null };
}

export function refusalOf(body: unknown): { code: string; message: string | null } | null {
  if (typeof body !== "object" || body === null) return null;
  const record = body as Record<string, unknown>;
  const message = typeof record["message"] === "string" ? record["message"] : null;
  // `{error: "not_on_shift", message: "…"}` (a bare code in `error`) is common at HTTP edges.
  if (typeof record["error"] === "string" && /^[a-z][a-z0-9_]*$/.test(record["error"])) {
    return { code: record["error"], message };
  }
  for (const candidate of [record, record["error"], record["refusal"]]) {
    if (typeof candidate !== "object" || candidate === null) continue;
    const { code, message } = candidate as Record<string, unknown>;
    if (typeof code === "string") {
      return { code, message: typeof message === "string" ? message : null };
    }
  }
  return null;
}

function randomId(): string {
  return (
    globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`
  );
}

/** `GET /v1/couriers/me`: the courier actor's view, or null when it cannot be read now. */
export async function fetchMe(
  baseUrl: string,
  token: string,
  fetchImpl: Fetch = (input, init) => fetch(input, init),
): Promise<unknown> {
  try {
    const response = await fetchImpl(`${baseUrl}/v1/couriers/me`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

/** Statuses worth another attempt later: the action may still succeed. */
const RETRY_STATUSES = new Set([401, 408, 429, 500, 502, 503, 504]);

/**
 * One attempt at a queued action, with its Idempotency-Key. A delivery with a photo taken
 * offline uploads the photo first and reports the ref as progress (the upload is
 * content-addressed: the same bytes again are the same ref).
 */
export async function sendAction(
  baseUrl: string,
  token: string,
  queued: QueuedAction,
  fetchImpl: Fetch = (input, init) => fetch(input, init),
): Promise<SendResult> {
  const { action } = queued;
  const order = encodeURIComponent(action.orderId);
  if (action.kind === "deliver" && action.photo !== undefined && action.photoRef === undefined) {
    const blob = dataUrlBytes(action.photo);
    if (blob === null) return { outcome: "refused", code: "invalid_photo", message: null };
    const upload = await attempt(fetchImpl, `${baseUrl}/v1/couriers/me/orders/${order}/photo`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": blob.type },
      body: blob.bytes,
    });
    if (upload.outcome !== "done") return upload;
    const ref = (upload.body as { photoRef?: unknown } | null)?.photoRef;
    if (typeof ref !== "string") return { outcome: "retry", code: "invalid_answer" };
    return { outcome: "progress", action: { ...action, photoRef: ref } };
  }
  const [path, body] = ((): [string, unknown] => {
    switch (action.kind) {
      case "accept":
        return [`offers/${order}/accept`, {}];
      case "decline":
        return [`offers/${order}/decline`, { reason: action.reason }];
      case "arrived_store":
        return [`orders/${order}/arrived-at-store`, {}];
      case "arrived_customer":
        return [`orders/${order}/arrived-at-customer`, {}];
      case "deliver":
        return [
          `orders/${order}/deliver`,
          {
            ...(action.pin !== undefined ? { pin: action.pin } : {}),
            ...(action.photoRef !== undefined ? { photoRef: action.photoRef } : {}),
          },
        ];
      case "fail":
        return [`orders/${order}/fail`, { reason: action.reason }];
    }
  })();
  const result = await attempt(fetchImpl, `${baseUrl}/v1/couriers/me/${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${token}`,
      "idempotency-key": queued.key,
    },
    body: JSON.stringify(body),
  });
  return result.outcome === "done" ? { outcome: "done" } : result;
}

async function attempt(
  fetchImpl: Fetch,
  url: string,
  init: RequestInit,
): Promise<
  { outcome: "done"; body: unknown } | Exclude<SendResult, { outcome: "done" | "progress" }>
> {
  let response: Response;
  try {
    response = await fetchImpl(url, init);
  } catch {
    return { outcome: "retry", code: "network_error" };
  }
  const body: unknown = await response.json().catch(() => null);
  if (response.ok) return { outcome: "done", body };
  const refusal = refusalOf(body);
  if (RETRY_STATUSES.has(response.status)) {
    return { outcome: "retry", code: refusal?.code ?? `http_${response.status}` };
  }
  return {
    outcome: "refused",
    code: refusal?.code ?? `http_${response.status}`,
    message: refusal?.message ?? null,
  };
}

function dataUrlBytes(dataUrl: string): { type: string; bytes: Uint8Array<ArrayBuffer> } | null {
  const match = /^data:(image\/(?:jpeg|png|webp));base64,(.+)$/.exec(dataUrl);
  if (match === null) return null;
  const binary = atob(match[2]!);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return { type: match[1]!, bytes };
}

/**
 * The shopper's contact as the gateway shows it to the courier: name and phone masked (张*,
 * 138****1234), the address and door note only while the order is the courier's and on its way.
 */
export interface CourierContact {
  name: string;
  phone: string;
  address: string | null;
  doorNote: string | null;
}

/**
 * `GET /v1/couriers/me/orders/:orderId`: the order's contact as this courier may see it; null
 * when there is none, it cannot be read now, or the order is not the courier's.
 */
export async function fetchOrderContact(
  baseUrl: string,
  token: string,
  orderId: string,
  fetchImpl: Fetch = (input, init) => fetch(input, init),
): Promise<CourierContact | null> {
  let body: unknown;
  try {
    const response = await fetchImpl(
      `${baseUrl}/v1/couriers/me/orders/${encodeURIComponent(orderId)}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    if (!response.ok) return null;
    body = await response.json();
  } catch {
    return null;
  }
  const contact = (body as { contact?: unknown } | null)?.contact;
  if (typeof contact !== "object" || contact === null) return null;
  const c = contact as Record<string, unknown>;
  if (typeof c["name"] !== "string" || typeof c["phone"] !== "string") return null;
  const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);
  return {
    name: c["name"],
    phone: c["phone"],
    address: text(c["address"]),
    doorNote: text(c["doorNote"]),
  };
}
