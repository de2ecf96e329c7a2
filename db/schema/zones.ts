import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgTable, smallint, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./common.ts";

/** A GeoJSON polygon (RFC 7946): rings of `[lng, lat]` positions, WGS-84. */
export interface GeoJsonPolygon {
  readonly type: "Polygon";
  readonly coordinates: ReadonlyArray<ReadonlyArray<readonly [number, number]>>;
}

/** A delivery zone of a market: its shape, its H3 cover, its fee and promised delivery time. */
export const zones = pgTable(
  "zones",
  {
    id: text("id").primaryKey(),
    marketId: text("market_id").notNull(),
    name: text("name").notNull(),
    polygon: jsonb("polygon").$type<GeoJsonPolygon>().notNull(),
    h3Resolution: smallint("h3_resolution").notNull(),
    /** The H3 cells (at `h3_resolution`) that cover the polygon, as hex strings. */
    h3Cells: text("h3_cells").array().notNull(),
    deliveryFeeFen: integer("delivery_fee_fen").notNull(),
    promisedMinutes: integer("promised_minutes").notNull(),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    index("zones_market_idx").on(t.marketId),
    // "Which zone holds this cell": `h3_cells @> array[cell]`.
    index("zones_h3_cells_idx").using("gin", t.h3Cells),
    check("zones_h3_resolution_range", sql`${t.h3Resolution} between 0 and 15`),
    check("zones_delivery_fee_nonnegative", sql`${t.deliveryFeeFen} >= 0`),
    check("zones_promised_minutes_positive", sql`${t.promisedMinutes} > 0`),
  ],
);
