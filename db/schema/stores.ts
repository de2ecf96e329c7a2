import { sql } from "drizzle-orm";
import { boolean, check, doublePrecision, index, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { sqlList, timestamptz } from "./common.ts";

/** Kinds of 社区自提 pickup point: a staffed community point or an unattended parcel locker. */
export const PICKUP_KINDS = ["community_point", "locker"] as const;
export type PickupKind = (typeof PICKUP_KINDS)[number];

/** Opening hours per ISO weekday (1 = Monday), local time of the market, e.g. `"08:00"`. */
export interface OpenHours {
  readonly timeZone: string;
  readonly days: Partial<
    Record<"1" | "2" | "3" | "4" | "5" | "6" | "7", ReadonlyArray<{ open: string; close: string }>>
  >;
}

/**
 * Stores that hand orders to couriers, and the pickup points and lockers that orders can be
 * delivered to instead of a door. Both are places with a location and opening hours.
 */
export const stores = pgTable(
  "stores",
  {
    id: text("id").primaryKey(),
    marketId: text("market_id").notNull(),
    name: text("name").notNull(),
    /** WGS-84 (GCJ-02 is converted at the edge). */
    lat: doublePrecision("lat").notNull(),
    lng: doublePrecision("lng").notNull(),
    address: text("address").notNull(),
    openHours: jsonb("open_hours").$type<OpenHours>(),
    isPickupPoint: boolean("is_pickup_point").notNull().default(false),
    /** Set exactly when `is_pickup_point` is true. */
    pickupKind: text("pickup_kind", { enum: PICKUP_KINDS }),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    index("stores_market_idx").on(t.marketId),
    check("stores_lat_range", sql`${t.lat} between -90 and 90`),
    check("stores_lng_range", sql`${t.lng} between -180 and 180`),
    check(
      "stores_pickup_kind_valid",
      // `is not null` first: a CHECK that evaluates to NULL passes.
      sql`(${t.isPickupPoint} and ${t.pickupKind} is not null and ${t.pickupKind} in ${sql.raw(sqlList(PICKUP_KINDS))})
        or (not ${t.isPickupPoint} and ${t.pickupKind} is null)`,
    ),
  ],
);
