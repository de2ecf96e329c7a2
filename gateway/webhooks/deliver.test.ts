/**
 * Webhook delivery against a real local HTTP server that fails a given number of times: retries,
 * back-off, signatures and delivery ids as a shop's back end sees them. No NATS here.
 */
import { createServer } from "node:http";
import type { IncomingHttpHeaders, Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { backoffMs, deliverWebhook, retryPolicy } from "./deliver.ts";
import type { DeliveryDeps } from "./deliver.ts";
import { signWebhook, verifyWebhookSignature } from "./signature.ts";
import type { WebhookPayload } from "./types.ts";

const SECRET = "whsec-test-0123456789abcdef";
const NOW = 1_763_700_000_000;

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A shop's endpoint: answers `failures` times with `failStatus` (or hangs), then 204. */
async function endpoint(
  failures: number,
  failStatus: number | "hang" = 500,
): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      if (received.length > failures) {
        res.statusCode = 204;
        res.end();
      } else if (failStatus !== "hang") {
        res.statusCode = failStatus;
        res.end("not now");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  servers.push(server);
  return { url: `http://127.0.0.1:${port}/hooks`, received, server };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const payload: WebhookPayload = {
  id: "order.o-1.3.0",
  type: "order.accepted",
  orderId: "o-1",
  storeId: "s-1",
  status: "accepted",
  at: NOW - 1000,
  data: { readyAt: NOW + 600_000, readyAtSource: "stated" },
};

/** Real fetch; a clock that moves a second per call; sleeps recorded, not waited. */
function deps(): DeliveryDeps & { readonly slept: number[] } {
  const slept: number[] = [];
  let now = NOW;
  return {
    slept,
    fetch,
    clock: () => (now += 1000),
    random: () => 0.5,
    sleep: async (ms) => {
      slept.push(ms);
    },
  };
}

describe("deliverWebhook", () => {
  it("retries a failing endpoint until it answers 2xx, with the same delivery id every time", async () => {
    const shop = await endpoint(3);
    const d = deps();
    const result = await deliverWebhook(
      { url: shop.url, secret: SECRET },
      payload,
      retryPolicy({ maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 60_000 }),
      d,
    );
    expect(result).toEqual({ ok: true, attempts: 4, status: 204 });
    expect(shop.received).toHaveLength(4);
    expect(shop.received.map((r) => r.headers["x-xianda-delivery"])).toEqual(
      Array(4).fill("order.o-1.3.0"),
    );
    expect(shop.received.map((r) => r.headers["x-xianda-attempt"])).toEqual(["1", "2", "3", "4"]);
    // Exponential: 1 s, 2 s, 4 s, each at 75 % with this jitter draw.
    expect(d.slept).toEqual([750, 1500, 3000]);
    for (const r of shop.received) {
      expect(JSON.parse(r.body)).toEqual(payload);
      expect(r.headers["content-type"]).toContain("application/json");
      expect(r.headers["x-xianda-event"]).toBe("order.accepted");
      // Signed at the attempt's own time, so a late retry still passes the receiver's tolerance.
      const signature = String(r.headers["x-xianda-signature"]);
      const t = Number(/t=(\d+)/.exec(signature)![1]) * 1000;
      expect(verifyWebhookSignature(SECRET, signature, r.body, t + 5_000)).toBe(true);
    }
  });

  it("gives up after the attempt limit and says why", async () => {
    const shop = await endpoint(100, 503);
    const d = deps();
    const result = await deliverWebhook(
      { url: shop.url, secret: SECRET },
      payload,
      retryPolicy({ maxAttempts: 3, baseDelayMs: 10 }),
      d,
    );
    expect(result).toEqual({ ok: false, attempts: 3, lastError: "HTTP 503" });
    expect(shop.received).toHaveLength(3);
    expect(d.slept).toHaveLength(2);
  });

  it("counts an endpoint that does not answer in time as a failed attempt", async () => {
    const shop = await endpoint(1, "hang");
    const result = await deliverWebhook(
      { url: shop.url, secret: SECRET },
      payload,
      retryPolicy({ maxAttempts: 2, timeoutMs: 200 }),
      deps(),
    );
    expect(result).toEqual({ ok: true, attempts: 2, status: 204 });
  });

  it("counts a refused connection as a failed attempt", async () => {
    const shop = await endpoint(0);
    const url = shop.url;
    shop.server.closeAllConnections();
    await new Promise((r) => shop.server.close(r));
    servers.splice(servers.indexOf(shop.server), 1);
    const result = await deliverWebhook(
      { url, secret: SECRET },
      payload,
      retryPolicy({ maxAttempts: 2 }),
      deps(),
    );
    expect(result.ok).toBe(false);
    expect(result.attempts).toBe(2);
  });

  it("stops between attempts when aborted", async () => {
    const shop = await endpoint(100);
    const abort = new AbortController();
    const d = { ...deps(), sleep: async () => abort.abort() };
    const result = await deliverWebhook(
      { url: shop.url, secret: SECRET },
      payload,
      retryPolicy({ maxAttempts: 5 }),
      d,
      abort.signal,
    );
    expect(result).toEqual({ ok: false, attempts: 1, lastError: "stopped" });
    expect(shop.received).toHaveLength(1);
  });
});

describe("backoffMs", () => {
  it("doubles from the base, caps, and jitters between half and all of it", () => {
    const policy = retryPolicy({ baseDelayMs: 1000, maxDelayMs: 10_000 });
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(policy, n, () => 0.999999))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
    expect([1, 2, 5].map((n) => backoffMs(policy, n, () => 0))).toEqual([500, 1000, 5000]);
  });
});

describe("verifyWebhookSignature", () => {
  const body = JSON.stringify(payload);
  const header = signWebhook(SECRET, body, NOW);

  it("accepts the signature of the body within the tolerance", () => {
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(SECRET, header, body, NOW)).toBe(true);
    expect(verifyWebhookSignature(SECRET, header, body, NOW + 299_000, 300)).toBe(true);
  });

  it("refuses another body, another secret, an old or future time, or a malformed header", () => {
    expect(verifyWebhookSignature(SECRET, header, body.replace("accepted", "cancelled"), NOW)).toBe(
      false,
    );
    expect(verifyWebhookSignature("another-secret-0123456789", header, body, NOW)).toBe(false);
    expect(verifyWebhookSignature(SECRET, header, body, NOW + 301_000, 300)).toBe(false);
    expect(verifyWebhookSignature(SECRET, header, body, NOW - 301_000, 300)).toBe(false);
    expect(verifyWebhookSignature(SECRET, undefined, body, NOW)).toBe(false);
    expect(verifyWebhookSignature(SECRET, "v1=abc", body, NOW)).toBe(false);
    const t = Math.floor(NOW / 1000);
    // The timestamp is signed too: moving it breaks the signature.
    expect(verifyWebhookSignature(SECRET, header.replace(`t=${t}`, `t=${t + 1}`), body, NOW)).toBe(
      false,
    );
  });

  it("accepts any one of several v1 signatures (secret rotation)", () => {
    const old = signWebhook("old-secret-0123456789abc", body, NOW);
    const both = `${header},${old.split(",")[1]}`;
    expect(verifyWebhookSignature(SECRET, both, body, NOW)).toBe(true);
    expect(verifyWebhookSignature("old-secret-0123456789abc", both, body, NOW)).toBe(true);
  });
});
