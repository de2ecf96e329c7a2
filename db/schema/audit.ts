import { sql } from "drizzle-orm";
import { bigserial, check, index, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { PRINCIPAL_ROLES, sqlList, timestamptz } from "./common.ts";

/**
 * Who did what to what, and why: every dispatcher action and every override. Append-only: a
 * trigger (migration `0001_audit_append_only`) refuses UPDATE and DELETE.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamptz("at").notNull().defaultNow(),
    actorRole: text("actor_role", { enum: PRINCIPAL_ROLES }).notNull(),
    actorId: text("actor_id").notNull(),
    /** e.g. `order.reassign`, `route.reorder`, `order.lock`. */
    action: text("action").notNull(),
    /** The thing acted on, as an actor ref: `order/o-123`. */
    target: text("target").notNull(),
    reason: text("reason"),
    data: jsonb("data").$type<unknown>(),
    /** Set when the entry is projected from an event, so that re-projection adds no duplicate. */
    eventId: text("event_id").unique("audit_log_event_id_uq"),
  },
  (t) => [
    index("audit_log_target_at_idx").on(t.target, t.at),
    index("audit_log_actor_at_idx").on(t.actorId, t.at),
    index("audit_log_at_idx").on(t.at),
    check(
      "audit_log_actor_role_valid",
      sql`${t.actorRole} in ${sql.raw(sqlList(PRINCIPAL_ROLES))}`,
    ),
  ],
);
