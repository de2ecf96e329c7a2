/**
 * The driver app's HTTP calls to the gateway. A refusal comes back as a code the screen
 * translates; the exact body shape is read leniently (`{code}`, `{error: {code}}` or
 * `{refusal: {code}}`) so a message from any layer of the gateway reaches the courier.
 */
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
