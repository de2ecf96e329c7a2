import type { GatewayRateLimiter } from "./types.ts";

export interface MemoryRateLimiterOptions {
  /** Units allowed per window. */
  limit: number;
  /** The window length in ms. */
  windowMs: number;
  /** ms clock. Default Date.now. */
  clock?: () => number;
}

/**
 * A fixed-window limiter in this process's memory, for the demo and tests. It is NOT shared
 * between processes: behind a load balancer each gateway would allow the full limit, so
 * production passes db/redis `createRateLimiter` instead. Same semantics as the Redis one: a
 * refused call takes nothing.
 */
export function createMemoryRateLimiter(options: MemoryRateLimiterOptions): GatewayRateLimiter & {
  readonly size: number;
} {
  if (!Number.isInteger(options.limit) || options.limit <= 0) {
    throw new RangeError(`rate limit must be a positive integer, got ${options.limit}`);
  }
  if (!Number.isInteger(options.windowMs) || options.windowMs <= 0) {
    throw new RangeError(`rate limit window must be a positive integer, got ${options.windowMs}`);
  }
  const clock = options.clock ?? Date.now;
  const windows = new Map<string, { start: number; used: number }>();
  let lastSweep = clock();
  return {
    get size() {
      return windows.size;
    },
    async consume(key, cost = 1) {
      const now = clock();
      // Forget finished windows now and then, so idle keys do not pile up.
      if (now - lastSweep > options.windowMs * 10) {
        for (const [k, w] of windows) if (now - w.start >= options.windowMs) windows.delete(k);
        lastSweep = now;
      }
      let w = windows.get(key);
      if (!w || now - w.start >= options.windowMs) {
        w = { start: now, used: 0 };
        windows.set(key, w);
      }
      const resetMs = w.start + options.windowMs - now;
      if (w.used + cost > options.limit) {
        return { allowed: false, remaining: options.limit - w.used, resetMs };
      }
      w.used += cost;
      return { allowed: true, remaining: options.limit - w.used, resetMs };
    },
  };
}

export interface FallbackRateLimiterOptions {
  /** How long to wait for the shared limiter before using the local one (ms). Default 150. */
  timeoutMs?: number;
  /** After a failure, the shared limiter is not asked again for this long (ms). Default 1000. */
  retryAfterMs?: number;
  /** Told about each failure of the shared limiter (log it; it is already counted). */
  onFailure?: (err: unknown) => void;
  clock?: () => number;
}

/**
 * The shared limiter (Redis) with a local one behind it: when Redis is down or slow, each
 * gateway keeps limiting on its own (allowing at most the full limit per process) instead of
 * holding every location fix until Redis returns, and tries Redis again after `retryAfterMs`.
 * Rate limits are a guard, not a record: a short outage may let a client send a few times its
 * limit across gateways, never stop the couriers' positions or the shops' orders.
 */
export function createFallbackRateLimiter(
  shared: GatewayRateLimiter,
  local: GatewayRateLimiter,
  options: FallbackRateLimiterOptions = {},
): GatewayRateLimiter & { readonly failures: number; readonly degraded: boolean } {
  const timeoutMs = options.timeoutMs ?? 150;
  const retryAfterMs = options.retryAfterMs ?? 1000;
  const clock = options.clock ?? Date.now;
  let failures = 0;
  let skipUntil = 0;
  return {
    get failures() {
      return failures;
    },
    get degraded() {
      return clock() < skipUntil;
    },
    async consume(key, cost = 1) {
      if (clock() >= skipUntil) {
        let timer: NodeJS.Timeout | undefined;
        try {
          return await Promise.race([
            shared.consume(key, cost),
            new Promise<never>((_, reject) => {
              timer = setTimeout(
                () => reject(new Error(`shared rate limiter: no answer in ${timeoutMs} ms`)),
                timeoutMs,
              );
            }),
          ]);
        } catch (err) {
          failures++;
          skipUntil = clock() + retryAfterMs;
          options.onFailure?.(err);
        } finally {
          clearTimeout(timer);
        }
      }
      return local.consume(key, cost);
    },
  };
}
