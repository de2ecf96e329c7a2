import { randomUUID } from "node:crypto";
import { IdempotencyKeyNotHeldError } from "../errors.ts";
import { luaScript, runScript, type RedisHandle } from "./client.ts";

export interface IdempotencyOptions {
  /** Names the key family, e.g. `http` or `store-order`. Default: "default". */
  namespace?: string;
  /**
   * How long a claim holds the key while its request runs. A request that takes longer loses the
   * key, and a retry may then run the request again. Default: 30,000 ms.
   */
  claimTtlMs?: number;
  /** How long a stored response is replayed to retries. Default: 24 h. */
  responseTtlMs?: number;
}

/** The outcome of claiming a key. */
export type IdempotencyClaim =
  /** This caller runs the request and then calls `complete` (or `release` if it failed). */
  | { readonly status: "claimed"; readonly token: string }
  /** Another request with the same key is running now: answer "try again later". */
  | { readonly status: "in_progress" }
  /** The request already ran: replay its response (validate it; it is JSON from Redis). */
  | { readonly status: "completed"; readonly response: unknown }
  /** The key was used for a different request (another fingerprint): refuse the retry. */
  | { readonly status: "fingerprint_mismatch" };

export interface IdempotencyStore {
  /**
   * Claims `key` atomically: exactly one of several concurrent callers gets `claimed`.
   * `fingerprint` (e.g. a hash of the request body) detects a key reused for another request.
   */
  claim(key: string, fingerprint?: string): Promise<IdempotencyClaim>;
  /**
   * Stores the response of a claimed request; retries then get it back.
   * @throws IdempotencyKeyNotHeldError when the claim expired or was released.
   */
  complete(key: string, token: string, response: unknown): Promise<void>;
  /** Gives a claimed key up (the request failed and may be retried). False if not held. */
  release(key: string, token: string): Promise<boolean>;
}

// A hash per key: state (pending | done), token of the claim, fingerprint, response JSON.
const CLAIM = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'state', 'pending', 'token', ARGV[1], 'fp', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'claimed'}
end
local v = redis.call('HMGET', KEYS[1], 'state', 'fp', 'response')
return {v[1] or '', v[2] or '', v[3] or ''}
`);

const COMPLETE = luaScript(`
local v = redis.call('HMGET', KEYS[1], 'state', 'token')
if v[1] ~= 'pending' or v[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'response', ARGV[2])
redis.call('HDEL', KEYS[1], 'token')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`);

const RELEASE = luaScript(`
local v = redis.call('HMGET', KEYS[1], 'state', 'token')
if v[1] ~= 'pending' or v[2] ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`);

export function createIdempotencyStore(
  redis: RedisHandle,
  options: IdempotencyOptions = {},
): IdempotencyStore {
  const namespace = options.namespace ?? "default";
  const claimTtlMs = options.claimTtlMs ?? 30_000;
  const responseTtlMs = options.responseTtlMs ?? 24 * 60 * 60 * 1000;
  const key = (k: string) => `${redis.keyPrefix}idem:${namespace}:${k}`;

  return {
    async claim(k, fingerprint = "") {
      const token = randomUUID();
      const reply = await runScript(
        redis.client,
        CLAIM,
        [key(k)],
        [token, fingerprint, String(claimTtlMs)],
      );
      if (!Array.isArray(reply)) throw new TypeError("idempotency claim: unexpected reply");
      const [state, storedFingerprint, response] = reply.map((v) => (v == null ? "" : String(v)));
      if (state === "claimed") return { status: "claimed", token };
      if (fingerprint !== "" && storedFingerprint !== "" && fingerprint !== storedFingerprint) {
        return { status: "fingerprint_mismatch" };
      }
      if (state === "done") return { status: "completed", response: JSON.parse(response ?? "") };
      return { status: "in_progress" };
    },
    async complete(k, token, response) {
      const json = JSON.stringify(response);
      if (json === undefined)
        throw new TypeError("idempotency: response must be JSON-serialisable");
      const done = await runScript(
        redis.client,
        COMPLETE,
        [key(k)],
        [token, json, String(responseTtlMs)],
      );
      if (done !== 1) throw new IdempotencyKeyNotHeldError(k);
    },
    async release(k, token) {
      return (await runScript(redis.client, RELEASE, [key(k)], [token])) === 1;
    },
  };
}
