/**
 * The cold-chain certificate on a tracking screen: when to ask for it, reading the gateway's
 * answer, and what the card says. Pure, like the session: the H5 page fetches with `fetch`, the
 * mini-program with `wx.request`, and both feed the answer to `certificateAnswered`.
 *
 * The gateway serves the signed document with the readings as stored now and says in
 * `Xianda-Certificate-Verified` whether it still verifies; the screen shows that word, it does
 * not verify by itself (the mini-program has no Ed25519). The printable page says the same.
 */
import type {
  CertificateFacts,
  CertificateState,
  Locale,
  TemperatureClass,
  TrackingState,
} from "./types.ts";

/** The gateway's header: `true` when the served certificate verifies now. */
export const CERTIFICATE_VERIFIED_HEADER = "Xianda-Certificate-Verified";
/** The projector issues a certificate a few seconds after delivery: ask again this often… */
export const CERTIFICATE_RETRY_MS = 3_000;
/** …this many times (about a minute), then say so. */
export const CERTIFICATE_MAX_ATTEMPTS = 20;

export const NO_CERTIFICATE: CertificateState = { status: "idle" };

function encode(value: string): string {
  return encodeURIComponent(value);
}

/** GET with `Authorization: Bearer <token>`. */
export function certificateUrl(origin: string, orderId: string): string {
  return `${origin}/v1/orders/${encode(orderId)}/certificate`;
}

/**
 * The printable page, opened by a link (which cannot send a header): the token goes in the
 * query, as it does in the tracking link itself.
 */
export function printableCertificateUrl(
  origin: string,
  orderId: string,
  token: string,
  locale: Locale,
): string {
  return `${origin}/v1/orders/${encode(orderId)}/certificate.html?lang=${locale}&token=${encode(token)}`;
}

function isCold(cls: TemperatureClass | null): boolean {
  return cls === "chilled" || cls === "frozen";
}

/** Whether to ask for the certificate now: a delivered chilled or frozen order, not asked yet or due again. */
export function certificateDue(state: TrackingState, now: number): boolean {
  if (state.status !== "delivered" || !isCold(state.temperatureClass)) return false;
  if (state.phase === "expired") return false;
  const c = state.certificate;
  switch (c.status) {
    case "idle":
      return true;
    case "pending":
      return c.retryAt <= now;
    case "failed":
      return c.retryAt !== null && c.retryAt <= now;
    default:
      return false;
  }
}

function attemptsOf(c: CertificateState): number {
  return "attempts" in c ? c.attempts : 0;
}

/** The request went out. */
export function certificateRequested(state: TrackingState): TrackingState {
  return {
    ...state,
    certificate: { status: "loading", attempts: attemptsOf(state.certificate) + 1 },
  };
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** The facts the card shows, from the certificate document; null when it is not one. */
export function decodeCertificate(
  body: unknown,
  verifiedHeader: string | null | undefined,
): CertificateFacts | null {
  const doc = record(body);
  const summary = record(doc?.summary);
  const window = record(doc?.window);
  const range = record(record(doc?.compartment)?.range);
  const cls = record(doc?.order)?.temperatureClass;
  if (!doc || !summary || !window || !range || (cls !== "chilled" && cls !== "frozen")) return null;
  const verdict = summary.verdict;
  const handedOffAt = num(window.handedOffAt);
  const deliveredAt = num(window.deliveredAt);
  if (
    (verdict !== "ok" && verdict !== "excursion") ||
    handedOffAt === null ||
    deliveredAt === null
  ) {
    return null;
  }
  const excursions = Array.isArray(summary.excursions) ? (summary.excursions as unknown[]) : [];
  return {
    verdict,
    verified: verifiedHeader === "true" ? true : verifiedHeader === "false" ? false : null,
    temperatureClass: cls,
    range: { minC: num(range.minC), maxC: num(range.maxC) },
    handedOffAt,
    deliveredAt,
    durationMs: num(summary.durationMs) ?? deliveredAt - handedOffAt,
    readingCount: num(summary.readingCount) ?? 0,
    minC: num(summary.minC),
    maxC: num(summary.maxC),
    meanC: num(summary.meanC),
    excursionCount: excursions.length,
    excursionMs: excursions.reduce<number>((sum, e) => sum + (num(record(e)?.durationMs) ?? 0), 0),
    issuedAt: num(doc.issuedAt) ?? deliveredAt,
  };
}

function errorCode(body: unknown): string | null {
  const code = record(record(body)?.error)?.code;
  return typeof code === "string" ? code : null;
}

/**
 * The answer came: `status` 0 for a network failure. 404 `certificate_not_found` after delivery
 * means "not issued yet": ask again shortly; `not_certified` means there will be none.
 */
export function certificateAnswered(
  state: TrackingState,
  status: number,
  body: unknown,
  verifiedHeader: string | null | undefined,
  now: number,
): TrackingState {
  const attempts = attemptsOf(state.certificate);
  const retry = (code: string): CertificateState =>
    attempts >= CERTIFICATE_MAX_ATTEMPTS
      ? { status: "failed", code, attempts, retryAt: null }
      : code === "certificate_not_found"
        ? { status: "pending", attempts, retryAt: now + CERTIFICATE_RETRY_MS }
        : { status: "failed", code, attempts, retryAt: now + CERTIFICATE_RETRY_MS * 3 };
  let certificate: CertificateState;
  if (status === 200) {
    const facts = decodeCertificate(body, verifiedHeader);
    certificate = facts
      ? { status: "ready", facts }
      : { status: "failed", code: "unreadable", attempts, retryAt: null };
  } else if (status === 404) {
    const code = errorCode(body) ?? "not_found";
    certificate =
      code === "not_certified" || code === "unknown_order" ? { status: "none" } : retry(code);
  } else if (status === 401 || status === 403) {
    certificate = {
      status: "failed",
      code: errorCode(body) ?? "forbidden",
      attempts,
      retryAt: null,
    };
  } else {
    certificate = retry(status === 0 ? "network_error" : (errorCode(body) ?? `http_${status}`));
  }
  return { ...state, certificate };
}
