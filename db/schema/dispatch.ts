import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { sqlList, timestamptz } from "./common.ts";

export const OFFER_OUTCOMES = ["accepted", "declined", "expired"] as const;
export type OfferOutcome = (typeof OFFER_OUTCOMES)[number];

/** Job offers to couriers. `outcome` is null while the offer is open. */
export const offers = pgTable(
  "offers",
  {
    id: text("id").primaryKey(),
    orderId: text("order_id").notNull(),
    courierId: text("courier_id").notNull(),
    offeredAt: timestamptz("offered_at").notNull(),
    expiresAt: timestamptz("expires_at").notNull(),
    answeredAt: timestamptz("answered_at"),
    outcome: text("outcome", { enum: OFFER_OUTCOMES }),
    declineReason: text("decline_reason"),
  },
  (t) => [
    index("offers_order_idx").on(t.orderId, t.offeredAt),
    index("offers_courier_idx").on(t.courierId, t.offeredAt),
    check(
      "offers_outcome_valid",
      sql`${t.outcome} is null or ${t.outcome} in ${sql.raw(sqlList(OFFER_OUTCOMES))}`,
    ),
    check("offers_expiry_after_offer", sql`${t.expiresAt} >= ${t.offeredAt}`),
    check(
      "offers_decline_reason_only_when_declined",
      sql`${t.declineReason} is null or (${t.outcome} is not null and ${t.outcome} = 'declined')`,
    ),
  ],
);

/**
 * Who carries which order. A row is never deleted: a reassignment releases the old row
 * (`released_at`) and adds a new one, so the history shows every hand-over.
 */
export const assignments = pgTable(
  "assignments",
  {
    /** The id of the event that made the assignment, so that re-projection is idempotent. */
    id: text("id").primaryKey(),
    orderId: text("order_id").notNull(),
    courierId: text("courier_id").notNull(),
    assignedAt: timestamptz("assigned_at").notNull(),
    /** `system` for the dispatch engine, else the dispatcher's id. */
    assignedBy: text("assigned_by").notNull(),
    /** A locked assignment is never re-optimised away by dispatch. */
    locked: boolean("locked").notNull().default(false),
    releasedAt: timestamptz("released_at"),
  },
  (t) => [
    // At most one live assignment per order.
    uniqueIndex("assignments_active_order_uq")
      .on(t.orderId)
      .where(sql`${t.releasedAt} is null`),
    index("assignments_order_idx").on(t.orderId, t.assignedAt),
    index("assignments_courier_idx").on(t.courierId, t.assignedAt),
  ],
);

/** A stop of a courier's route. */
export interface RouteStop {
  readonly orderId: string;
  readonly kind: "pickup" | "dropoff";
  readonly lat: number;
  readonly lng: number;
  /** Predicted arrival, ms since the epoch. */
  readonly eta?: number;
}

/** Every version of every courier's planned route. */
export const routes = pgTable(
  "routes",
  {
    courierId: text("courier_id").notNull(),
    version: integer("version").notNull(),
    stops: jsonb("stops").$type<RouteStop[]>().notNull(),
    at: timestamptz("at").notNull(),
  },
  (t) => [
    primaryKey({ name: "routes_pk", columns: [t.courierId, t.version] }),
    check("routes_version_positive", sql`${t.version} > 0`),
  ],
);
