import { describe, expect, it } from "vitest";
import { createFallbackRateLimiter, createMemoryRateLimiter } from "../rate-limit.ts";
import type { GatewayRateLimiter } from "../types.ts";

/** A shared limiter that answers, fails or never answers, as told. */
function shared(mode: { now: "ok" | "fail" | "hang" }): GatewayRateLimiter & { calls: number } {
  const limiter = {
    calls: 0,
    consume(_key: string, _cost = 1) {
      limiter.calls++;
      if (mode.now === "fail") return Promise.reject(new Error("ECONNREFUSED"));
      if (mode.now === "hang") return new Promise<never>(() => {});
      return Promise.resolve({ allowed: true, remaining: 99, resetMs: 1000 });
    },
  };
  return limiter;
}

describe("fallback rate limiter", () => {
  it("asks the shared limiter while it answers", async () => {
    const mode = { now: "ok" as const };
    const s = shared(mode);
    const limiter = createFallbackRateLimiter(
      s,
      createMemoryRateLimiter({ limit: 1, windowMs: 1000 }),
    );
    for (let i = 0; i < 3; i++) expect((await limiter.consume("k")).remaining).toBe(99);
    expect(s.calls).toBe(3);
    expect(limiter.failures).toBe(0);
  });

  it("limits locally while the shared one fails, and asks it again after a while", async () => {
    let now = 0;
    const mode: { now: "ok" | "fail" | "hang" } = { now: "fail" };
    const s = shared(mode);
    const errors: unknown[] = [];
    const limiter = createFallbackRateLimiter(
      s,
      createMemoryRateLimiter({ limit: 2, windowMs: 1000, clock: () => now }),
      { retryAfterMs: 500, clock: () => now, onFailure: (e) => errors.push(e) },
    );
    // The local limit holds: two allowed, the third refused, one call to the dead limiter.
    expect((await limiter.consume("k")).allowed).toBe(true);
    expect((await limiter.consume("k")).allowed).toBe(true);
    expect((await limiter.consume("k")).allowed).toBe(false);
    expect(s.calls).toBe(1);
    expect(limiter.degraded).toBe(true);
    expect(errors).toHaveLength(1);
    now = 600;
    mode.now = "ok";
    expect((await limiter.consume("k")).remaining).toBe(99);
    expect(s.calls).toBe(2);
    expect(limiter.degraded).toBe(false);
  });

  it("does not wait for a shared limiter that does not answer", async () => {
    const s = shared({ now: "hang" });
    const limiter = createFallbackRateLimiter(
      s,
      createMemoryRateLimiter({ limit: 5, windowMs: 1000 }),
      { timeoutMs: 30 },
    );
    const t0 = performance.now();
    const answer = await limiter.consume("k", 2);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(answer).toMatchObject({ allowed: true, remaining: 3 });
    expect(limiter.failures).toBe(1);
  });
});
