import { luaScript, runScript, LUA_NOW_MS, type RedisHandle } from "./client.ts";

/** What can be present: a courier on shift, a gateway process, a connected client. */
export type PresenceKind = "courier" | "gateway" | "client";

export interface PresenceOptions {
  /** How long a mark lasts when `mark` is not given a TTL. Default: 30,000 ms. */
  defaultTtlMs?: number;
}

/**
 * Who is here, per kind and market. A mark lasts its TTL unless renewed (heartbeat); an entry
 * whose TTL has passed is never listed. Expiry is decided by Redis's clock, so hosts with
 * skewed clocks agree.
 */
export interface Presence {
  /** Marks `id` present until `ttlMs` from now. Returns when the mark expires (ms epoch). */
  mark(kind: PresenceKind, marketId: string, id: string, ttlMs?: number): Promise<number>;
  /** The ids present now, sorted. */
  list(kind: PresenceKind, marketId: string): Promise<string[]>;
  isPresent(kind: PresenceKind, marketId: string, id: string): Promise<boolean>;
  /** Ends a mark before its TTL (a clean sign-off). Returns whether `id` was present. */
  remove(kind: PresenceKind, marketId: string, id: string): Promise<boolean>;
}

// One sorted set per kind and market: member = id, score = expiry in ms. The set itself expires
// with its last member, so an emptied market leaves no key behind.
const MARK = luaScript(`${LUA_NOW_MS}
local ttl = tonumber(ARGV[2])
local expires = now + ttl
redis.call('ZADD', KEYS[1], expires, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return expires
`);

const LIST = luaScript(`${LUA_NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], '(' .. now, '+inf', 'BYSCORE')
`);

const IS_PRESENT = luaScript(`${LUA_NOW_MS}
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) > now then return 1 end
return 0
`);

const REMOVE = luaScript(`${LUA_NOW_MS}
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
if score and tonumber(score) > now then return 1 end
return 0
`);

export function createPresence(redis: RedisHandle, options: PresenceOptions = {}): Presence {
  const defaultTtlMs = options.defaultTtlMs ?? 30_000;
  const key = (kind: PresenceKind, marketId: string) =>
    `${redis.keyPrefix}presence:${kind}:${marketId}`;

  return {
    async mark(kind, marketId, id, ttlMs = defaultTtlMs) {
      if (!Number.isInteger(ttlMs) || ttlMs <= 0) {
        throw new RangeError(`presence TTL must be a positive integer of ms, got ${ttlMs}`);
      }
      const reply = await runScript(redis.client, MARK, [key(kind, marketId)], [id, String(ttlMs)]);
      return Number(reply);
    },
    async list(kind, marketId) {
      const reply = await runScript(redis.client, LIST, [key(kind, marketId)], []);
      if (!Array.isArray(reply)) throw new TypeError("presence list: unexpected reply");
      return reply.map(String).sort();
    },
    async isPresent(kind, marketId, id) {
      return (await runScript(redis.client, IS_PRESENT, [key(kind, marketId)], [id])) === 1;
    },
    async remove(kind, marketId, id) {
      return (await runScript(redis.client, REMOVE, [key(kind, marketId)], [id])) === 1;
    },
  };
}
