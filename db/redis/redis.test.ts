import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectRedis,
  createIdempotencyStore,
  createPresence,
  createRateLimiter,
  IdempotencyKeyNotHeldError,
  RedisConnectError,
  type RedisHandle,
} from "../index.ts";

/** The loopback server the integration tests use. */
const REDIS_URL = "redis://127.0.0.1:6379";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Redis helpers", () => {
  // A prefix of this run only, so parallel runs never see each other's keys.
  const keyPrefix = `xianda_test_${randomBytes(6).toString("hex")}:`;
  let redis: RedisHandle;

  beforeAll(async () => {
    redis = await connectRedis({ url: REDIS_URL, keyPrefix });
  });

  afterAll(async () => {
    const keys: string[] = [];
    for await (const batch of redis.client.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 500 })) {
      keys.push(...batch);
    }
    if (keys.length > 0) await redis.client.unlink(keys);
    await redis.close();
    await redis.close();
  });

  describe("presence", () => {
    it("lists a courier while its mark lasts and forgets it after the TTL", async () => {
      const presence = createPresence(redis);
      await presence.mark("courier", "hangzhou", "c-2", 200);
      await presence.mark("courier", "hangzhou", "c-1", 5_000);
      await presence.mark("courier", "shanghai", "c-9", 5_000);
      expect(await presence.list("courier", "hangzhou")).toEqual(["c-1", "c-2"]);
      expect(await presence.isPresent("courier", "hangzhou", "c-2")).toBe(true);

      await sleep(300);
      expect(await presence.list("courier", "hangzhou")).toEqual(["c-1"]);
      expect(await presence.isPresent("courier", "hangzhou", "c-2")).toBe(false);
      expect(await presence.list("courier", "shanghai")).toEqual(["c-9"]);
    });

    it("keeps a courier present while heartbeats renew the mark", async () => {
      const presence = createPresence(redis);
      for (let i = 0; i < 4; i++) {
        await presence.mark("courier", "suzhou", "c-beat", 200);
        await sleep(100);
      }
      expect(await presence.isPresent("courier", "suzhou", "c-beat")).toBe(true);
    });

    it("ends a mark early on sign-off and keeps kinds apart", async () => {
      const presence = createPresence(redis);
      await presence.mark("gateway", "hangzhou", "gw-1", 5_000);
      await presence.mark("client", "hangzhou", "gw-1", 5_000);
      expect(await presence.remove("gateway", "hangzhou", "gw-1")).toBe(true);
      expect(await presence.remove("gateway", "hangzhou", "gw-1")).toBe(false);
      expect(await presence.list("gateway", "hangzhou")).toEqual([]);
      expect(await presence.list("client", "hangzhou")).toEqual(["gw-1"]);
    });

    it("leaves no key behind once the last mark of a market expires", async () => {
      const presence = createPresence(redis);
      await presence.mark("courier", "ningbo", "c-1", 200);
      await sleep(300);
      expect(await redis.client.exists(`${keyPrefix}presence:courier:ningbo`)).toBe(0);
    });

    it("refuses a TTL that is not a positive number of ms", async () => {
      const presence = createPresence(redis);
      await expect(presence.mark("courier", "hangzhou", "c-1", 0)).rejects.toBeInstanceOf(
        RangeError,
      );
    });
  });

  describe("rate limit", () => {
    it("allows the limit, then refuses, then allows again when the window resets", async () => {
      const limiter = createRateLimiter(redis, { name: "location", limit: 3, windowMs: 300 });
      const first = await limiter.consume("c-1");
      expect(first).toMatchObject({ allowed: true, remaining: 2 });
      expect(first.resetMs).toBeGreaterThan(0);
      expect(first.resetMs).toBeLessThanOrEqual(300);
      expect((await limiter.consume("c-1")).remaining).toBe(1);
      expect(await limiter.consume("c-1")).toMatchObject({ allowed: true, remaining: 0 });

      const refused = await limiter.consume("c-1");
      expect(refused).toMatchObject({ allowed: false, remaining: 0 });
      expect(refused.resetMs).toBeGreaterThan(0);
      // Another key has its own budget.
      expect((await limiter.consume("c-2")).allowed).toBe(true);

      await sleep(refused.resetMs + 50);
      expect(await limiter.consume("c-1")).toMatchObject({ allowed: true, remaining: 2 });
    });

    it("counts a call's cost and takes nothing from a refused call", async () => {
      const limiter = createRateLimiter(redis, { name: "bulk", limit: 10, windowMs: 5_000 });
      expect(await limiter.consume("store-1", 7)).toMatchObject({ allowed: true, remaining: 3 });
      expect(await limiter.consume("store-1", 4)).toMatchObject({ allowed: false, remaining: 3 });
      expect(await limiter.consume("store-1", 3)).toMatchObject({ allowed: true, remaining: 0 });
    });

    it("gives exactly the limit to many concurrent callers", async () => {
      const limiter = createRateLimiter(redis, { name: "burst", limit: 5, windowMs: 5_000 });
      const results = await Promise.all(
        Array.from({ length: 40 }, () => limiter.consume("shopper-1")),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(5);
    });

    it("forgets a key's usage on reset", async () => {
      const limiter = createRateLimiter(redis, { name: "login", limit: 1, windowMs: 5_000 });
      await limiter.consume("d-1");
      expect((await limiter.consume("d-1")).allowed).toBe(false);
      await limiter.reset("d-1");
      expect((await limiter.consume("d-1")).allowed).toBe(true);
    });
  });

  describe("idempotency keys", () => {
    it("replays the stored response to a retry with the same key", async () => {
      const store = createIdempotencyStore(redis, { namespace: "orders" });
      const claim = await store.claim("WX-1001");
      if (claim.status !== "claimed") throw new Error(`expected a claim, got ${claim.status}`);
      expect(await store.claim("WX-1001")).toEqual({ status: "in_progress" });

      const response = { orderId: "o-1", totalFen: 12_845, note: "已接单" };
      await store.complete("WX-1001", claim.token, response);
      expect(await store.claim("WX-1001")).toEqual({ status: "completed", response });
    });

    it("lets exactly one of many concurrent claims from several connections win", async () => {
      // Separate connections, as separate gateway processes would have.
      const others = await Promise.all(
        [1, 2, 3].map(() => connectRedis({ url: REDIS_URL, keyPrefix })),
      );
      try {
        const stores = [redis, ...others].map((h) =>
          createIdempotencyStore(h, { namespace: "race" }),
        );
        const claims = await Promise.all(
          Array.from({ length: 40 }, (_, i) => stores[i % stores.length]!.claim("cmd-42")),
        );
        expect(claims.filter((c) => c.status === "claimed")).toHaveLength(1);
        expect(claims.filter((c) => c.status === "in_progress")).toHaveLength(39);
      } finally {
        for (const other of others) await other.close();
      }
    });

    it("refuses a key reused for a different request", async () => {
      const store = createIdempotencyStore(redis, { namespace: "fp" });
      const claim = await store.claim("k-1", "sha256:aaa");
      expect(claim.status).toBe("claimed");
      expect(await store.claim("k-1", "sha256:bbb")).toEqual({ status: "fingerprint_mismatch" });
      expect(await store.claim("k-1", "sha256:aaa")).toEqual({ status: "in_progress" });
    });

    it("frees the key for a retry when the request fails and is released", async () => {
      const store = createIdempotencyStore(redis, { namespace: "release" });
      const claim = await store.claim("k-1");
      if (claim.status !== "claimed") throw new Error("expected a claim");
      expect(await store.release("k-1", "someone-else")).toBe(false);
      expect(await store.release("k-1", claim.token)).toBe(true);
      expect((await store.claim("k-1")).status).toBe("claimed");
    });

    it("lets a retry take over a claim that expired, and refuses the late completion", async () => {
      const store = createIdempotencyStore(redis, { namespace: "expiry", claimTtlMs: 200 });
      const slow = await store.claim("k-1");
      if (slow.status !== "claimed") throw new Error("expected a claim");
      await sleep(300);
      const retry = await store.claim("k-1");
      expect(retry.status).toBe("claimed");
      const error = await store.complete("k-1", slow.token, { late: true }).catch((e) => e);
      expect(error).toBeInstanceOf(IdempotencyKeyNotHeldError);
    });

    it("forgets a stored response after its TTL", async () => {
      const store = createIdempotencyStore(redis, { namespace: "ttl", responseTtlMs: 200 });
      const claim = await store.claim("k-1");
      if (claim.status !== "claimed") throw new Error("expected a claim");
      await store.complete("k-1", claim.token, "ok");
      expect(await store.claim("k-1")).toEqual({ status: "completed", response: "ok" });
      await sleep(300);
      expect((await store.claim("k-1")).status).toBe("claimed");
    });
  });

  it("reports an unreachable Redis as RedisConnectError", async () => {
    const error = await connectRedis({ url: "redis://127.0.0.1:1", connectTimeoutMs: 1_000 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RedisConnectError);
  });
});
