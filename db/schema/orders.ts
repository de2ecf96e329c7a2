import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { TEMPERATURE_CLASSES, sqlList, timestamptz } from "./common.ts";

/** The order lifecycle as projected from the order actor's events. */
export const ORDER_STATUSES = [
  "placed",
  "confirmed",
  "ready",
  "assigned",
  "picked_up",
  "delivered",
  "cancelled",
  "failed",
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * Orders. Money is always integer fen (1 CNY = 100 fen). Shopper personal data is encrypted by
 * the gateway before it reaches this table; the `_enc` columns hold ciphertext as text
 * (`v1.<kid>.<iv>.<ct>.<tag>`, AES-256-GCM bound to the order id and the column; pii/).
 * `npm run pii:rotate` re-encrypts them under the current key.
 */
export const orders = pgTable(
  "orders",
  {
    id: text("id").primaryKey(),
    /** The store's own order number: unique per store, so a shop resubmitting an order is a no-op. */
    shopOrderId: text("shop_order_id").notNull(),
    storeId: text("store_id").notNull(),
    marketId: text("market_id").notNull(),
    status: text("status", { enum: ORDER_STATUSES }).notNull(),
    temperatureClass: text("temperature_class", { enum: TEMPERATURE_CLASSES }).notNull(),
    shopperNameEnc: text("shopper_name_enc"),
    shopperPhoneEnc: text("shopper_phone_enc"),
    shopperAddressEnc: text("shopper_address_enc"),
    /** 门口备注, encrypted like the other `_enc` columns. */
    shopperDoorNoteEnc: text("shopper_door_note_enc"),
    /** WGS-84 drop-off; null when the order goes to a pickup point. */
    dropoffLat: doublePrecision("dropoff_lat"),
    dropoffLng: doublePrecision("dropoff_lng"),
    /** A `stores` row with `is_pickup_point`, for 社区自提 orders. */
    pickupPointId: text("pickup_point_id"),
    goodsFen: integer("goods_fen").notNull(),
    deliveryFeeFen: integer("delivery_fee_fen").notNull(),
    discountFen: integer("discount_fen").notNull().default(0),
    totalFen: integer("total_fen").notNull(),
    placedAt: timestamptz("placed_at").notNull(),
    readyAt: timestamptz("ready_at"),
    promisedAt: timestamptz("promised_at"),
    deliveredAt: timestamptz("delivered_at"),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
    /**
     * The event-stream sequence of the event `status` was last taken from: projectors sharing
     * a consumer may write batches out of order, and an older event never overwrites a newer.
     */
    statusSeq: bigint("status_seq", { mode: "number" }).notNull().default(0),
  },
  (t) => [
    uniqueIndex("orders_store_shop_order_uq").on(t.storeId, t.shopOrderId),
    index("orders_store_status_idx").on(t.storeId, t.status),
    index("orders_market_status_idx").on(t.marketId, t.status),
    index("orders_placed_at_idx").on(t.placedAt),
    check("orders_status_valid", sql`${t.status} in ${sql.raw(sqlList(ORDER_STATUSES))}`),
    check(
      "orders_temperature_class_valid",
      sql`${t.temperatureClass} in ${sql.raw(sqlList(TEMPERATURE_CLASSES))}`,
    ),
    check(
      "orders_amounts_nonnegative",
      sql`${t.goodsFen} >= 0 and ${t.deliveryFeeFen} >= 0 and ${t.discountFen} >= 0 and ${t.totalFen} >= 0`,
    ),
    check(
      "orders_destination_present",
      sql`${t.pickupPointId} is not null or (${t.dropoffLat} is not null and ${t.dropoffLng} is not null)`,
    ),
    check(
      "orders_dropoff_range",
      sql`(${t.dropoffLat} is null or ${t.dropoffLat} between -90 and 90)
        and (${t.dropoffLng} is null or ${t.dropoffLng} between -180 and 180)`,
    ),
  ],
);

/**
 * The order events as projected from the event stream. The projector inserts with
 * `ON CONFLICT (event_id) DO NOTHING`, so replaying the stream never duplicates a row.
 */
export const orderEvents = pgTable(
  "order_events",
  {
    eventId: text("event_id").primaryKey(),
    orderId: text("order_id").notNull(),
    name: text("name").notNull(),
    data: jsonb("data").$type<unknown>().notNull(),
    at: timestamptz("at").notNull(),
    /** The JetStream sequence of the event; the projector resumes after the highest one. */
    streamSeq: bigint("stream_seq", { mode: "number" }).notNull(),
  },
  (t) => [
    index("order_events_order_at_idx").on(t.orderId, t.at),
    index("order_events_stream_seq_idx").on(t.streamSeq),
  ],
);
