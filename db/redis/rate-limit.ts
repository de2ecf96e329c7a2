import { luaScript, runScript, type RedisHandle } from "./client.ts";

export interface RateLimitOptions {
  /** Names the limit in its keys, e.g. `courier-location` or `api-login`. */
  name: string;
  /** Units allowed per window. */
  limit: number;
  /** The window length in ms. */
  windowMs: number;
}

export interface RateLimitResult {
  readonly allowed: boolean;
  /** Units still allowed in the current window after this call. */
  readonly remaining: number;
  /** Milliseconds until the window ends and the full limit is available again. */
  readonly resetMs: number;
}

export interface RateLimiter {
  /** Takes `cost` units for `key` if that many are left in the window; otherwise takes none. */
  consume(key: string, cost?: number): Promise<RateLimitResult>;
  /** Forgets `key`'s usage (e.g. after a successful login). */
  reset(key: string): Promise<void>;
}

// A fixed window per key: the first use starts the window (the key's PX expiry), later uses
// count against it. A refused call takes nothing, so hammering does not extend the penalty.
// Fixed windows can let 2 × limit through around a window's edge; for the per-client limits
// this serves (location floods, login attempts) that bound is enough and costs one key.
const CONSUME = luaScript(`
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
local fresh = ttl <= 0
local used = 0
if fresh then
  ttl = window
else
  used = tonumber(redis.call('GET', KEYS[1])) or 0
end
if used + cost > limit then
  return {0, limit - used, ttl}
end
if fresh then
  redis.call('SET', KEYS[1], cost, 'PX', window)
else
  redis.call('INCRBY', KEYS[1], cost)
end
return {1, limit - used - cost, ttl}
`);

function positiveInteger(value: number, what: string): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`${what} must be a positive integer, got ${value}`);
  }
}

export function createRateLimiter(redis: RedisHandle, options: RateLimitOptions): RateLimiter {
  positiveInteger(options.limit, "rate limit");
  positiveInteger(options.windowMs, "rate limit window");
  const key = (k: string) => `${redis.keyPrefix}ratelimit:${options.name}:${k}`;

  return {
    async consume(k, cost = 1) {
      positiveInteger(cost, "rate limit cost");
      const reply = await runScript(
        redis.client,
        CONSUME,
        [key(k)],
        [String(options.limit), String(options.windowMs), String(cost)],
      );
      if (!Array.isArray(reply) || reply.length !== 3) {
        throw new TypeError("rate limit: unexpected reply");
      }
      const [allowed, remaining, resetMs] = reply.map(Number);
      return {
        allowed: allowed === 1,
        remaining: Math.max(0, remaining ?? 0),
        resetMs: resetMs ?? options.windowMs,
      };
    },
    async reset(k) {
      await redis.client.del(key(k));
    },
  };
}
