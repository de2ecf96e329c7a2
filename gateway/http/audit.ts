/**
 * The audit log, queried: every action a dispatcher or an admin took that changed something
 * (the projector writes one entry per event their commands caused, from the EVT stream into the
 * append-only `audit_log`), with who, what, on what, when and why.
 *
 *   GET /v1/audit?target=order/o-1&actor=d-1&since=…&until=…&limit=100   admins
 *
 * Oldest first; `since`/`until` are ISO 8601 date-times with a zone (times come back in
 * Asia/Shanghai). Entries never change: a correction is a new action with its own entry.
 */
import { Hono } from "hono";
import { z } from "zod";
import { toShanghaiIso } from "../../coldchain/index.ts";
import { listAudit } from "../../db/index.ts";
import { ApiError } from "../errors.ts";
import { authenticated } from "./commands.ts";
import { requireRole } from "./context.ts";
import type { Env, HttpDeps } from "./context.ts";
import type { RouteSpec } from "./spec.ts";

const AUDIT_ROLES = ["admin"] as const;
const MAX_LIMIT = 1000;

export const AuditQuery = z.strictObject({
  target: z
    .string()
    .regex(/^[a-z]+\/[A-Za-z0-9_-]{1,128}$/, "an actor ref such as order/o-123")
    .optional()
    .describe("the thing acted on, `<type>/<id>`"),
  actor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,128}$/, "an id")
    .optional()
    .describe("the dispatcher's or admin's id"),
  since: z.iso.datetime({ offset: true }).optional().describe("ISO 8601 with zone, inclusive"),
  until: z.iso.datetime({ offset: true }).optional().describe("ISO 8601 with zone, exclusive"),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_LIMIT)
    .optional()
    .describe(`at most this many (default 100, at most ${MAX_LIMIT})`),
});

export const AuditEntryView = z.object({
  at: z.string().describe("Asia/Shanghai, ISO 8601"),
  actorRole: z.enum(["dispatcher", "admin"]),
  actorId: z.string(),
  action: z.string().describe("`<actor type>.<event>`, e.g. `market.order_held`"),
  target: z.string(),
  reason: z.string().nullable(),
  data: z.unknown(),
});
export const AuditPage = z.object({ entries: z.array(AuditEntryView) });

export function auditRoutes(deps: HttpDeps): Hono<Env> {
  const app = new Hono<Env>();
  app.get("/v1/audit", authenticated(deps), async (c) => {
    requireRole(c, AUDIT_ROLES);
    const query = AuditQuery.safeParse(c.req.query());
    if (!query.success) {
      const issue = query.error.issues[0]!;
      throw new ApiError(400, "invalid_param", `${issue.path.join(".")}: ${issue.message}`);
    }
    const db = deps.coldChain?.db;
    if (!db) throw new ApiError(503, "unavailable", "no history database on this gateway");
    const q = query.data;
    const since = q.since ? new Date(q.since) : undefined;
    const until = q.until ? new Date(q.until) : undefined;
    if (since && until && since >= until) {
      throw new ApiError(400, "invalid_param", "since must be before until");
    }
    const rows = await listAudit(db, {
      ...(q.target ? { target: q.target } : {}),
      ...(q.actor ? { actorId: q.actor } : {}),
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      limit: q.limit ?? 100,
    });
    return c.json({
      entries: rows.map((r) => ({
        at: toShanghaiIso(r.at.getTime()),
        actorRole: r.actorRole,
        actorId: r.actorId,
        action: r.action,
        target: r.target,
        reason: r.reason,
        data: r.data,
      })),
    });
  });
  return app;
}

export const AUDIT_ROUTES: readonly RouteSpec[] = [
  {
    method: "get",
    path: "/v1/audit",
    operationId: "listAudit",
    summary: "The audit log: what dispatchers and admins did, to what, when and why",
    description:
      "One entry per change a dispatcher's or admin's command made (holds, locks, reassignments, overrides, wave edits, contact reveals …), oldest first. Append-only: the database refuses UPDATE and DELETE.",
    tag: "dispatch",
    roles: AUDIT_ROLES,
    query: AuditQuery,
    responses: { 200: { description: "the matching entries", schema: AuditPage } },
    errors: [400, 401, 403, 503],
  },
];
