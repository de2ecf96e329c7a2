/**
 * One webhook delivery: POST the payload to the endpoint, signed afresh on each attempt, and
 * retry with capped exponential back-off and jitter until a 2xx or the attempt limit.
 */
import {
  ATTEMPT_HEADER,
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
} from "./signature.ts";
import type { RetryPolicy, WebhookEndpoint, WebhookPayload } from "./types.ts";

/** The one place retry settings get their defaults. */
export function retryPolicy(policy: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    maxAttempts: policy.maxAttempts ?? 8,
    baseDelayMs: policy.baseDelayMs ?? 1_000,
    maxDelayMs: policy.maxDelayMs ?? 5 * 60_000,
    timeoutMs: policy.timeoutMs ?? 10_000,
  };
}

/**
 * The wait after failed attempt `attempt` (1-based): base × 2^(attempt-1), capped, then
 * jittered to between half and all of it, so endpoints that failed together do not get their
 * retries together.
 */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exponential * (0.5 + 0.5 * random()));
}

export interface DeliveryDeps {
  readonly fetch: typeof fetch;
  readonly clock: () => number;
  readonly random: () => number;
  /** Waits `ms`; resolves early (or rejects) when `signal` aborts. */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export type DeliveryResult =
  | { readonly ok: true; readonly attempts: number; readonly status: number }
  | { readonly ok: false; readonly attempts: number; readonly lastError: string };

/** Waits `ms` on a timer; an abort ends the wait at once. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Delivers `payload` to `endpoint`, retrying per `policy`; stops early when `signal` aborts. */
export async function deliverWebhook(
  endpoint: WebhookEndpoint,
  payload: WebhookPayload,
  policy: RetryPolicy,
  deps: DeliveryDeps,
  signal?: AbortSignal,
): Promise<DeliveryResult> {
  const body = JSON.stringify(payload);
  let lastError = "not attempted";
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    if (signal?.aborted) return { ok: false, attempts: attempt - 1, lastError: "stopped" };
    const timeout = AbortSignal.timeout(policy.timeoutMs);
    try {
      const res = await deps.fetch(endpoint.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json; charset=utf-8",
          "User-Agent": "xianda-webhooks/1",
          [DELIVERY_HEADER]: payload.id,
          [EVENT_HEADER]: payload.type,
          [ATTEMPT_HEADER]: String(attempt),
          [SIGNATURE_HEADER]: signWebhook(endpoint.secret, body, deps.clock()),
        },
        body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        redirect: "manual",
      });
      // The receiver's answer body is not read beyond what frees the connection.
      await res.body?.cancel().catch(() => {});
      if (res.status >= 200 && res.status < 300)
        return { ok: true, attempts: attempt, status: res.status };
      lastError = `HTTP ${res.status}`;
    } catch (err) {
      lastError = timeout.aborted
        ? `no answer within ${policy.timeoutMs} ms`
        : err instanceof Error
          ? `${err.name}: ${err.message}`
          : String(err);
    }
    if (attempt < policy.maxAttempts) {
      await deps.sleep(backoffMs(policy, attempt, deps.random), signal);
    }
  }
  return { ok: false, attempts: policy.maxAttempts, lastError };
}
