/**
 * Webhook signatures: `X-Xianda-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 * The timestamp is signed with the body, so a captured request cannot be replayed later than the
 * receiver's tolerance. Several `v1=` values may appear (during a secret rotation); one match is
 * enough.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "X-Xianda-Signature";
export const DELIVERY_HEADER = "X-Xianda-Delivery";
export const EVENT_HEADER = "X-Xianda-Event";
export const ATTEMPT_HEADER = "X-Xianda-Attempt";

/** Five minutes: how far a signature's time may be from the receiver's clock by default. */
export const DEFAULT_TOLERANCE_S = 300;

function hmac(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

/** The `X-Xianda-Signature` value for `body` sent at `nowMs`. */
export function signWebhook(secret: string, body: string, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${hmac(secret, t, body)}`;
}

/**
 * Whether `header` (the `X-Xianda-Signature` value) signs `body` (the raw request body, exactly
 * as received, before any JSON parsing) with `secret`, at a time within `toleranceS` seconds of
 * `nowMs` (ms since the epoch). Compares in constant time.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  body: string,
  nowMs: number,
  toleranceS: number = DEFAULT_TOLERANCE_S,
): boolean {
  if (!header) return false;
  let t: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t" && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === "v1" && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (t === null || signatures.length === 0) return false;
  if (Math.abs(nowMs / 1000 - t) > toleranceS) return false;
  const expected = Buffer.from(hmac(secret, t, body), "hex");
  return signatures.some((s) => timingSafeEqual(Buffer.from(s, "hex"), expected));
}
