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
