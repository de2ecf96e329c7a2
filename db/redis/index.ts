export { connectRedis, redisOptions } from "./client.ts";
export type { RedisClient, RedisHandle, RedisOptions, ResolvedRedisOptions } from "./client.ts";
export { createPresence } from "./presence.ts";
export type { Presence, PresenceKind, PresenceOptions } from "./presence.ts";
export { createRateLimiter } from "./rate-limit.ts";
export type { RateLimiter, RateLimitOptions, RateLimitResult } from "./rate-limit.ts";
export { createIdempotencyStore } from "./idempotency.ts";
export type { IdempotencyClaim, IdempotencyOptions, IdempotencyStore } from "./idempotency.ts";
