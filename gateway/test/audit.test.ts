/**
 * The audit log end to end: a dispatcher's override through the HTTP API, its event projected
 * into the append-only `audit_log`, read back by an admin on `GET /v1/audit`; nobody else may
 * read it, bad queries get a 400 with the reason, and the database refuses to change an entry.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../test/nats-helpers.ts";
import { startStack } from "../../test/stack.ts";
import type { Stack } from "../../test/stack.ts";

let stack: Stack;
const ORDER = "o-audit-1";
const COURIER = "c-audit-1";

async function get(path: string, token: string) {
  const res = await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  stack = await startStack();
  await stack.assignedOrder({ orderId: ORDER, courierId: COURIER });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe("the audit log", () => {
  it("records a dispatcher's override with who, what, on what and why, for admins to read", async () => {
    const res = await fetch(`${stack.url}/v1/markets/km/orders/${ORDER}/lock`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${await stack.tokens.dispatcher()}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ reason: "老客户指定骑手" }),
    });
    expect(res.status).toBe(200);
    const admin = await stack.tokens.admin();
    type Entry = { action: string; actorRole: string; actorId: string; reason: string | null };
    const entries = await waitFor(
      "the lock in the audit log",
      async () => {
        const page = await get(`/v1/audit?target=order/${ORDER}`, admin);
        const list = (page.body.entries ?? []) as Entry[];
        return list.some((e) => e.action === "order.locked") ? list : null;
      },
      15_000,
      200,
    );
    expect(entries.find((e) => e.action === "order.locked")).toMatchObject({
      actorRole: "dispatcher",
      actorId: "d-1",
      reason: "老客户指定骑手",
      target: `order/${ORDER}`,
      at: expect.stringMatching(/\+08:00$/),
    });
    // Only operators' actions: the courier's and the store's own steps are not audit entries.
    expect(entries.every((e) => e.actorRole === "dispatcher" || e.actorRole === "admin")).toBe(
      true,
    );
    expect((await get(`/v1/audit?actor=${COURIER}`, admin)).body).toEqual({ entries: [] });
  });

  it("is for admins only", async () => {
    for (const token of [
      await stack.tokens.dispatcher(),
      await stack.tokens.courier(COURIER),
      await stack.tokens.store("s-nanping"),
      await stack.tokens.shopper(ORDER),
    ]) {
      expect((await get("/v1/audit", token)).status).toBe(403);
    }
    expect((await fetch(`${stack.url}/v1/audit`)).status).toBe(401);
  });

  it("answers a bad query with 400 and the reason", async () => {
    const admin = await stack.tokens.admin();
    for (const [query, reason] of [
      ["since=yesterday", /since/],
      ["target=o-1", /target/],
      ["limit=0", /limit/],
      ["limit=5000", /limit/],
      ["since=2026-11-22T10:00:00%2B08:00&until=2026-11-22T09:00:00%2B08:00", /before/],
      ["bogus=1", /bogus|unrecognized/i],
    ] as const) {
      const res = await get(`/v1/audit?${query}`, admin);
      expect(res.status, query).toBe(400);
      expect(JSON.stringify(res.body), query).toMatch(reason);
    }
  });

  it("refuses to change or delete an entry in the database", async () => {
    const refusal = async (statement: ReturnType<typeof sql>) => {
      const err = await stack.db.execute(statement).then(
        () => null,
        (e: Error & { cause?: Error }) => e,
      );
      return `${err?.message ?? "applied"} ${err?.cause?.message ?? ""}`;
    };
    expect(await refusal(sql`update audit_log set reason = 'edited'`)).toMatch(/append-only/);
    expect(await refusal(sql`delete from audit_log`)).toMatch(/append-only/);
    expect(
      (await get(`/v1/audit?target=order/${ORDER}`, await stack.tokens.admin())).body.entries,
    ).not.toEqual([]);
  });
});
