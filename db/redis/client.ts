import { createHash } from "node:crypto";
import { createClient, ErrorReply, type RedisClientType } from "redis";
import { RedisConnectError } from "../errors.ts";

/** How to reach Redis. Every field is optional; see `redisOptions` for defaults. */
export interface RedisOptions {
  /** Default: "redis://127.0.0.1:6379". */
  url?: string;
  /**
   * Prepended to every key the helpers write, so several deployments (or test files) can share
   * one Redis. Default: "xianda:".
   */
  keyPrefix?: string;
  /** Milliseconds to wait for the TCP connection. Default: 5,000. */
  connectTimeoutMs?: number;
  /** Cap of the reconnect back-off after a connection is lost. Default: 5,000 ms. */
  maxReconnectDelayMs?: number;
  /**
   * Told about connection errors after the first connect (the client reconnects on its own and
   * commands issued meanwhile fail with their own errors). Default: ignore.
   */
  onError?: (error: Error) => void;
  /**
   * Fail commands at once while the connection is down, instead of queueing them until it is
   * back (a caller with a fallback wants to know now). Default false.
   */
  disableOfflineQueue?: boolean;
}

export type ResolvedRedisOptions = Required<RedisOptions>;

/** The one place where Redis options get their defaults. */
export function redisOptions(options: RedisOptions = {}): ResolvedRedisOptions {
  return {
    url: options.url ?? "redis://127.0.0.1:6379",
    keyPrefix: options.keyPrefix ?? "xianda:",
    connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    maxReconnectDelayMs: options.maxReconnectDelayMs ?? 5_000,
    onError: options.onError ?? (() => {}),
    disableOfflineQueue: options.disableOfflineQueue ?? false,
  };
}

export type RedisClient = RedisClientType;

export interface RedisHandle {
  readonly client: RedisClient;
  readonly keyPrefix: string;
  /** Sends QUIT after pending commands finish. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Connects to Redis. A failure to connect the first time is reported, not retried; once
 * connected, a lost connection is re-established with capped exponential back-off.
 * @throws RedisConnectError when Redis cannot be reached.
 */
export async function connectRedis(options: RedisOptions = {}): Promise<RedisHandle> {
  const resolved = redisOptions(options);
  let connected = false;
  const client = createClient({
    url: resolved.url,
    disableOfflineQueue: resolved.disableOfflineQueue,
    socket: {
      connectTimeout: resolved.connectTimeoutMs,
      reconnectStrategy: (retries, cause) =>
        connected ? Math.min(50 * 2 ** retries, resolved.maxReconnectDelayMs) : cause,
    },
  });
  // Without a listener an 'error' event would crash the process.
  client.on("error", (error: Error) => {
    if (connected) resolved.onError(error);
  });
  try {
    await client.connect();
  } catch (cause) {
    client.destroy();
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new RedisConnectError(`cannot connect to Redis at ${resolved.url}: ${message}`, {
      cause,
    });
  }
  connected = true;
  let closed = false;
  return {
    client,
    keyPrefix: resolved.keyPrefix,
    async close() {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
}

/** A Lua script run by its SHA1, sent in full only when Redis has not cached it yet. */
export interface LuaScript {
  readonly source: string;
  readonly sha1: string;
}

export function luaScript(source: string): LuaScript {
  return { source, sha1: createHash("sha1").update(source).digest("hex") };
}

export async function runScript(
  client: RedisClient,
  script: LuaScript,
  keys: string[],
  args: string[],
): Promise<unknown> {
  try {
    return await client.evalSha(script.sha1, { keys, arguments: args });
  } catch (error) {
    if (error instanceof ErrorReply && error.message.startsWith("NOSCRIPT")) {
      return client.eval(script.source, { keys, arguments: args });
    }
    throw error;
  }
}

/** Redis's own clock in ms, read inside a script so that every caller agrees on "now". */
export const LUA_NOW_MS = `
local __t = redis.call('TIME')
local now = tonumber(__t[1]) * 1000 + math.floor(tonumber(__t[2]) / 1000)
`;
